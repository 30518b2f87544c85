// A real moto server on 127.0.0.1, under a /bin/sh supervisor in its own process group: stop()
// kills the group, and the supervisor kills moto when its stdin closes (this process died).

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { childEnv } from './aws-env.ts'
import { findTool, isExecutableFile, type LookupOptions, ToolNotFoundError } from './tools.ts'

export { awsEnv, childEnv, LOCAL_REGION } from './aws-env.ts'

interface StartMotoOptions extends LookupOptions {
  /** moto_server's path instead of the lookup. */
  binary?: string
  /** A fixed port. Default: one the system picks (moto's port 0), read from its log. */
  port?: number
  /** How long to wait for moto to answer. Default 30 000 ms. */
  startTimeoutMs?: number
}

// Runs moto in the background; kills it at EOF on stdin (a pipe from this process) or on a signal.
const SUPERVISOR = `
exec 3<&0
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM INT HUP
( while read -r _ <&3; do :; done; kill -TERM "$child" 2>/dev/null ) &
wait "$child"
`

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // Already gone.
  }
}

/** Starts moto_server on 127.0.0.1 and waits until it listens. */
export async function startMoto(options: StartMotoOptions = {}) {
  const binary = options.binary ?? findTool('moto_server', options)
  if (!binary || !isExecutableFile(binary)) throw new ToolNotFoundError('moto_server')
  const args = [binary, '-H', '127.0.0.1', '-p', String(options.port ?? 0)]
  const child = spawn('/bin/sh', ['-c', SUPERVISOR, 'moto-supervisor', ...args], {
    detached: true,
    stdio: ['pipe', 'ignore', 'pipe'],
    // The machine's environment (pyenv finds moto through it) without the user's AWS_* settings:
    // AWS_PROFILE=anything keeps moto from answering.
    env: childEnv({}, process.env),
  })
  const pid = child.pid as number // the supervisor's, also its process group's id
  let stderr = ''
  const listening = Promise.withResolvers<number>()
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).split('\n').slice(-40).join('\n')
    // Werkzeug logs this once its socket listens: connections from then on are accepted.
    const port = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]
    if (port) listening.resolve(Number(port))
  })
  const exited = once(child, 'exit')
  // Never keeps this process alive: when it dies, the stdin pipe closes and the supervisor ends moto.
  child.unref()
  for (const pipe of [child.stdin, child.stderr]) (pipe as unknown as Socket).unref()
  child.stdin.on('error', () => {})

  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      // The supervisor's trap waits for moto: its exit means moto is gone.
      killGroup(pid, 'SIGTERM')
      await Promise.race([exited, sleep(5_000)])
      // Whatever is left: the stdin watcher, a moto that outlived its supervisor.
      killGroup(pid, 'SIGKILL')
      await Promise.race([exited, sleep(5_000)])
      child.stdin.destroy()
      child.stderr.destroy()
    })()
    return stopping
  }

  const timeoutMs = options.startTimeoutMs ?? 30_000
  // A referenced timer: the unref'd child and pipes alone would let this process exit meanwhile.
  const timer = new AbortController()
  const timedOut = sleep(timeoutMs, 'timeout' as const, timer).catch(() => undefined)
  const port = await Promise.race([listening.promise, exited, timedOut])
  timer.abort()
  if (typeof port === 'number') {
    return { endpoint: `http://127.0.0.1:${port}`, port, pid, stderrTail: () => stderr, stop }
  }
  await stop()
  if (port === 'timeout') {
    throw new Error(
      `moto_server did not answer within ${timeoutMs} ms; last stderr lines:\n${stderr}`,
    )
  }
  // A pyenv shim whose Python version lacks moto.
  if (child.exitCode === 127 && /command not found/i.test(stderr)) {
    throw new ToolNotFoundError('moto_server')
  }
  const how = child.exitCode ?? child.signalCode
  throw new Error(
    `moto_server exited before answering (code ${how}); last stderr lines:\n${stderr}`,
  )
}

export type MotoServer = Awaited<ReturnType<typeof startMoto>>
