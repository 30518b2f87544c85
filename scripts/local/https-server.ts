/**
 * A recording HTTPS server on a free 127.0.0.1 port (dev tooling, never bundled).
 *
 * It records what reached the application layer (every request, Authorization header included)
 * and, below HTTP, every decrypted byte each TLS connection received, so a test can prove that
 * a client sent nothing (no token) on a connection it refused.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { createServer as createTcpServer } from 'node:net'
import type { SecureVersion, TLSSocket } from 'node:tls'

export interface RecordedRequest {
  method: string
  /** Request target as sent (path + query). */
  path: string
  headers: IncomingHttpHeaders
  body: string
  /** Index of the TLS connection it came on (see `connections`). */
  connection: number
  /** Negotiated protocol, e.g. 'TLSv1.3'. */
  tlsVersion: string | null
  /** Subject CN of the client certificate, when one was presented and verified. */
  clientCertSubject?: string
}

export interface ConnectionRecord {
  /** Negotiated protocol, e.g. 'TLSv1.3'. */
  tlsVersion: string | null
  /** Decrypted application bytes received on this connection (HTTP request bytes). */
  bytesReceived: number
  /** Client certificate verified (only meaningful with `requestCert`). */
  clientAuthorized: boolean
}

export interface HandlerResult {
  status?: number
  headers?: Record<string, string>
  /** Serialized as JSON (content-type application/json) unless `body` is given. */
  json?: unknown
  /** Raw body, sent as is. */
  body?: string | Uint8Array
}

/** Return 'reset' to destroy the connection without any response. */
export type RequestHandler = (
  request: RecordedRequest,
  index: number,
) => HandlerResult | 'reset' | Promise<HandlerResult | 'reset'>

export interface HttpsServerOptions {
  cert: string
  key: string
  /** CA(s) for client certificates (mutual TLS). */
  ca?: string | string[]
  /** Ask for a client certificate; with `ca`, a missing or unverified one fails the handshake. */
  requestCert?: boolean
  minVersion?: SecureVersion
  maxVersion?: SecureVersion
  /** OpenSSL cipher string, e.g. 'DEFAULT@SECLEVEL=0' to let TLS 1.0/1.1 handshake on OpenSSL 3. */
  ciphers?: string
  /** Delay before each response (after the whole request was received). */
  delayMs?: number
  /** Default: 200 `{ "ok": true, "path": ... }`. */
  handler?: RequestHandler
}

export interface RunningHttpsServer {
  /** `https://127.0.0.1:<port>` */
  url: string
  port: number
  /** Requests that reached the HTTP layer, in arrival order. */
  requests: RecordedRequest[]
  /** Completed TLS handshakes (server side). */
  readonly tlsHandshakes: number
  /** One entry per completed TLS handshake. */
  connections: ConnectionRecord[]
  /** Error codes of handshakes that failed on the server side (`tlsClientError`). */
  tlsErrors: string[]
  /** Sum of `bytesReceived` over all connections. */
  readonly applicationBytesReceived: number
  /**
   * Resolves once no accepted connection is open: a client's refusal settles before the server has
   * read what that client may have sent, so wait for this before reading the counts above.
   */
  drained(): Promise<void>
  stop(): Promise<void>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function listen(server: {
  listen(port: number, host: string, cb: () => void): unknown
  once(event: 'error', cb: (err: Error) => void): unknown
}): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
}

export async function startHttpsServer(options: HttpsServerOptions): Promise<RunningHttpsServer> {
  const requests: RecordedRequest[] = []
  const connections: ConnectionRecord[] = []
  const tlsErrors: string[] = []
  const sockets = new Set<Socket>()
  const onDrained: Array<() => void> = []
  const connectionIndex = new WeakMap<Socket, number>()
  const handler: RequestHandler =
    options.handler ?? ((request) => ({ json: { ok: true, path: request.path } }))

  const server = createServer({
    cert: options.cert,
    key: options.key,
    ...(options.ca !== undefined && { ca: options.ca }),
    ...(options.requestCert !== undefined && { requestCert: options.requestCert }),
    ...(options.minVersion !== undefined && { minVersion: options.minVersion }),
    ...(options.maxVersion !== undefined && { maxVersion: options.maxVersion }),
    ...(options.ciphers !== undefined && { ciphers: options.ciphers }),
    keepAlive: true,
  })

  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => {
      sockets.delete(socket)
      if (sockets.size === 0) for (const resolve of onDrained.splice(0)) resolve()
    })
  })
  server.on('secureConnection', (socket: TLSSocket) => {
    const record: ConnectionRecord = {
      tlsVersion: socket.getProtocol(),
      bytesReceived: 0,
      clientAuthorized: socket.authorized,
    }
    connectionIndex.set(socket, connections.push(record) - 1)
    // A second 'data' listener next to the HTTP parser's: it sees every decrypted byte.
    socket.on('data', (chunk: Buffer) => {
      record.bytesReceived += chunk.length
    })
  })
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
    tlsErrors.push(err.code ?? err.message)
  })

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      const socket = req.socket as TLSSocket
      const peer = socket.getPeerCertificate()
      const subjectCn = peer?.subject?.CN
      const request: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        connection: connectionIndex.get(socket) ?? -1,
        tlsVersion: socket.getProtocol(),
        ...(socket.authorized &&
          subjectCn !== undefined && { clientCertSubject: String(subjectCn) }),
      }
      const index = requests.push(request) - 1
      try {
        if (options.delayMs) await sleep(options.delayMs)
        const result = await handler(request, index)
        if (res.destroyed) return
        if (result === 'reset') {
          socket.destroy()
          return
        }
        const status = result.status ?? 200
        const headers: Record<string, string> = { ...result.headers }
        let body: string | Uint8Array = ''
        if (result.body !== undefined) body = result.body
        else if (result.json !== undefined) {
          body = JSON.stringify(result.json)
          headers['content-type'] ??= 'application/json'
        }
        res.writeHead(status, headers)
        res.end(body)
      } catch {
        if (!res.headersSent) res.writeHead(500)
        res.end()
      }
    })
  })

  await listen(server)
  const { port } = server.address() as AddressInfo

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    connections,
    tlsErrors,
    get tlsHandshakes() {
      return connections.length
    },
    get applicationBytesReceived() {
      return connections.reduce((sum, c) => sum + c.bytesReceived, 0)
    },
    drained: () =>
      new Promise<void>((resolve) => (sockets.size === 0 ? resolve() : onDrained.push(resolve))),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface RunningTcpServer {
  url: string
  port: number
  /** TCP connections accepted. */
  readonly connections: number
  /** Raw bytes received (a TLS ClientHello, then nothing useful). */
  readonly bytesReceived: number
  /** Everything received, concatenated (to search it for a token). */
  received(): Buffer
  stop(): Promise<void>
}

/**
 * A TCP server on 127.0.0.1 that accepts connections and never answers: a TLS client hangs in
 * its handshake (to test connect timeouts without leaving the loopback).
 */
export async function startSilentTcpServer(): Promise<RunningTcpServer> {
  const sockets = new Set<Socket>()
  let connections = 0
  const chunks: Buffer[] = []
  const server = createTcpServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.once('close', () => sockets.delete(socket))
  })
  await listen(server)
  const { port } = server.address() as AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections
    },
    get bytesReceived() {
      return chunks.reduce((sum, c) => sum + c.length, 0)
    },
    received: () => Buffer.concat(chunks),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
