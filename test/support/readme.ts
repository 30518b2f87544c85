// The README's fenced code blocks, for the tests that run them as written: the TypeScript
// examples (typechecked under strict), the CLI's shell blocks (run against moto) and, by
// section, any other block a test wants to execute.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './child.ts'

export interface ReadmeBlock {
  /** The fence's language: ts, sh, text, yaml... */
  lang: string
  /** The nearest heading above the block, without its #s. */
  section: string
  /** 1-based line of the opening fence. */
  line: number
  code: string
}

/** Every fenced block of a markdown text, in order. */
export function codeBlocks(markdown: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = []
  let section = ''
  let open: { lang: string; line: number; lines: string[] } | undefined
  markdown.split('\n').forEach((text, index) => {
    if (open) {
      if (/^```\s*$/.test(text)) {
        blocks.push({
          lang: open.lang,
          section,
          line: open.line,
          code: `${open.lines.join('\n')}\n`,
        })
        open = undefined
      } else open.lines.push(text)
      return
    }
    const fence = /^```(\S*)/.exec(text)
    if (fence) open = { lang: fence[1] ?? '', line: index + 1, lines: [] }
    else if (/^#{1,6} /.test(text)) section = text.replace(/^#+ /, '').trim()
  })
  return blocks
}

/** The README's blocks of one language, optionally only those under a heading starting with `section`. */
export function readmeBlocks(lang: string, section?: string): ReadmeBlock[] {
  const markdown = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  return codeBlocks(markdown).filter(
    (block) => block.lang === lang && (section === undefined || block.section.startsWith(section)),
  )
}

/** The packages of the `npm install ...` lines of a shell block (a comment starts at ` #`, as in sh). */
export function installedPackages(block: ReadmeBlock): string[] {
  return block.code
    .split('\n')
    .filter((line) => /^npm (install|i) /.test(line))
    .flatMap((line) => (line.split(/\s#/)[0] as string).split(/\s+/).slice(2))
    .filter((word) => word !== '' && !word.startsWith('-'))
}

/** The `npm install ...` lines of the README's Install section, with the packages of each. */
export function installLines(): { line: string; packages: string[] }[] {
  return readmeBlocks('sh', 'Install').flatMap((block) =>
    block.code
      .split('\n')
      .filter((line) => /^npm (install|i) /.test(line))
      .map((line) => ({ line, packages: installedPackages({ ...block, code: line }) })),
  )
}

/**
 * The esbuild flags of the README's "Bundling for Lambda" commands, by the comment line
 * above each command (e.g. `# middy-kms-secrets/lite: plain flags`); --outfile left out.
 */
export function bundlingCommands(): { comment: string; flags: string[] }[] {
  const commands: { comment: string; flags: string[] }[] = []
  let comment = ''
  for (const line of readmeBlocks('sh', 'Bundling for Lambda').flatMap((block) =>
    block.code.split('\n'),
  )) {
    if (line.startsWith('#')) comment = line
    else if (/^npx esbuild /.test(line)) {
      const flags = line.split(/\s+/).filter((word) => word.startsWith('--'))
      commands.push({ comment, flags: flags.filter((flag) => !flag.startsWith('--outfile=')) })
    }
  }
  return commands
}
