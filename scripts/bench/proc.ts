// Child processes of the benchmark: every one is tracked so that an error or Ctrl-C
// stops them all. Always the running Node (process.execPath).

import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'

const live = new Set<ChildProcess>()

/** Kills the children still running (by their handle, nothing else). */
export const killChildren = (): void => {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

/** Tracks a child the caller spawned itself (e.g. a long-running runtime), so that Ctrl-C kills it. */
export const track = (child: ChildProcess): ChildProcess => {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `node script args` to completion; kills it after timeoutMs. */
export const runNode = (
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = track(
      spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
    )
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

export interface IpcMessage {
  type: 'ready' | 'result' | 'error'
  message?: string
  [key: string]: unknown
}

/**
 * Runs `node script args` with an IPC channel. On its 'ready' message, `onReady` runs
 * and the child gets 'go'. Resolves with its 'result' message. stdout goes to
 * /dev/null (the log-cost runner writes there), stderr is kept for errors.
 */
export const runNodeIpc = (
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  onReady: () => void = () => {},
): Promise<IpcMessage> =>
  new Promise((resolve, reject) => {
    const devNull = openSync('/dev/null', 'w')
    const child = track(
      spawn(process.execPath, [script, ...args], {
        env,
        stdio: ['ignore', devNull, 'pipe', 'ipc'],
      }),
    )
    closeSync(devNull)
    let stderr = ''
    let result: IpcMessage | undefined
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('message', (message: IpcMessage) => {
      if (message.type === 'ready') {
        onReady()
        child.send('go')
      } else result = message
    })
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      if (result?.type === 'result') return resolve(result)
      const why = result?.message ?? (signal ? `killed by ${signal}` : `exit code ${code}`)
      reject(new Error(`${script} ${args.join(' ')}: ${why}\n${stderr.trim().slice(-2000)}`))
    })
  })
