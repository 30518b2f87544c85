// A recording HTTPS server on a free 127.0.0.1 port. It records what reached the HTTP layer
// (Authorization included) and, below HTTP, every decrypted byte each TLS connection received,
// so a test can prove a client sent nothing (no token) on a connection it refused. Dev tooling.
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { createServer, type ServerOptions } from 'node:https'
import * as net from 'node:net'
import { buffer } from 'node:stream/consumers'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TLSSocket } from 'node:tls'

/** An answer (`json` is sent unless there is a `body`), or 'reset': no answer, the connection destroyed. */
type HandlerResult =
  | {
      status?: number
      headers?: Record<string, string>
      json?: unknown
      body?: string | Uint8Array
    }
  | 'reset'
type RequestHandler = (
  request: RecordedRequest,
  index: number,
) => HandlerResult | Promise<HandlerResult>

export type HttpsServerOptions = ServerOptions & {
  cert: string
  key: string
  /** Delay before each answer, once the whole request arrived. */
  delayMs?: number
  /** Default: 200 `{ "ok": true, "path": ... }`. */
  handler?: RequestHandler
}

/** Listens on a free 127.0.0.1 port; `stop` closes it and every connection. */
async function serve(server: net.Server) {
  const sockets = new Set<net.Socket>()
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await once(server.listen(0, '127.0.0.1'), 'listening')
  const { port } = server.address() as net.AddressInfo
  const stop = () => {
    for (const socket of sockets) socket.destroy()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return { url: `https://127.0.0.1:${port}`, port, sockets, stop }
}

/** What reached the HTTP layer: `path` with its query; `connection` indexes `connections`. */
const recordOf = (req: IncomingMessage, body: string, connection: number) => {
  const socket = req.socket as TLSSocket
  const subject = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined
  const { method = '', url: path = '', headers } = req
  const tlsVersion = socket.getProtocol()
  // clientCertSubject: the CN of a verified client certificate.
  const cert = subject === undefined ? {} : { clientCertSubject: String(subject) }
  return { method, path, headers, body, connection, tlsVersion, ...cert }
}
type RecordedRequest = ReturnType<typeof recordOf>

const echoPath: RequestHandler = (request) => ({ json: { ok: true, path: request.path } })
const connectionRecord = (socket: TLSSocket) => ({
  tlsVersion: socket.getProtocol(),
  bytesReceived: 0,
  clientAuthorized: socket.authorized,
})

export async function startHttpsServer(options: HttpsServerOptions) {
  const { delayMs = 0, handler = echoPath, ...tls } = options
  const requests: RecordedRequest[] = []
  const connections: ReturnType<typeof connectionRecord>[] = []
  const tlsErrors: string[] = []
  const connectionIndex = new WeakMap<net.Socket, number>()
  const server = createServer({ ...tls, keepAlive: true })

  server.on('secureConnection', (socket: TLSSocket) => {
    const record = connectionRecord(socket)
    connectionIndex.set(socket, connections.push(record) - 1)
    // A second 'data' listener next to the HTTP parser's: it sees every decrypted byte.
    socket.on('data', (chunk: Buffer) => {
      record.bytesReceived += chunk.length
    })
  })
  server.on('tlsClientError', (error: NodeJS.ErrnoException) => {
    tlsErrors.push(error.code ?? error.message)
  })
  server.on('request', async (req, res) => {
    const body = (await buffer(req)).toString('utf8')
    const socket = req.socket as TLSSocket
    const request = recordOf(req, body, connectionIndex.get(socket) ?? -1)
    const index = requests.push(request) - 1
    try {
      await sleep(delayMs)
      const result = await handler(request, index)
      if (res.destroyed) return
      if (result === 'reset') return socket.destroy()
      const json = result.body === undefined && result.json !== undefined
      res.writeHead(result.status ?? 200, {
        ...(json && { 'content-type': 'application/json' }),
        ...result.headers,
      })
      res.end(json ? JSON.stringify(result.json) : (result.body ?? ''))
    } catch {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    }
  })
  const served = await serve(server)

  return {
    ...served,
    /** Requests that reached the HTTP layer, in arrival order. */
    requests,
    /** One per completed TLS handshake, with the decrypted bytes it received. */
    connections,
    /** Error codes of handshakes that failed on the server side. */
    tlsErrors,
    get tlsHandshakes() {
      return connections.length
    },
    get applicationBytesReceived() {
      return connections.reduce((sum, c) => sum + c.bytesReceived, 0)
    },
    /** Once no connection is open: a refusal settles before the server read all that was sent. */
    drained: async () => {
      for (const socket of served.sockets) await once(socket, 'close')
    },
  }
}

/** A TCP server that never answers: a TLS client hangs in its handshake (connect timeouts). */
export async function startSilentTcpServer() {
  const chunks: Buffer[] = []
  let connections = 0
  const server = net.createServer((socket) => {
    connections++
    socket.on('data', (chunk) => chunks.push(chunk)).on('error', () => {})
  })
  return {
    ...(await serve(server)),
    /** TCP connections accepted. */
    get connections() {
      return connections
    },
    /** Raw bytes received: a TLS ClientHello, then nothing useful. */
    received: () => Buffer.concat(chunks),
  }
}

export type RunningHttpsServer = Awaited<ReturnType<typeof startHttpsServer>>
