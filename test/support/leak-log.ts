// The leak log of an integration run: every child process output runNode captured, and
// every secret the tests registered, checked against each other once the whole
// integration project is done (its globalSetup teardown), so that a secret of one test
// showing up in any child's output, of any test, earlier or later, fails the run.
//
// - startLeakLog() (globalSetup) makes a fresh folder test/.tmp/leak-log/run-*/ and
//   provides it to the integration project's workers (inject('leakLogDir')); other
//   projects get nothing, so their tests log nothing.
// - recordOutput() (runNode) and registerSecret(s)() (expectNoSecrets, or a test) append
//   JSON lines to a file of their own process: no interleaving between workers.
// - checkLeakLog() / assertNoLeaks() (teardown) search every output for every secret in
//   all the forms of expectNoSecrets (secretForms: raw, JSON-escaped, base64 at any
//   offset, hex, ...).
//
// One output is a deliberate disclosure and is not searched: the stdout of a child run
// with `--show` (`kms-secrets decrypt --show` prints the plaintext by request); its
// stderr still is. The log holds test secrets in clear: it is removed when the check
// passes, and kept (gitignored) for inspection when it fails.

import { randomUUID } from 'node:crypto'
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { expect, inject } from 'vitest'
import { type Secret, secretForms } from './secret-forms.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The leak log folder of this run (integration project only). */
    leakLogDir?: string
  }
}

type Entry =
  | { type: 'secret'; text?: string; bytes?: string }
  | { type: 'output'; label: string; stream: 'stdout' | 'stderr'; text: string; disclosed: boolean }

/** Creates a fresh log folder under `root` (older runs removed) and returns it. */
export function startLeakLog(root: string): string {
  rmSync(root, { recursive: true, force: true })
  // Unique even when called twice in the same millisecond by the same process.
  const dir = join(root, `run-${Date.now()}-${process.pid}-${randomUUID().slice(0, 8)}`)
  mkdirSync(dir, { recursive: true })
  return dir
}

/** The log folder of this run, inside an integration test; undefined anywhere else. */
function logDir(): string | undefined {
  try {
    return inject('leakLogDir')
  } catch {
    return undefined // outside a test worker
  }
}

function append(dir: string, entry: Entry): void {
  appendFileSync(join(dir, `${process.pid}-${threadId}.jsonl`), `${JSON.stringify(entry)}\n`)
}

const registered = new Set<string>()

/** Adds a secret to the run's registry (no-op outside the integration project). */
export function registerSecret(secret: Secret, dir = logDir()): void {
  if (dir === undefined) return
  const entry: Entry =
    typeof secret === 'string'
      ? { type: 'secret', text: secret }
      : { type: 'secret', bytes: Buffer.from(secret).toString('base64') }
  const key = `${dir}\n${JSON.stringify(entry)}`
  if (registered.has(key)) return
  registered.add(key)
  append(dir, entry)
}

export function registerSecrets(secrets: readonly Secret[], dir = logDir()): void {
  for (const secret of secrets) registerSecret(secret, dir)
}

/** The current test, to name an output in a hit. */
function currentTest(): string {
  try {
    const { testPath, currentTestName } = expect.getState()
    return `${testPath?.replace(/^.*\/test\//, 'test/') ?? '?'} > ${currentTestName ?? '?'}`
  } catch {
    return '?'
  }
}

export interface ChildOutput {
  /** What ran: script and arguments (arguments never hold secrets: the CLI refuses them). */
  command: string
  args: readonly string[]
  stdout: string
  stderr: string
}

/** Appends one child's output to the run's log (no-op outside the integration project). */
export function recordOutput(output: ChildOutput, dir = logDir()): void {
  if (dir === undefined) return
  const label = `${currentTest()}: ${[output.command, ...output.args].join(' ')}`
  const disclosed = output.args.includes('--show')
  for (const stream of ['stdout', 'stderr'] as const) {
    const text = output[stream]
    if (text !== '') {
      append(dir, {
        type: 'output',
        label,
        stream,
        text,
        disclosed: disclosed && stream === 'stdout',
      })
    }
  }
}

export interface LeakReport {
  dir: string
  outputs: number
  characters: number
  secrets: number
  /** Skipped deliberate disclosures (stdout of `--show`). */
  disclosed: number
  /** One line per hit: which output, which secret (by index) and in which form; never the secret. */
  hits: string[]
}

/** Searches every logged output for every registered secret. */
export function checkLeakLog(dir: string): LeakReport {
  const secrets = new Map<string, Secret>()
  const outputs: Extract<Entry, { type: 'output' }>[] = []
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line === '') continue
      const entry = JSON.parse(line) as Entry
      if (entry.type === 'output') outputs.push(entry)
      else if (entry.text !== undefined) secrets.set(`t:${entry.text}`, entry.text)
      else if (entry.bytes !== undefined) {
        secrets.set(`b:${entry.bytes}`, Buffer.from(entry.bytes, 'base64'))
      }
    }
  }
  const all = [...secrets.values()]
  const report: LeakReport = {
    dir,
    outputs: outputs.length,
    characters: 0,
    secrets: all.length,
    disclosed: 0,
    hits: [],
  }
  const forms = all.map((secret) => secretForms(secret))
  for (const output of outputs) {
    if (output.disclosed) {
      report.disclosed += 1
      continue
    }
    report.characters += output.text.length
    forms.forEach((needles, index) => {
      // The first form found, as expectNoSecrets reports it: index, form, offset only.
      const found = needles.find(([, needle]) => output.text.includes(needle))
      if (found) {
        const at = output.text.indexOf(found[1])
        report.hits.push(
          `${output.label} (${output.stream}): secret #${index} leaked (${found[0]}) at offset ${at} of a ${output.text.length}-character output`,
        )
      }
    })
  }
  return report
}

/** checkLeakLog, throwing on any hit (the log is then kept); removes the log when clean. */
export function assertNoLeaks(dir: string): LeakReport {
  const report = checkLeakLog(dir)
  if (report.hits.length > 0) {
    const shown = report.hits.slice(0, 20).join('\n  ')
    const more = report.hits.length > 20 ? `\n  ... and ${report.hits.length - 20} more` : ''
    throw new Error(
      `leak check: ${report.hits.length} secret(s) found in child process output (log kept in ${dir}):\n  ${shown}${more}`,
    )
  }
  rmSync(dir, { recursive: true, force: true })
  return report
}
