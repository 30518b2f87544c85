// Every child process of the benchmark goes through `spawnNode`: tracked, so that an error or
// Ctrl-C kills them all, and its stderr kept for the error message. The workers (load, warm,
// log-cost, burst) speak one IPC protocol: an optional 'ready' (the parent runs onReady and
// answers 'go'), then one 'result' or 'error'. Always the running Node (process.execPath).

import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process'
import { basename } from 'node:path'

const live = new Set<ChildProcess>()

/** Kills the children still running (by their handle, nothing else). */
export const killChildren = (): void => {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

export interface Spawned {
  child: ChildProcess
  /** The last 4 KB of its stderr. */
  stderr: () => string
  /** Its exit code, or the signal that ended it. */
  exited: Promise<number | string | null>
}

/** `node args` with stdout to /dev/null (a synchronous write, as the log-cost worker wants). */
export const spawnNode = (
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  {
    cwd,
    ipc = false,
    timeoutMs = 300_000,
  }: { cwd?: string; ipc?: boolean; timeoutMs?: number } = {},
): Spawned => {
  const stdio: StdioOptions = ['ignore', 'ignore', 'pipe', ...(ipc ? ['ipc' as const] : [])]
  const child: ChildProcess = spawn(process.execPath, args, { cwd, env, stdio })
  live.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('error', (error) => {
      stderr += error.message
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      live.delete(child)
      resolve(code ?? signal)
    })
  })
  return { child, stderr: () => stderr, exited }
}

export interface Message {
  type: 'ready' | 'result' | 'error'
  message?: string
  [key: string]: unknown
}

/** Runs a worker script to its 'result' message; rejects with its error and stderr. */
export const runWorker = async (
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  onReady: () => void = () => {},
): Promise<Message> => {
  const { child, stderr, exited } = spawnNode([script, ...args], env, { ipc: true })
  let result: Message | undefined
  child.on('message', (message: Message) => {
    if (message.type !== 'ready') result = message
    else {
      onReady()
      child.send('go')
    }
  })
  const code = await exited
  if (result?.type === 'result') return result
  const why = result?.message ?? `exit ${code}`
  throw new Error(`${basename(script)} ${args.join(' ')}: ${why}\n${stderr().trim()}`)
}

/**
 * The worker's side: exits 2 with the usage line unless the arguments are right and a parent
 * with IPC started it; else runs main (which may await `go()`: 'ready', then the parent's
 * 'go') and sends what it returns as the 'result', or its failure as the 'error'.
 */
export const worker = (
  usage: string,
  argsOk: boolean,
  main: (go: () => Promise<void>) => Promise<Record<string, unknown>>,
): void => {
  const send = process.send?.bind(process)
  if (!argsOk || !send) {
    process.stderr.write(`usage: started by scripts/bench/run.ts with IPC: ${usage}\n`)
    process.exit(2)
  }
  const go = () =>
    new Promise<void>((resolve) => {
      process.once('message', () => resolve())
      send({ type: 'ready' })
    })
  main(go)
    .then(
      (result) => send({ type: 'result', ...result }),
      (error: Error) => {
        send({ type: 'error', message: `${error.name}: ${error.message}` })
        process.exitCode = 1
      },
    )
    .finally(() => process.disconnect())
}
