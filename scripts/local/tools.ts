// The one locator for the external tools this project runs: moto_server, aws, cfn-lint
// (all Python, from pipx or pyenv), and what the first build of aws-lambda-ric needs (cmake,
// make, a C++ compiler, python3: once per machine, for npm start and npm run invoke). Used by
// the tests, the demo, the benchmarks, scripts/node24.sh and .ci/run. Dev tooling, never
// bundled into a function.
//
// Lookup order: PATH, $PYENV_ROOT/shims, `pyenv root`/shims, $HOME/.pyenv/shims.
//
// As a command (Node >= 24):
//   node scripts/local/tools.ts --path                 the folders to append to PATH (found tools only)
//   node scripts/local/tools.ts --check [TOOL...]      one line per tool found (stdout), per tool
//                                                      missing (stderr, then exit 1); default: all

import { execFileSync } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'

/** Each tool and how to install it. */
const RIC = "(aws-lambda-ric's first build, for npm start and npm run invoke, needs it)"
export const TOOLS = {
  moto_server: 'pipx install "moto[server]"',
  aws: 'pipx install awscli',
  'cfn-lint': 'pipx install cfn-lint',
  cmake: `your system's packages, e.g. apt-get install cmake ${RIC}`,
  make: `your system's packages, e.g. apt-get install make ${RIC}`,
  'c++': `your system's packages, e.g. apt-get install g++ ${RIC}`,
  python3: `your system's packages, e.g. apt-get install python3 ${RIC}`,
} as const

export type Tool = keyof typeof TOOLS

/** The one line that says which tool is missing and how to get it. */
export const toolNotFoundMessage = (tool: Tool): string =>
  `${tool} not found on PATH or in pyenv's shims: install it with ${TOOLS[tool]}`

export class ToolNotFoundError extends Error {
  readonly tool: Tool
  constructor(tool: Tool) {
    super(toolNotFoundMessage(tool))
    this.name = 'ToolNotFoundError'
    this.tool = tool
  }
}

export interface LookupOptions {
  /** Environment used for the lookup (PATH, PYENV_ROOT, HOME). Default process.env (and os.homedir()). */
  lookupEnv?: NodeJS.ProcessEnv
}

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

const pathDirs = (env: NodeJS.ProcessEnv) => (env.PATH ?? '').split(delimiter).filter(Boolean)

/** `pyenv root`, when a pyenv executable is on PATH, in $PYENV_ROOT/bin or ~/.pyenv/bin. */
function pyenvRoot(env: NodeJS.ProcessEnv, home: string | undefined): string | undefined {
  const candidates = pathDirs(env).map((dir) => join(dir, 'pyenv'))
  if (env.PYENV_ROOT) candidates.push(join(env.PYENV_ROOT, 'bin', 'pyenv'))
  if (home) candidates.push(join(home, '.pyenv', 'bin', 'pyenv'))
  const pyenv = candidates.find(isExecutableFile)
  if (!pyenv) return undefined
  try {
    const root = execFileSync(pyenv, ['root'], {
      env: { ...env, PATH: env.PATH ?? '/usr/bin:/bin' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    }).trim()
    return root || undefined
  } catch {
    return undefined
  }
}

/** Where the tool is, or undefined. */
export function findTool(tool: Tool, options: LookupOptions = {}): string | undefined {
  const env = options.lookupEnv ?? process.env
  const home = env.HOME ?? (options.lookupEnv ? undefined : homedir())
  const dirs = pathDirs(env)
  if (env.PYENV_ROOT) dirs.push(join(env.PYENV_ROOT, 'shims'))
  const hit = dirs.map((dir) => join(dir, tool)).find(isExecutableFile)
  if (hit) return hit
  // Only now ask pyenv itself (a process), then the default pyenv folder.
  const root = pyenvRoot(env, home)
  const later = [root, home && join(home, '.pyenv')].filter((dir): dir is string => !!dir)
  return later.map((dir) => join(dir, 'shims', tool)).find(isExecutableFile)
}

/** Where the tool is; throws ToolNotFoundError (one line) otherwise. */
export function requireTool(tool: Tool, options: LookupOptions = {}): string {
  const found = findTool(tool, options)
  if (!found) throw new ToolNotFoundError(tool)
  return found
}

const isTool = (name: string): name is Tool => Object.hasOwn(TOOLS, name)

/** The command: see the top of this file. Returns the exit code. */
export function toolsCommand(
  args: readonly string[],
  io: { out: (line: string) => void; err: (line: string) => void },
  options: LookupOptions = {},
): number {
  const [mode, ...names] = args
  const tools = names.length > 0 ? names : Object.keys(TOOLS)
  const unknown = tools.filter((name) => !isTool(name))
  if ((mode !== '--path' && mode !== '--check') || unknown.length > 0) {
    io.err(`usage: tools.ts --path | --check [${Object.keys(TOOLS).join(' ')}]`)
    return 2
  }
  const found = (tools as Tool[]).map((tool) => [tool, findTool(tool, options)] as const)
  if (mode === '--path') {
    const dirs = new Set(found.flatMap(([, path]) => (path ? [dirname(path)] : [])))
    io.out([...dirs].join(delimiter))
    return 0
  }
  for (const [tool, path] of found) if (path) io.out(`found ${tool}: ${path}`)
  const missing = found.filter(([, path]) => !path)
  for (const [tool] of missing) io.err(toolNotFoundMessage(tool))
  return missing.length > 0 ? 1 : 0
}

if (import.meta.main) {
  process.exitCode = toolsCommand(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  })
}
