// Runs a fresh Node process (the same Node binary as the tests: process.execPath),
// e.g. one Lambda cold start that imports the BUILT package as `middy-kms-secrets`.
//
// The child's environment is built from a minimal base (PATH, HOME) plus what the
// caller passes: it never inherits the parent's AWS credentials, profile, region,
// endpoint or retry settings, nor NODE_OPTIONS.

import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childEnv } from '../../scripts/local/aws-env.ts'
import { recordOutput } from './leak-log.ts'

/** Root of the repository (where package.json lives). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * Scratch folder for generated scripts (gitignored: `test/.tmp/`). Scripts placed
 * here resolve `import 'middy-kms-secrets'` to the built package (dist/) through
 * the package's self-reference.
 */
export const TMP_DIR = join(REPO_ROOT, 'test', '.tmp')

export interface RunNodeOptions {
  /** Added to the minimal base environment (PATH, HOME). `undefined` values remove a variable. */
  env?: Record<string, string | undefined>
  /** Killed after this many ms; the result then has `timedOut: true`. Default 30 000. */
  timeoutMs?: number
  /** The signal of that kill. Default SIGKILL; SIGINT lets the child clean up as on Ctrl-C. */
  killSignal?: NodeJS.Signals
  /** Working directory. Default the repository root. */
  cwd?: string
  /** Extra arguments after the script. */
  args?: string[]
  /** Extra Node flags before the script (e.g. `--expose-gc`). */
  nodeArgs?: string[]
  /** Written to the child's stdin, which is then closed. */
  input?: string
}

export interface RunNodeResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON (whole output, else its last non-empty line), if it is JSON. */
  json?: unknown
  timedOut: boolean
  durationMs: number
}

function parseJson(stdout: string): unknown {
  const text = stdout.trim()
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    const last = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .pop()
    if (last === undefined) return undefined
    try {
      return JSON.parse(last)
    } catch {
      return undefined
    }
  }
}

function looksLikeScriptPath(value: string): boolean {
  return !/\n/.test(value) && /\.(?:m?js|cjs|m?ts|cts)$/.test(value.trim())
}

/**
 * Runs `scriptOrCode` in a fresh Node process. A path to an existing .js/.mjs/.ts
 * file (absolute, or relative to the repo root) is run as is; anything else is
 * ES module source, written to a temporary .mjs file under test/.tmp/ (so that
 * `import ... from 'middy-kms-secrets'` resolves to dist/) and removed afterwards.
 * Never rejects because the child failed: inspect `code`, `stderr`, `timedOut`.
 */
export async function runNode(
  scriptOrCode: string,
  options: RunNodeOptions = {},
): Promise<RunNodeResult> {
  let script: string
  let temporary: string | undefined
  const asPath = isAbsolute(scriptOrCode) ? scriptOrCode : resolve(REPO_ROOT, scriptOrCode)
  if (looksLikeScriptPath(scriptOrCode) && existsSync(asPath)) {
    script = asPath
  } else {
    mkdirSync(TMP_DIR, { recursive: true })
    temporary = join(TMP_DIR, `child-${randomUUID()}.mjs`)
    writeFileSync(temporary, scriptOrCode)
    script = temporary
  }

  const env = childEnv(options.env)
  const timeoutMs = options.timeoutMs ?? 30_000
  const started = performance.now()
  try {
    return await new Promise<RunNodeResult>((resolvePromise, reject) => {
      const child = spawn(
        process.execPath,
        [...(options.nodeArgs ?? []), script, ...(options.args ?? [])],
        {
          cwd: options.cwd ?? REPO_ROOT,
          env,
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      )
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
      child.stdin.on('error', () => {})
      child.stdin.end(options.input ?? '')
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        child.kill(options.killSignal ?? 'SIGKILL')
      }, timeoutMs)
      child.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
      child.once('close', (code, signal) => {
        clearTimeout(timer)
        const out = Buffer.concat(stdout).toString('utf8')
        const result: RunNodeResult = {
          code,
          signal,
          stdout: out,
          stderr: Buffer.concat(stderr).toString('utf8'),
          timedOut,
          durationMs: performance.now() - started,
        }
        const json = parseJson(out)
        if (json !== undefined) result.json = json
        // For the leak check of the whole integration run (test/support/leak-log.ts).
        recordOutput({
          command: temporary ? 'inline script' : relative(REPO_ROOT, script),
          args: options.args ?? [],
          stdout: result.stdout,
          stderr: result.stderr,
        })
        resolvePromise(result)
      })
    })
  } finally {
    if (temporary) rmSync(temporary, { force: true })
  }
}
