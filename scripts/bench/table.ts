// The bench report's Markdown tables, for report.ts and the phases that render their own.

/**
 * A Markdown table laid out the way the repo's formatter (biome) writes it: cells padded
 * to the column's width, numbers right-aligned. First column left, the others right,
 * unless `align` says otherwise.
 */
export const table = (head: string[], rows: string[][], align?: ('left' | 'right')[]) => {
  const width = (text: string) => [...text].length
  const sideOf = (i: number) => align?.[i] ?? (i === 0 ? 'left' : 'right')
  const widths = head.map((_, i) =>
    Math.max(3, ...[head, ...rows].map((row) => width(row[i] ?? ''))),
  )
  const pad = (text: string, i: number) => {
    const fill = ' '.repeat((widths[i] as number) - width(text))
    return sideOf(i) === 'left' ? text + fill : fill + text
  }
  const line = (row: string[]) => `| ${head.map((_, i) => pad(row[i] ?? '', i)).join(' | ')} |`
  const rule = head.map((_, i) =>
    sideOf(i) === 'left'
      ? '-'.repeat(widths[i] as number)
      : `${'-'.repeat((widths[i] as number) - 1)}:`,
  )
  return [line(head), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n')
}
