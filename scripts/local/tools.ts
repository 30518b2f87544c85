// The one locator for the external tools this project runs: moto_server, aws, cfn-lint (Python,
// from pipx or pyenv) and what aws-lambda-ric's first build needs. Dev tooling, never bundled.
// Lookup order: PATH, $PYENV_ROOT/shims, $HOME/.pyenv/shims.
//   node scripts/local/tools.ts --path             the folders of the tools found, for PATH
//   node scripts/local/tools.ts --check            found ones on stdout, missing ones on stderr (exit 1)

import { accessSync, constants, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'

const RIC = "(aws-lambda-ric's first build, for npm start and npm run invoke, needs it)"
const apt = (name: string) => `your system's packages, e.g. apt-get install ${name} ${RIC}`
/** Each tool and how to install it. */
export const TOOLS = {
  moto_server: 'pipx install "moto[server]"',
  aws: 'pipx install awscli',
  'cfn-lint': 'pipx install cfn-lint',
  cmake: apt('cmake'),
  make: apt('make'),
  'c++': apt('g++'),
  python3: apt('python3'),
} as const

export type Tool = keyof typeof TOOLS

export const toolNotFoundMessage = (tool: Tool): string =>
  `${tool} not found on PATH or in pyenv's shims: install it with ${TOOLS[tool]}`

export class ToolNotFoundError extends Error {
  override name = 'ToolNotFoundError'
  constructor(tool: Tool) {
    super(toolNotFoundMessage(tool))
  }
}

export interface LookupOptions {
  /** PATH, PYENV_ROOT and HOME for the lookup. Default process.env (and os.homedir()). */
  lookupEnv?: NodeJS.ProcessEnv
}

export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** Where the tool is, or undefined. */
export function findTool(tool: Tool, options: LookupOptions = {}): string | undefined {
  const env = options.lookupEnv ?? process.env
  const home = env.HOME ?? (options.lookupEnv ? undefined : homedir())
  // `pyenv root` would print $PYENV_ROOT, else ~/.pyenv: both are looked in, no process needed.
  const roots = [env.PYENV_ROOT, home && join(home, '.pyenv')].map(
    (root) => root && join(root, 'shims'),
  )
  const dirs = [...(env.PATH ?? '').split(delimiter), ...roots]
  return dirs.flatMap((dir) => (dir ? [join(dir, tool)] : [])).find(isExecutableFile)
}

/** Where the tool is; throws ToolNotFoundError (one line) otherwise. */
export function requireTool(tool: Tool, options: LookupOptions = {}): string {
  const found = findTool(tool, options)
  if (!found) throw new ToolNotFoundError(tool)
  return found
}

/** The command at the top of this file; returns the exit code. */
export function toolsCommand(
  args: readonly string[],
  io: { out: (line: string) => void; err: (line: string) => void },
  options: LookupOptions = {},
): number {
  const [mode, ...rest] = args
  if (rest.length > 0 || (mode !== '--path' && mode !== '--check')) {
    io.err('usage: tools.ts --path | --check')
    return 2
  }
  const found = (Object.keys(TOOLS) as Tool[]).map(
    (tool) => [tool, findTool(tool, options)] as const,
  )
  if (mode === '--path') {
    io.out([...new Set(found.flatMap(([, path]) => (path ? [dirname(path)] : [])))].join(delimiter))
    return 0
  }
  for (const [tool, path] of found) {
    if (path) io.out(`found ${tool}: ${path}`)
    else io.err(toolNotFoundMessage(tool))
  }
  return found.every(([, path]) => path) ? 0 : 1
}

if (import.meta.main) {
  process.exitCode = toolsCommand(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  })
}
