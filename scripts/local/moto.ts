// Starts a real moto server (KMS, DynamoDB, ...) on a free 127.0.0.1 port.
// Dev tooling for integration tests, the local demo and the benchmarks; never
// bundled into a function.
//
//   const moto = await startMoto()
//   process.env.AWS_ENDPOINT_URL = moto.endpoint   // or awsEnv(moto.endpoint) for a child
//   ...
//   await moto.stop()
//
// moto_server is found by scripts/local/tools.ts (PATH, then pyenv's shims).
// The server runs under a tiny /bin/sh supervisor in its own process group:
// stop() kills the whole group, and the supervisor kills moto as soon as its
// stdin pipe closes, i.e. when this process dies, however it dies.

import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { childEnv } from './aws-env.ts'
import { findTool, isExecutableFile, type LookupOptions, ToolNotFoundError } from './tools.ts'

export { awsEnv, childEnv, LOCAL_REGION } from './aws-env.ts'

export interface StartMotoOptions extends LookupOptions {
  /** Path of the moto_server executable; skips the lookup. Missing -> ToolNotFoundError. */
  binary?: string
  /** Extra environment variables for the moto process. */
  env?: Record<string, string>
  /** Fixed port instead of a free one (no retry then). */
  port?: number
  /** How long to wait for moto to answer, in ms. Default 30 000. */
  startTimeoutMs?: number
  /** How many ports to try when the chosen one is taken meanwhile. Default 5. */
  attempts?: number
}

export interface MotoServer {
  /** e.g. `http://127.0.0.1:49152` */
  endpoint: string
  port: number
  /** Process id of the supervisor (also the process group id). */
  pid: number
  /** Last lines moto wrote to stderr (request log, tracebacks). */
  stderrTail(): string
  /** Kills moto and its process group; resolves once they are gone. Idempotent. */
  stop(): Promise<void>
}

const HOST = '127.0.0.1'
const STDERR_LINES = 40

/** A port that was free on 127.0.0.1 a moment ago (listen on 0, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))))
    })
  })
}

// Supervisor: runs moto in the background, kills it when stdin (a pipe from
// this process) reaches EOF or when the supervisor itself is signalled.
const SUPERVISOR = `
exec 3<&0
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM INT HUP
( while read -r _ <&3; do :; done; kill -TERM "$child" 2>/dev/null ) &
wait "$child"
code=$?
exit "$code"
`

// Process groups started here and not stopped yet: killed when this process exits.
const live = new Set<number>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const pgid of live) killGroup(pgid, 'SIGKILL')
  })
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // ESRCH: already gone.
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

async function answersKms(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'TrentService.ListKeys',
        Authorization:
          'AWS4-HMAC-SHA256 Credential=testing/20200101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{"Limit":1}',
      signal: AbortSignal.timeout(2_000),
    })
    const text = await response.text()
    return response.ok && text.includes('"Keys"')
  } catch {
    return false
  }
}

class StartFailure extends Error {
  readonly addressInUse: boolean
  constructor(message: string, addressInUse: boolean) {
    super(message)
    this.addressInUse = addressInUse
  }
}

async function startOnce(
  binary: string,
  port: number,
  options: StartMotoOptions,
  timeoutMs: number,
): Promise<MotoServer> {
  const child = spawn(
    '/bin/sh',
    ['-c', SUPERVISOR, 'moto-supervisor', binary, '-H', HOST, '-p', String(port)],
    {
      detached: true,
      stdio: ['pipe', 'ignore', 'pipe'],
      // The machine's environment (pyenv finds moto through it) but none of the user's AWS_*
      // settings: AWS_PROFILE=anything keeps moto from answering.
      env: childEnv(options.env, process.env),
    },
  )
  const pid = child.pid
  if (pid === undefined) {
    await new Promise((resolve) => child.once('error', resolve))
    throw new Error(`could not spawn /bin/sh to run ${binary}`)
  }
  live.add(pid)
  installExitHook()

  const lines: string[] = []
  let partial = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
    if (lines.length > STDERR_LINES) lines.splice(0, lines.length - STDERR_LINES)
  })
  const stderrTail = () => [...lines, ...(partial ? [partial] : [])].join('\n')

  let exitCode: number | null | undefined
  let exitSignal: NodeJS.Signals | null = null
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code
      exitSignal = signal
      resolve()
    })
  })
  // The child must never keep this process alive (the exit hook and the
  // stdin pipe take care of killing it).
  child.unref()
  ;(child.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  ;(child.stderr as unknown as { unref?: () => void } | null)?.unref?.()
  child.stdin?.on('error', () => {})

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitCode === undefined) {
        // The whole group gets TERM; the supervisor's trap waits for moto, so
        // its exit means moto is gone (and reaped).
        killGroup(pid, 'SIGTERM')
        const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)])
        if (!done) {
          killGroup(pid, 'SIGKILL')
          await Promise.race([exited, sleep(5_000)])
        }
      }
      // Whatever is left in the group (the stdin watcher, a moto that outlived
      // a crashed supervisor). Zombies waiting for init to reap them are
      // harmless, so no liveness polling of the group here.
      killGroup(pid, 'SIGKILL')
      child.stdin?.destroy()
      child.stderr?.destroy()
      live.delete(pid)
    })()
    return stopping
  }

  const endpoint = `http://${HOST}:${port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (exitCode !== undefined) {
      await stop()
      const tail = stderrTail()
      if (exitCode === 127 && /command not found|No such file/i.test(tail))
        throw new ToolNotFoundError('moto_server')
      throw new StartFailure(
        `moto_server exited before answering (code ${exitCode}${exitSignal ? `, signal ${exitSignal}` : ''}); last stderr lines:\n${tail}`,
        /address already in use|EADDRINUSE/i.test(tail),
      )
    }
    if (await answersKms(endpoint)) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(
        `moto_server did not answer on ${endpoint} within ${timeoutMs} ms; last stderr lines:\n${stderrTail()}`,
      )
    }
    await Promise.race([exited, sleep(100)])
  }
  return { endpoint, port, pid, stderrTail, stop }
}

/** Starts moto_server on a free 127.0.0.1 port and waits until it answers KMS calls. */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const binary =
    options.binary === undefined
      ? findTool('moto_server', options)
      : isExecutableFile(options.binary)
        ? options.binary
        : undefined
  if (!binary) throw new ToolNotFoundError('moto_server')
  const timeoutMs = options.startTimeoutMs ?? 30_000
  const attempts = options.port === undefined ? Math.max(1, options.attempts ?? 5) : 1
  let lastError: unknown
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port ?? (await freePort())
    try {
      return await startOnce(binary, port, options, timeoutMs)
    } catch (error) {
      lastError = error
      if (!(error instanceof StartFailure && error.addressInUse)) throw error
    }
  }
  throw lastError
}

/** Wipes all of moto's state (keys, tables...). Affects every client of that server. */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, {
    method: 'POST',
    signal: AbortSignal.timeout(10_000),
  })
  await response.arrayBuffer()
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`)
}
