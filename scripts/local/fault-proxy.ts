// A counting proxy in front of moto adding what AWS does and moto does not (KMS errors, 500s,
// resets, hangs, latency, throttling, key states). It runs in this event loop: never drive
// children that talk to it with the *Sync spawns.

import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import * as http from 'node:http'
import type { Socket } from 'node:net'
import { buffer } from 'node:stream/consumers'
import { setTimeout as sleep } from 'node:timers/promises'

/** kms-error: KMS's answer (message null: none); http-500: InternalFailure, which the SDK
 * retries; reset: ECONNRESET; hang: no answer until the client or stop() ends it. */
export type Fault =
  | { kind: 'kms-error'; type: string; message?: string | null }
  | { kind: 'http-500' | 'reset' | 'hang' }
  | { kind: 'latency'; ms: number }

/** An exact X-Amz-Target or a RegExp on it; undefined: every request. */
type Match = string | RegExp | undefined

const MESSAGES: Record<string, string> = {
  KMSInternalException: 'An internal error occurred.',
  ThrottlingException: 'Rate exceeded',
}
// Hop-by-hop headers, and the length, which is set again.
const NOT_FORWARDED = ['connection', 'keep-alive', 'transfer-encoding', 'expect', 'content-length']
const KEY_STATE_CHANGES: Record<string, string> = {
  DisableKey: 'Disabled',
  EnableKey: 'Enabled',
  ScheduleKeyDeletion: 'PendingDeletion',
  CancelKeyDeletion: 'Disabled', // as in KMS
}
const KEY_USES = /^(Decrypt|Encrypt|ReEncrypt|GenerateDataKey(WithoutPlaintext)?)$/
const REFUSALS: Record<string, [string, string]> = {
  Disabled: ['DisabledException', 'is disabled.'],
  PendingDeletion: ['KMSInvalidStateException', 'is pending deletion.'],
}

const keyIdOf = (arn: unknown) => String(arn).split('/').at(-1) as string
const matches = (match: Match, call: string | undefined) =>
  match === undefined || (typeof match === 'string' ? call === match : match.test(call ?? ''))
const endToEnd = (headers: http.IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !NOT_FORWARDED.includes(name)))

function sendError(res: http.ServerResponse, status: number, type: string, message: string | null) {
  const body = JSON.stringify(message === null ? { __type: type } : { __type: type, message })
  res.writeHead(status, {
    // DynamoDB speaks x-amz-json-1.0, KMS x-amz-json-1.1: answer in the request's dialect.
    'Content-Type': res.req.headers['content-type'] ?? 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
  })
  res.end(body)
}

export async function startFaultProxy(options: {
  /** moto's endpoint, `http://127.0.0.1:PORT`. */
  target: string
}) {
  let latencyMs = 0
  let rules: { times: number; match: Match; fault: Fault }[] = []
  let throttle: { ratePerSecond: number; match?: Match; start: number; window: number } | undefined
  let admitted = 0
  const counts = new Map<string, number>()
  const hung = new Set<Socket>()
  const keyStates = new Map<string, string>()
  const stopped = new AbortController()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

  const takeFault = (call: string | undefined) => {
    const rule = rules.find((rule) => matches(rule.match, call))
    if (rule && --rule.times <= 0) rules = rules.filter((other) => other !== rule)
    return rule?.fault
  }
  const throttled = (call: string | undefined) => {
    if (!throttle || !matches(throttle.match, call)) return false
    const window = Math.floor((Date.now() - throttle.start) / 1000)
    if (window !== throttle.window) [throttle.window, admitted] = [window, 0]
    return ++admitted > throttle.ratePerSecond
  }
  /** Learns key states from moto's 200 answers; the error KMS gives instead on a key not Enabled. */
  const refusal = (action: string, request: Buffer, answer: Buffer) => {
    const change = KEY_STATE_CHANGES[action]
    const keyId = change && keyIdOf(JSON.parse(request.toString()).KeyId)
    if (change === 'Enabled') keyStates.delete(keyId as string)
    else if (change) keyStates.set(keyId as string, change)
    if (!KEY_USES.test(action)) return undefined
    const { SourceKeyId, KeyId } = JSON.parse(answer.toString())
    const arn = [SourceKeyId, KeyId].find((arn) => keyStates.has(keyIdOf(arn)))
    const [type, text] = REFUSALS[keyStates.get(keyIdOf(arn)) ?? ''] ?? []
    return type && ([type, `${arn} ${text}`] as const)
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const call = req.headers['x-amz-target'] as string | undefined
    const name = call ?? `${req.method} ${req.url?.split('?')[0]}`
    counts.set(name, (counts.get(name) ?? 0) + 1)
    const fault = takeFault(call)
    const throttledNow = !fault && throttled(call)
    const body = await buffer(req)
    const extraMs = fault?.kind === 'latency' ? fault.ms : 0
    await sleep(latencyMs + extraMs, undefined, { signal: stopped.signal }).catch(() => {})
    if (stopped.signal.aborted || req.socket.destroyed) return req.socket.destroy()
    if (fault?.kind === 'hang') {
      hung.add(req.socket)
      req.socket.once('close', () => hung.delete(req.socket))
    } else if (fault?.kind === 'reset') req.socket.resetAndDestroy()
    else if (throttledNow) sendError(res, 400, 'ThrottlingException', 'Rate exceeded')
    else if (fault?.kind === 'http-500') sendError(res, 500, 'InternalFailure', 'Injected HTTP 500')
    else if (fault?.kind === 'kms-error') {
      // KMS sends no message with InvalidCiphertextException.
      const none = fault.type === 'InvalidCiphertextException'
      const { type, message = none ? null : (MESSAGES[type] ?? `Injected ${type}`) } = fault
      sendError(res, type === 'KMSInternalException' ? 500 : 400, type, message)
    } else {
      const { method, url: path } = req
      const headers = { ...endToEnd(req.headers), 'content-length': body.length }
      const upstream = http.request(options.target, { method, path, headers, agent })
      const [answer] = (await once(upstream.end(body), 'response')) as [http.IncomingMessage]
      const text = await buffer(answer)
      const action = /^TrentService\.(\w+)$/.exec(call ?? '')?.[1]
      const refused = answer.statusCode === 200 && action && refusal(action, body, text)
      if (refused) return sendError(res, 400, ...refused)
      res.writeHead(answer.statusCode as number, {
        ...endToEnd(answer.headers),
        'content-length': text.length,
      })
      res.end(text)
    }
  }

  const server = http.createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    handle(req, res).catch(() => req.socket.destroy())
  })
  server.on('clientError', (_error, socket) => socket.destroy())
  await once(server.listen(0, '127.0.0.1'), 'listening')
  const { port } = server.address() as { port: number }
  let stopping: Promise<void> | undefined

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    /** Requests received by X-Amz-Target (else `METHOD /path`), faulted ones included. */
    counts: () => Object.fromEntries(counts),
    total: () => [...counts.values()].reduce((sum, n) => sum + n, 0),
    resetCounts: () => counts.clear(),
    /** Queues `fault` for the next `times` (default 1; Infinity: until cleared) matching requests. */
    inject: ({ times = 1, match, fault }: { times?: number; match?: Match; fault: Fault }) => {
      rules.push({ times, match, fault })
    },
    /** Injected faults not used yet. */
    pending: () => rules.reduce((sum, rule) => sum + rule.times, 0),
    setLatency: (ms: number) => {
      latencyMs = ms
    },
    /** ThrottlingException to matching requests beyond the rate per 1-second window; null: off. */
    throttleAbove: (rate: { ratePerSecond: number; match?: Match } | null) => {
      throttle = rate ? { ...rate, start: Date.now(), window: 0 } : undefined
      admitted = 0
    },
    /** Drops injected faults and the throttle (the base latency stays). */
    clearFaults: () => {
      rules = []
      throttle = undefined
    },
    /** Requests held by a `hang` fault. */
    hungCount: () => hung.size,
    /** Keys seen leaving the Enabled state: 'Disabled' | 'PendingDeletion' by key id. */
    keyStates: () => Object.fromEntries(keyStates),
    /** Closes the proxy and every connection (hung ones too). Idempotent. */
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        stopped.abort()
        hung.clear()
        server.close(() => resolve())
        server.closeAllConnections()
        agent.destroy()
      })
      return stopping
    },
  }
}

export type FaultProxy = Awaited<ReturnType<typeof startFaultProxy>>
