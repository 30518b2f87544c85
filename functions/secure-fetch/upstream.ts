// Secure outbound HTTPS client of the secure-fetch function, on node:https only.
//
// - TLS >= 1.2, certificate chain and hostname always verified (`rejectUnauthorized: true` is
//   set explicitly, so the process-wide environment switch that disables verification in Node
//   cannot turn it off here). The host name is matched to the SANs alone (RFC 9525), never the CN.
// - Extra CA PEM(s) are added to Node's default trust store, never replacing it.
// - Optional SPKI pinning (base64 SHA-256 of the leaf certificate's SubjectPublicKeyInfo).
// - Optional client certificate (mutual TLS).
// - The host name and pin checks are the agent's `checkServerIdentity`, which Node runs inside the
//   handshake: a refused connection is destroyed before the request queued on it is written, so
//   no request byte (and no bearer token) ever leaves on it.
// - Keep-alive agent, connect and response timeouts, bounded retries for idempotent methods.
// - Errors are `UpstreamError`s with a stable `code`; they never carry the token, the headers
//   or the body.
import { createHash, X509Certificate } from 'node:crypto'
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { Agent, request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import type { PeerCertificate, TLSSocket } from 'node:tls'
// Namespace import: `getCACertificates` only exists from Node 22.15 / 23.10, and a named import
// of a missing export would fail at module link time on an older nodejs22.x runtime.
import * as tls from 'node:tls'
import { TRANSIENT_NETWORK_CODES } from 'middy-kms-secrets/lite'

export type UpstreamErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_REQUEST'
  | 'TLS_UNTRUSTED'
  | 'TLS_HOSTNAME'
  | 'TLS_EXPIRED'
  | 'TLS_PIN_MISMATCH'
  | 'TLS_PROTOCOL'
  | 'TLS_HANDSHAKE'
  | 'CONNECT_TIMEOUT'
  | 'RESPONSE_TIMEOUT'
  | 'RESPONSE_TOO_LARGE'
  | 'ABORTED'
  | 'NETWORK'

const MESSAGES: Record<UpstreamErrorCode, string> = {
  INVALID_OPTIONS: 'invalid upstream client options',
  INVALID_REQUEST: 'invalid upstream request',
  TLS_UNTRUSTED: 'upstream certificate is not trusted',
  TLS_HOSTNAME: 'upstream certificate does not match the host name',
  TLS_EXPIRED: 'upstream certificate is expired or not yet valid',
  TLS_PIN_MISMATCH: 'upstream public key matches no configured SPKI pin',
  TLS_PROTOCOL: 'upstream TLS version or protocol not acceptable',
  TLS_HANDSHAKE: 'TLS handshake with the upstream failed',
  CONNECT_TIMEOUT: 'connecting to the upstream timed out',
  RESPONSE_TIMEOUT: 'the upstream response timed out',
  RESPONSE_TOO_LARGE: 'the upstream response is too large',
  ABORTED: 'the upstream request was aborted',
  NETWORK: 'network error talking to the upstream',
}

interface UpstreamErrorDetail {
  /** Node / OpenSSL error code behind the error. */
  nodeCode?: string
  /** `host:port` of the upstream. */
  origin?: string
  /** What was wrong (INVALID_* codes); never a value. */
  reason?: string
}

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError'
  readonly code: UpstreamErrorCode
  /** Node / OpenSSL error code behind it (e.g. 'CERT_HAS_EXPIRED'), if any. */
  readonly nodeCode: string | undefined
  /** Whether retrying (an idempotent request) may succeed. */
  readonly retryable: boolean
  /** Attempts made before giving up. */
  attempts = 1

  constructor(code: UpstreamErrorCode, detail: UpstreamErrorDetail = {}) {
    const context = [detail.origin, detail.nodeCode].filter(Boolean).join(', ')
    let message = MESSAGES[code]
    if (detail.reason) message += `: ${detail.reason}`
    if (context) message += ` (${context})`
    super(message)
    this.code = code
    this.nodeCode = detail.nodeCode
    this.retryable =
      code === 'CONNECT_TIMEOUT' ||
      (code === 'NETWORK' && TRANSIENT_NETWORK_CODES.has(detail.nodeCode ?? ''))
  }
}

export interface ClientCertificate {
  cert: string
  key: string
}

export interface UpstreamClientOptions {
  /** `https://host[:port][/base/path]`; nothing but https: is accepted. */
  baseUrl: string
  /** Extra trusted CA certificate(s), PEM, added to Node's default trust store. */
  ca?: string | readonly string[]
  /** Accepted SPKI pins (base64 SHA-256, optional `sha256/` prefix). Empty: no pinning. */
  spkiPins?: readonly string[]
  /** Client certificate and key (PEM) for mutual TLS. */
  clientCert?: ClientCertificate
  /** TCP connect + TLS handshake + checks, per connection. Default 3000. */
  connectTimeoutMs?: number
  /** From a ready connection to the last byte of the response. Default 10000. */
  responseTimeoutMs?: number
  /** Retries for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE). Default 2. */
  maxRetries?: number
  /** First backoff delay; doubles per retry (with jitter), capped at 1 s. Default 100. */
  retryBaseDelayMs?: number
  /** Keep connections open between requests (and warm invocations). Default true. */
  keepAlive?: boolean
  /** An idle pooled connection is closed after this. Default 4000 (below common 5 s servers). */
  idleSocketTimeoutMs?: number
  /** Default 10. */
  maxSockets?: number
  /** Default 5 MiB (a Lambda response cannot exceed 6 MB anyway). */
  maxResponseBytes?: number
}

export interface UpstreamRequest {
  /** Default 'GET'. */
  method?: string
  /** Starts with '/'; appended to the base URL's path. May carry a query string. */
  path: string
  headers?: Record<string, string>
  body?: string | Uint8Array
  /** Bearer token, sent as `Authorization: Bearer <token>` once the connection is verified. */
  token?: string
  /** Aborts the request (e.g. before the Lambda deadline). */
  signal?: AbortSignal
}

export interface UpstreamResponse {
  status: number
  headers: IncomingHttpHeaders
  /** UTF-8 decoded body. */
  body: string
  /** Attempts made (1 + retries). */
  attempts: number
}

export interface UpstreamClient {
  /** Resolves for any HTTP status (after retrying 502/503/504 when allowed); rejects with UpstreamError. */
  request(request: UpstreamRequest): Promise<UpstreamResponse>
  /** Closes pooled connections. */
  close(): void
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])
const RETRY_STATUS = new Set([502, 503, 504])
const EXPIRED = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
])
// X509_V_ERR_* names Node puts in `code` when the chain does not verify.
const UNTRUSTED =
  /^(UNABLE_TO_|SELF_SIGNED_CERT_IN_CHAIN$|DEPTH_ZERO_SELF_SIGNED_CERT$|CERT_|INVALID_CA$|PATH_LENGTH_EXCEEDED$|INVALID_PURPOSE$|HOSTNAME_MISMATCH$)/
const PROTOCOL = /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|WRONG_VERSION_NUMBER|NO_PROTOCOLS_AVAILABLE/
const PROTOCOL_MESSAGE =
  /protocol version|unsupported protocol|wrong version number|no protocols available/i
const PIN_MISMATCH = 'ERR_UPSTREAM_SPKI_PIN_MISMATCH'
const HOSTNAME_MISMATCH = 'ERR_TLS_CERT_ALTNAME_INVALID'
const TOKEN = /^[\x21-\x7e]+$/
const DNS_NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/
const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024

type NodeError = Error & { code?: unknown }

const toUpstreamError = (err: unknown, origin: string): UpstreamError => {
  if (err instanceof UpstreamError) return err
  const e = err as NodeError
  const nodeCode = typeof e?.code === 'string' ? e.code : undefined
  const message = typeof e?.message === 'string' ? e.message : ''
  const detail = { origin, ...(nodeCode !== undefined && { nodeCode }) }
  let code: UpstreamErrorCode = 'NETWORK'
  if (nodeCode === PIN_MISMATCH) code = 'TLS_PIN_MISMATCH'
  else if (nodeCode === HOSTNAME_MISMATCH) code = 'TLS_HOSTNAME'
  else if (nodeCode !== undefined && EXPIRED.has(nodeCode)) code = 'TLS_EXPIRED'
  else if (nodeCode !== undefined && UNTRUSTED.test(nodeCode)) code = 'TLS_UNTRUSTED'
  else if (
    (nodeCode !== undefined && PROTOCOL.test(nodeCode)) ||
    (nodeCode === 'EPROTO' && PROTOCOL_MESSAGE.test(message))
  )
    code = 'TLS_PROTOCOL'
  else if (
    nodeCode === 'EPROTO' ||
    nodeCode?.startsWith('ERR_SSL_') ||
    nodeCode?.startsWith('ERR_TLS_')
  )
    code = 'TLS_HANDSHAKE'
  else if (nodeCode === 'ABORT_ERR' || e?.name === 'AbortError') code = 'ABORTED'
  return new UpstreamError(code, detail)
}

/** Base64 SHA-256 of a DER SubjectPublicKeyInfo. */
const spkiSha256 = (spki: Uint8Array): string => {
  return createHash('sha256').update(spki).digest('base64')
}

/**
 * `sha256/<base64>` (RFC 7469 style), curl's `sha256//<base64>` or bare `<base64>`. A digest's
 * base64 (44 characters, canonical) may itself start with `/`, so each form is tried whole: at
 * most one of them is the canonical base64 of 32 bytes.
 */
export const normalizePin = (pin: string): string => {
  const value = pin.trim()
  const digest = [value, value.replace(/^sha256\//, ''), value.replace(/^sha256\/\//, '')].find(
    (candidate) => {
      const bytes = Buffer.from(candidate, 'base64')
      return bytes.length === 32 && bytes.toString('base64') === candidate
    },
  )
  if (digest === undefined) {
    throw new UpstreamError('INVALID_OPTIONS', { reason: 'spkiPins: not a base64 SHA-256 digest' })
  }
  return digest
}

/**
 * RFC 9525: a host name matches the certificate's DNS SANs only (a wildcard only as the whole
 * left-most label, standing for exactly one label); an IP literal matches its IP SANs only. The
 * subject CN is never read (Node's checkServerIdentity falls back to it).
 */
export const identityMatches = (host: string, cert: X509Certificate): boolean => {
  if (isIP(host) !== 0) return cert.checkIP(host) !== undefined
  const match = cert.checkHost(host, {
    subject: 'never',
    wildcards: true,
    partialWildcards: false,
    multiLabelWildcards: false,
    singleLabelSubdomains: false,
  })
  return match !== undefined
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const positive = (value: number | undefined, fallback: number, name: string): number => {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v < 0) {
    throw new UpstreamError('INVALID_OPTIONS', { reason: `${name} must be a number >= 0` })
  }
  return v
}

/** Where the client connects: parsed and checked once, at creation. */
interface Target {
  /** Reference identity: a DNS name or an IP literal (without brackets). */
  host: string
  /** SNI: the DNS name, or '' for an IP literal (RFC 6066 allows no address there). */
  servername: string
  port: number
  /** `host:port`, for error messages. */
  origin: string
  /** Base path without a trailing slash. */
  basePath: string
}

const parseBaseUrl = (baseUrl: string): Target => {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw new UpstreamError('INVALID_OPTIONS', { reason: 'baseUrl is not a URL' })
  }
  if (url.protocol !== 'https:') {
    throw new UpstreamError('INVALID_OPTIONS', { reason: 'baseUrl must be https:' })
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new UpstreamError('INVALID_OPTIONS', {
      reason: 'baseUrl must not carry credentials, a query or a fragment',
    })
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  // A reference identity is a DNS name or an IP literal, nothing a certificate pattern could equal.
  if (isIP(host) === 0 && !DNS_NAME.test(host)) {
    throw new UpstreamError('INVALID_OPTIONS', {
      reason: 'baseUrl host must be a DNS name or an IP address',
    })
  }
  return {
    host,
    servername: isIP(host) === 0 ? host : '',
    port: url.port ? Number(url.port) : 443,
    origin: url.host,
    basePath: url.pathname.replace(/\/+$/, ''),
  }
}

/**
 * One secure context for every connection: parsing ~150-260 root certificates costs tens of
 * milliseconds, paid once per cold start instead of once per connection.
 */
const secureContextOf = (options: UpstreamClientOptions): tls.SecureContext => {
  const extraCa =
    options.ca === undefined ? [] : typeof options.ca === 'string' ? [options.ca] : [...options.ca]
  try {
    return tls.createSecureContext({
      minVersion: 'TLSv1.2',
      ...(extraCa.length > 0 && {
        // 'default' = bundled roots + NODE_EXTRA_CA_CERTS (+ system store with --use-system-ca).
        ca: [
          ...(typeof tls.getCACertificates === 'function'
            ? tls.getCACertificates('default')
            : tls.rootCertificates),
          ...extraCa,
        ],
      }),
      ...(options.clientCert && { cert: options.clientCert.cert, key: options.clientCert.key }),
    })
  } catch (err) {
    // Never echo the underlying message: it could quote key material.
    const nodeCode =
      typeof (err as NodeError)?.code === 'string' ? String((err as NodeError).code) : undefined
    throw new UpstreamError('INVALID_OPTIONS', {
      reason: 'ca or clientCert could not be loaded',
      ...(nodeCode !== undefined && { nodeCode }),
    })
  }
}

const refusal = (code: typeof HOSTNAME_MISMATCH | typeof PIN_MISMATCH): Error =>
  Object.assign(
    new Error(code === PIN_MISMATCH ? MESSAGES.TLS_PIN_MISMATCH : MESSAGES.TLS_HOSTNAME),
    { code },
  )

/**
 * The `checkServerIdentity` of every connection: host name by SANs, then the pins. Node calls it
 * inside the handshake, after the chain verified and before 'secureConnect'; an Error returned
 * makes Node destroy the socket (`rejectUnauthorized: true`) before the request queued on it is
 * written, so no byte of it (no token) leaves on a refused connection.
 */
const identityCheck =
  (host: string, pins: ReadonlySet<string>) =>
  (_hostname: string, peer: PeerCertificate): Error | undefined => {
    const cert = new X509Certificate(peer.raw)
    if (!identityMatches(host, cert)) return refusal(HOSTNAME_MISMATCH)
    if (pins.size === 0) return undefined
    // Pin = SHA-256 of the leaf's DER SubjectPublicKeyInfo. Not `cert.pubkey`: for EC keys Node
    // gives the bare EC point there (for RSA, the SPKI), so re-derive the SPKI from the DER
    // certificate. Only the leaf is pinned: the issuer chain Node exposes is rebuilt from what the
    // peer sent and is not guaranteed to be the chain that was verified.
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' })
    return pins.has(spkiSha256(spki)) ? undefined : refusal(PIN_MISMATCH)
  }

/** What one attempt needs, fixed at creation. */
interface Connection {
  agent: Agent
  target: Target
  connectTimeoutMs: number
  responseTimeoutMs: number
  maxResponseBytes: number
}

const connectionOf = (options: UpstreamClientOptions, target: Target): Connection => {
  const pins = new Set((options.spkiPins ?? []).map(normalizePin))
  const maxSockets = options.maxSockets ?? 10
  return {
    target,
    connectTimeoutMs: positive(options.connectTimeoutMs, 3000, 'connectTimeoutMs'),
    responseTimeoutMs: positive(options.responseTimeoutMs, 10_000, 'responseTimeoutMs'),
    maxResponseBytes: positive(
      options.maxResponseBytes,
      DEFAULT_MAX_RESPONSE_BYTES,
      'maxResponseBytes',
    ),
    agent: new Agent({
      keepAlive: options.keepAlive ?? true,
      keepAliveMsecs: 1000,
      maxSockets,
      maxFreeSockets: maxSockets,
      timeout: positive(options.idleSocketTimeoutMs, 4000, 'idleSocketTimeoutMs'),
      secureContext: secureContextOf(options),
      // Explicit, so the process-wide environment switch cannot turn verification off.
      rejectUnauthorized: true,
      checkServerIdentity: identityCheck(target.host, pins),
    }),
  }
}

/** A request checked and encoded once, sent by every attempt. */
interface Prepared {
  method: string
  path: string
  headers: OutgoingHttpHeaders
  body: Uint8Array | undefined
}

const prepare = (request: UpstreamRequest, basePath: string): Prepared => {
  const method = (request.method ?? 'GET').toUpperCase()
  if (!/^[A-Z]+$/.test(method)) throw new UpstreamError('INVALID_REQUEST', { reason: 'bad method' })
  if (
    !request.path.startsWith('/') ||
    request.path.startsWith('//') ||
    /[\s\0]/.test(request.path)
  ) {
    throw new UpstreamError('INVALID_REQUEST', {
      reason: "path must start with a single '/' and hold no whitespace",
    })
  }
  const headers: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (/[\r\n\0]/.test(value) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new UpstreamError('INVALID_REQUEST', { reason: 'invalid header name or value' })
    }
    headers[name.toLowerCase()] = value
  }
  if (request.token !== undefined) {
    if (!TOKEN.test(request.token)) {
      throw new UpstreamError('INVALID_REQUEST', {
        reason: 'token holds characters not allowed in a header',
      })
    }
    headers.authorization = `Bearer ${request.token}`
  }
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body
  if (body !== undefined) headers['content-length'] = body.byteLength
  return { method, path: basePath + request.path, headers, body }
}

/**
 * One request on one connection. The connect timeout covers TCP, the handshake and the checks of a
 * new connection (it ends at 'secureConnect'); the response timeout starts once the connection is
 * verified (a pooled one already is: `authorized`).
 */
const attempt = (
  connection: Connection,
  prepared: Prepared,
  signal: AbortSignal | undefined,
): Promise<Omit<UpstreamResponse, 'attempts'>> =>
  new Promise((resolve, reject) => {
    const { agent, target, connectTimeoutMs, responseTimeoutMs, maxResponseBytes } = connection
    const { origin } = target
    let timer: NodeJS.Timeout | undefined
    let settled = false
    const finish = (err: unknown, response?: Omit<UpstreamResponse, 'attempts'>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (response) return resolve(response)
      reject(toUpstreamError(err, origin))
      req.destroy()
    }
    const fail = (err: unknown) => finish(err)
    const startTimer = (code: 'CONNECT_TIMEOUT' | 'RESPONSE_TIMEOUT', ms: number) => {
      clearTimeout(timer)
      timer = setTimeout(() => fail(new UpstreamError(code, { origin })), ms)
    }
    const req = httpsRequest({
      agent,
      host: target.host,
      servername: target.servername,
      port: target.port,
      method: prepared.method,
      path: prepared.path,
      headers: prepared.headers,
      ...(signal && { signal }),
    })
    req.once('socket', (socket) => {
      const tlsSocket = socket as TLSSocket
      if (tlsSocket.authorized) return startTimer('RESPONSE_TIMEOUT', responseTimeoutMs)
      startTimer('CONNECT_TIMEOUT', connectTimeoutMs)
      tlsSocket.once('secureConnect', () => {
        if (!settled) startTimer('RESPONSE_TIMEOUT', responseTimeoutMs)
      })
    })
    req.on('error', fail)
    req.once('response', (res) => {
      if (Number(res.headers['content-length']) > maxResponseBytes)
        return fail(new UpstreamError('RESPONSE_TOO_LARGE', { origin }))
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxResponseBytes) fail(new UpstreamError('RESPONSE_TOO_LARGE', { origin }))
        else chunks.push(chunk)
      })
      res.on('error', fail)
      res.once('close', () => {
        if (!res.complete)
          fail(Object.assign(new Error('response truncated'), { code: 'ECONNRESET' }))
      })
      res.once('end', () =>
        finish(undefined, {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
    })
    req.end(prepared.body)
  })

export const createUpstreamClient = (options: UpstreamClientOptions): UpstreamClient => {
  const target = parseBaseUrl(options.baseUrl)
  const maxRetries = Math.floor(positive(options.maxRetries, 2, 'maxRetries'))
  const retryBaseDelayMs = positive(options.retryBaseDelayMs, 100, 'retryBaseDelayMs')
  const connection = connectionOf(options, target)

  return {
    async request(request) {
      const prepared = prepare(request, target.basePath)
      const attempts = IDEMPOTENT.has(prepared.method) ? maxRetries + 1 : 1
      for (let n = 1; ; n++) {
        try {
          const response = await attempt(connection, prepared, request.signal)
          if (n < attempts && RETRY_STATUS.has(response.status) && !request.signal?.aborted) {
            await sleep(backoff(n, retryBaseDelayMs))
            continue
          }
          return { ...response, attempts: n }
        } catch (err) {
          const error = toUpstreamError(err, target.origin)
          if (n < attempts && error.retryable && !request.signal?.aborted) {
            await sleep(backoff(n, retryBaseDelayMs))
            continue
          }
          error.attempts = n
          throw error
        }
      }
    },
    close() {
      connection.agent.destroy()
    },
  }
}

/** Exponential backoff with jitter: base * 2^(n-1) * [0.5, 1), capped at 1 s. */
const backoff = (retry: number, baseMs: number): number => {
  return Math.min(1000, baseMs * 2 ** (retry - 1)) * (0.5 + Math.random() / 2)
}
