// The Markdown tables of the bench report and the demo's drill, laid out by markdown-table.

import { markdownTable } from 'markdown-table'

/** First column left, the others right, unless `align` says otherwise. */
export const table = (head: string[], rows: string[][], align?: ('left' | 'right')[]) =>
  markdownTable([head, ...rows], {
    align: head.map((_, i) => ((align?.[i] ?? (i ? 'right' : 'left')) === 'left' ? 'l' : 'r')),
  })
