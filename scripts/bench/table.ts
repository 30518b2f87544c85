// The Markdown tables of the bench report and the demo's drill, laid out by markdown-table the
// way the repo's formatter (biome) writes them: columns at least 3 wide, numbers right-aligned.

import { markdownTable } from 'markdown-table'

/** First column left, the others right, unless `align` says otherwise. */
export const table = (head: string[], rows: string[][], align?: ('left' | 'right')[]) => {
  const left = head.map((_, i) => (align?.[i] ?? (i ? 'right' : 'left')) === 'left')
  const wide = head.map((cell, i) => (left[i] ? cell.padEnd(3) : cell.padStart(3)))
  return markdownTable([wide, ...rows], { align: left.map((l) => (l ? '' : 'r')) })
}
