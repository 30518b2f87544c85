// HTTP reverse proxy on a free 127.0.0.1 port in front of a local AWS endpoint
// (moto) for AWS JSON-protocol requests (KMS, DynamoDB). It counts requests by
// X-Amz-Target and injects what real AWS does and moto does not: KMS error
// bodies byte for byte, HTTP 500, connection resets, hangs, latency, throttling,
// and a key's state: moto decrypts under a disabled key, KMS does not. The proxy
// learns each key's state from the DisableKey / EnableKey / ScheduleKeyDeletion /
// CancelKeyDeletion calls moto accepts, and answers a cryptographic call on a key
// that is not Enabled as KMS does (DisabledException, KMSInvalidStateException).
// Dev tooling only; never bundled into a function.
//
//   const proxy = await startFaultProxy({ target: moto.endpoint })
//   proxy.inject({ times: 1, match: 'TrentService.Decrypt',
//                  fault: { kind: 'kms-error', type: 'DisabledException' } })
//   new KMSClient({ endpoint: proxy.endpoint, ... })
//   proxy.counts()  // { 'TrentService.Decrypt': 1 }
//   await proxy.stop()
//
// The proxy runs in this process's event loop: drive children that talk to it
// (aws CLI, runNode) with async spawn/execFile, never execFileSync/spawnSync.

import { randomUUID } from 'node:crypto'
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http'
import type { Socket } from 'node:net'

/** Error types KMS answers on Decrypt/Encrypt/GenerateDataKey (any other string is allowed too). */
export type KmsErrorType =
  | 'AccessDeniedException'
  | 'DependencyTimeoutException'
  | 'DisabledException'
  | 'IncorrectKeyException'
  | 'InvalidCiphertextException'
  | 'InvalidKeyUsageException'
  | 'KMSInternalException'
  | 'KMSInvalidStateException'
  | 'KeyUnavailableException'
  | 'NotFoundException'
  | 'ThrottlingException'
  | 'ValidationException'

export type Fault =
  /**
   * An AWS JSON error exactly as KMS answers it: HTTP `status` (default 400, 500
   * for KMSInternalException), `Content-Type: application/x-amz-json-1.1`, an
   * `x-amzn-RequestId` header and body `{"__type":type,"message":message}`.
   * `message` defaults to a KMS-like text; `null` omits it (KMS sends no message
   * with InvalidCiphertextException, which is also the default for that type).
   */
  | {
      kind: 'kms-error'
      type: KmsErrorType | (string & {})
      message?: string | null
      status?: number
    }
  /** HTTP 500 with an AWS JSON `InternalFailure` body: the SDK retries it. */
  | { kind: 'http-500' }
  /** The TCP connection is reset (RST) once the request has been read: ECONNRESET. */
  | { kind: 'reset' }
  /** The request is read and never answered, until the client gives up or the proxy stops. */
  | { kind: 'hang' }
  /** The request is forwarded after `ms` more milliseconds (on top of the base latency). */
  | { kind: 'latency'; ms: number }

/** Which requests a rule applies to: exact X-Amz-Target, a RegExp on it, or a predicate. */
export type TargetMatch = string | RegExp | ((target: string | undefined) => boolean)

export interface InjectOptions {
  /** How many matching requests get the fault. Default 1; `Infinity` until cleared. */
  times?: number
  /** Default: every request. */
  match?: TargetMatch
  fault: Fault
}

export interface ThrottleOptions {
  /** Requests admitted per 1-second window (windows start when throttleAbove is called). */
  ratePerSecond: number
  /** Default: every request. */
  match?: TargetMatch
  /** Error type of the throttled answer. Default `ThrottlingException` (what KMS uses). */
  type?: string
  /** Default `Rate exceeded`. */
  message?: string
}

export interface StartFaultProxyOptions {
  /** Where requests go, e.g. moto's endpoint `http://127.0.0.1:PORT`. */
  target: string
  /** Base latency added to every request, in ms. Default 0. */
  latencyMs?: number
  /** Fixed port. Default: a free one. */
  port?: number
}

export interface FaultProxy {
  /** e.g. `http://127.0.0.1:49153` */
  readonly endpoint: string
  readonly port: number
  /** Requests received, by X-Amz-Target (else `METHOD /path`), faulted ones included. */
  counts(): Record<string, number>
  /** Sum of counts(). */
  total(): number
  resetCounts(): void
  /** Queues a fault for the next `times` matching requests (rules apply in order). */
  inject(options: InjectOptions): void
  /** Injected faults not used yet (Infinity if a rule is unbounded). */
  pending(): number
  setLatency(ms: number): void
  /** Answers ThrottlingException to matching requests beyond the rate; `null` removes it. */
  throttleAbove(options: ThrottleOptions | null): void
  /** Drops pending injected faults and the throttle (base latency is kept). */
  clearFaults(): void
  /** Requests currently hung by a `hang` fault. */
  hungCount(): number
  /** Destroys the connections of hung requests (the clients see a reset). */
  releaseHung(): void
  /** Keys the proxy has seen leave the Enabled state, by key id: 'Disabled' | 'PendingDeletion'. */
  keyStates(): Record<string, string>
  /** Closes the proxy, destroying every connection (hung ones included). Idempotent. */
  stop(): Promise<void>
}

const DEFAULT_MESSAGES: Record<string, string | null> = {
  AccessDeniedException:
    'User: arn:aws:sts::123456789012:assumed-role/local/local is not authorized to perform: kms:Decrypt on this resource because no identity-based policy allows the kms:Decrypt action',
  DisabledException:
    'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000 is disabled.',
  IncorrectKeyException:
    'The key ID in the request does not identify a CMK that can perform this operation.',
  InvalidCiphertextException: null,
  KMSInternalException: 'An internal error occurred.',
  KMSInvalidStateException:
    'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000 is pending deletion.',
  NotFoundException: 'Invalid keyId',
  ThrottlingException: 'Rate exceeded',
}

/** The exact body of an AWS JSON-protocol error (`message` omitted when null). */
export function awsJsonErrorBody(type: string, message: string | null): string {
  return JSON.stringify(message === null ? { __type: type } : { __type: type, message })
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
])

/** Key-state changes moto accepts and the state each leaves (CancelKeyDeletion: Disabled, as in KMS). */
const KEY_STATE_CHANGES: Record<string, string> = {
  'TrentService.DisableKey': 'Disabled',
  'TrentService.EnableKey': 'Enabled',
  'TrentService.ScheduleKeyDeletion': 'PendingDeletion',
  'TrentService.CancelKeyDeletion': 'Disabled',
}
/** Calls KMS refuses on a key that is not Enabled (the key is named in moto's answer). */
const KEY_USES = new Set(
  ['Decrypt', 'Encrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext'].map(
    (action) => `TrentService.${action}`,
  ),
)
/** `arn:…:key/ID` or `ID` -> `ID`. */
const keyIdOf = (value: unknown) =>
  typeof value === 'string' ? (value.split('/').at(-1) as string) : undefined

function matches(match: TargetMatch | undefined, target: string | undefined): boolean {
  if (match === undefined) return true
  if (typeof match === 'string') return target === match
  if (match instanceof RegExp) return target !== undefined && match.test(target)
  return match(target)
}

interface Rule {
  remaining: number
  match: TargetMatch | undefined
  fault: Fault
}

interface Throttle {
  options: ThrottleOptions
  start: number
  window: number
  admitted: number
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

const drain = (req: IncomingMessage): Promise<void> =>
  new Promise((resolve) => {
    if (req.readableEnded) return resolve()
    req.on('end', resolve)
    req.on('close', resolve)
    req.on('error', resolve)
    req.resume()
  })

const readAll = async (stream: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function sendJsonError(req: IncomingMessage, res: ServerResponse, status: number, body: string) {
  // DynamoDB speaks x-amz-json-1.0, KMS x-amz-json-1.1: answer in the request's dialect.
  const requestType = String(req.headers['content-type'] ?? '')
  const contentType = requestType.startsWith('application/x-amz-json-1.0')
    ? 'application/x-amz-json-1.0'
    : 'application/x-amz-json-1.1'
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
  })
  res.end(body)
}

/** Headers as received, less the hop-by-hop ones (and the length, set again). */
function endToEnd(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'content-length') out[name] = value
  }
  return out
}

/** The answer to an injected error fault (the request is read first); false: not one. */
async function answerFault(req: IncomingMessage, res: ServerResponse, fault?: Fault) {
  if (fault?.kind !== 'kms-error' && fault?.kind !== 'http-500' && fault?.kind !== 'reset') {
    return false
  }
  await drain(req)
  if (fault.kind === 'reset') req.socket.resetAndDestroy()
  else if (fault.kind === 'http-500') {
    sendJsonError(req, res, 500, awsJsonErrorBody('InternalFailure', 'Injected HTTP 500'))
  } else {
    const message =
      fault.message !== undefined
        ? fault.message
        : fault.type in DEFAULT_MESSAGES
          ? (DEFAULT_MESSAGES[fault.type] as string | null)
          : `Injected ${fault.type}`
    const status = fault.status ?? (fault.type === 'KMSInternalException' ? 500 : 400)
    sendJsonError(req, res, status, awsJsonErrorBody(fault.type, message))
  }
  return true
}

/** The answer KMS gives instead of moto's when the key in it is not Enabled. */
function refusal(answer: Buffer, keyStates: Map<string, string>): string | undefined {
  let body: { KeyId?: unknown; SourceKeyId?: unknown }
  try {
    body = JSON.parse(answer.toString('utf8'))
  } catch {
    return undefined
  }
  for (const arn of [body.SourceKeyId, body.KeyId]) {
    const state = keyStates.get(keyIdOf(arn) ?? '')
    if (state === 'Disabled') return awsJsonErrorBody('DisabledException', `${arn} is disabled.`)
    if (state === 'PendingDeletion')
      return awsJsonErrorBody('KMSInvalidStateException', `${arn} is pending deletion.`)
  }
  return undefined
}

/**
 * Forwards to `target` with both bodies in memory (AWS JSON calls are small): learns key
 * states from the calls that change them, refuses uses of a key that is not Enabled.
 */
function forwarder(target: URL, agent: Agent, keyStates: Map<string, string>) {
  return async (req: IncomingMessage, res: ServerResponse, call: string | undefined) => {
    const body = await readAll(req)
    let answer: IncomingMessage
    try {
      answer = await new Promise<IncomingMessage>((resolve, reject) => {
        const upstream = httpRequest({
          host: target.hostname,
          port: Number(target.port || 80),
          method: req.method,
          path: req.url,
          headers: { ...endToEnd(req.headers), 'content-length': body.length },
          agent,
        })
        upstream.once('response', resolve).once('error', reject)
        upstream.end(body)
      })
    } catch (error) {
      const message = `fault proxy could not reach ${target.origin}: ${(error as Error).message}`
      return sendJsonError(req, res, 502, awsJsonErrorBody('BadGateway', message))
    }
    const text = await readAll(answer)
    const state = call === undefined ? undefined : KEY_STATE_CHANGES[call]
    const ok = answer.statusCode === 200
    if (ok && state !== undefined) {
      const keyId = keyIdOf(JSON.parse(body.toString('utf8')).KeyId) as string
      if (state === 'Enabled') keyStates.delete(keyId)
      else keyStates.set(keyId, state)
    }
    const refused = ok && KEY_USES.has(call ?? '') ? refusal(text, keyStates) : undefined
    if (refused !== undefined) return sendJsonError(req, res, 400, refused)
    res.writeHead(answer.statusCode ?? 502, {
      ...endToEnd(answer.headers),
      'content-length': text.length,
    })
    res.end(text)
  }
}

/** The throttle's options when `key` is over its rate in the current 1-second window. */
function throttled(throttle: Throttle | undefined, key: string | undefined) {
  if (!throttle || !matches(throttle.options.match, key)) return undefined
  const window = Math.floor((Date.now() - throttle.start) / 1000)
  if (window !== throttle.window) {
    throttle.window = window
    throttle.admitted = 0
  }
  if (throttle.admitted < throttle.options.ratePerSecond) {
    throttle.admitted += 1
    return undefined
  }
  return throttle.options
}

export async function startFaultProxy(options: StartFaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target)
  if (target.protocol !== 'http:')
    throw new Error(`fault proxy target must be http://, got ${options.target}`)

  let latencyMs = options.latencyMs ?? 0
  let rules: Rule[] = []
  let throttling: Throttle | undefined
  let counts = new Map<string, number>()
  const hung = new Set<Socket>()
  const stopController = new AbortController()
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const keyStates = new Map<string, string>()
  const forward = forwarder(target, agent, keyStates)

  const takeFault = (key: string | undefined): Fault | undefined => {
    const index = rules.findIndex((rule) => rule.remaining > 0 && matches(rule.match, key))
    if (index < 0) return undefined
    const rule = rules[index] as Rule
    rule.remaining -= 1
    if (rule.remaining <= 0) rules.splice(index, 1)
    return rule.fault
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const header = req.headers['x-amz-target']
    const call = Array.isArray(header) ? header[0] : header
    const key = call ?? `${req.method} ${(req.url ?? '/').split('?')[0]}`
    counts.set(key, (counts.get(key) ?? 0) + 1)

    const fault = takeFault(call)
    const throttle = fault ? undefined : throttled(throttling, call)

    if (fault?.kind === 'hang') {
      await drain(req)
      const socket = req.socket
      hung.add(socket)
      socket.once('close', () => hung.delete(socket))
      if (stopController.signal.aborted) socket.destroy()
      return
    }

    const extra = fault?.kind === 'latency' ? fault.ms : 0
    await sleep(latencyMs + extra, stopController.signal)
    if (stopController.signal.aborted || req.socket.destroyed) {
      req.socket.destroy()
      return
    }

    if (throttle) {
      await drain(req)
      sendJsonError(
        req,
        res,
        400,
        awsJsonErrorBody(
          throttle.type ?? 'ThrottlingException',
          throttle.message ?? 'Rate exceeded',
        ),
      )
      return
    }
    if (!(await answerFault(req, res, fault))) await forward(req, res, call)
  }

  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    handle(req, res).catch(() => req.socket.destroy())
  })
  server.on('clientError', (_error, socket) => socket.destroy())

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (!address || typeof address !== 'object') throw new Error('fault proxy: no address')
  const port = address.port

  let stopping: Promise<void> | undefined

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    counts: () => Object.fromEntries(counts),
    total: () => [...counts.values()].reduce((sum, n) => sum + n, 0),
    resetCounts: () => {
      counts = new Map()
    },
    inject: ({ times = 1, match, fault }) => {
      if (!(times > 0)) throw new Error(`inject: times must be > 0, got ${times}`)
      if (fault.kind === 'latency' && !(fault.ms >= 0))
        throw new Error('inject: latency ms must be >= 0')
      rules.push({ remaining: times, match, fault })
    },
    pending: () => rules.reduce((sum, rule) => sum + rule.remaining, 0),
    setLatency: (ms) => {
      if (!(ms >= 0)) throw new Error(`setLatency: ms must be >= 0, got ${ms}`)
      latencyMs = ms
    },
    throttleAbove: (throttleOptions) => {
      if (throttleOptions === null) {
        throttling = undefined
        return
      }
      if (!(throttleOptions.ratePerSecond >= 0))
        throw new Error('throttleAbove: ratePerSecond must be >= 0')
      throttling = { options: throttleOptions, start: Date.now(), window: 0, admitted: 0 }
    },
    clearFaults: () => {
      rules = []
      throttling = undefined
    },
    keyStates: () => Object.fromEntries(keyStates),
    hungCount: () => hung.size,
    releaseHung: () => {
      for (const socket of hung) socket.destroy()
      hung.clear()
    },
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        stopController.abort()
        for (const socket of hung) socket.destroy()
        hung.clear()
        server.close(() => resolve())
        server.closeAllConnections()
        agent.destroy()
      })
      return stopping
    },
  }
}
