// A loopback Lambda Runtime API (2018-06-01): what aws-lambda-ric talks to on Lambda. It
// serves GET /runtime/invocation/next (held open until an event is queued, as Lambda holds it
// while the environment waits), POST /runtime/invocation/<id>/response and /error, and POST
// /runtime/init/error. The first GET /next marks the end of INIT. Dev tooling: never bundled.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

const PREFIX = '/2018-06-01/runtime'

/** Lambda's error shape, as the runtime client posts it. */
export interface RuntimeError {
  errorType: string
  errorMessage: string
  trace?: string[]
}

export interface RuntimeEvent {
  payload: unknown
  requestId: string
  /** Epoch ms; the context's getRemainingTimeInMillis() counts down to it. */
  deadlineMs: number
  invokedFunctionArn: string
  /** Lambda-Runtime-Trace-Id: the runtime client puts it into _X_AMZN_TRACE_ID. */
  traceId: string
}

export type RuntimeOutcome = { ok: true; value: unknown } | { ok: false; error: RuntimeError }

export interface RuntimeApi {
  /** host:port for AWS_LAMBDA_RUNTIME_API. */
  readonly address: string
  /** Resolves at the runtime's first GET /next (INIT done) or with its POST /init/error. */
  readonly init: Promise<RuntimeOutcome>
  /** Hands `event` to the runtime's (pending or next) GET /next; resolves with its answer. */
  invoke(event: RuntimeEvent): Promise<RuntimeOutcome>
  close(): Promise<void>
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

/** The posted error body; anything unreadable still becomes an error of the header's type. */
function asError(body: string, typeHeader: string | string[] | undefined): RuntimeError {
  try {
    const parsed = JSON.parse(body) as Partial<RuntimeError>
    return {
      errorType: String(parsed.errorType ?? typeHeader ?? 'Unknown'),
      errorMessage: String(parsed.errorMessage ?? ''),
      ...(Array.isArray(parsed.trace) && { trace: parsed.trace.map(String) }),
    }
  } catch {
    return { errorType: String(typeHeader ?? 'Unknown'), errorMessage: body }
  }
}

function parseJson(body: string): unknown {
  return body === '' ? null : (JSON.parse(body) as unknown)
}

/** Starts the Runtime API on 127.0.0.1 (a free port). */
export async function startRuntimeApi(): Promise<RuntimeApi> {
  let initSettle: (outcome: RuntimeOutcome) => void = () => {}
  const init = new Promise<RuntimeOutcome>((resolve) => {
    initSettle = resolve
  })
  const queued: RuntimeEvent[] = []
  let waiting: ServerResponse | undefined
  const answers = new Map<string, (outcome: RuntimeOutcome) => void>()

  const send = (response: ServerResponse, event: RuntimeEvent) => {
    response.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': event.requestId,
      'lambda-runtime-deadline-ms': String(event.deadlineMs),
      'lambda-runtime-invoked-function-arn': event.invokedFunctionArn,
      'lambda-runtime-trace-id': event.traceId,
    })
    response.end(JSON.stringify(event.payload))
  }

  const server = createServer(async (request, response) => {
    const url = request.url ?? ''
    const body = await readBody(request)
    const accepted = () => {
      response.writeHead(202, { 'content-type': 'application/json' })
      response.end('{"status":"OK"}')
    }
    if (request.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      initSettle({ ok: true, value: null })
      const event = queued.shift()
      if (event === undefined) waiting = response
      else send(response, event)
      return
    }
    if (request.method === 'POST' && url === `${PREFIX}/init/error`) {
      initSettle({
        ok: false,
        error: asError(body, request.headers['lambda-runtime-function-error-type']),
      })
      return accepted()
    }
    const posted = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url)
    const answer = posted && answers.get(decodeURIComponent(posted[1] as string))
    if (request.method === 'POST' && posted && answer) {
      answers.delete(decodeURIComponent(posted[1] as string))
      if (posted[2] === 'response') {
        try {
          answer({ ok: true, value: parseJson(body) })
        } catch {
          answer({ ok: false, error: { errorType: 'Runtime.InvalidResponse', errorMessage: body } })
        }
      } else {
        answer({
          ok: false,
          error: asError(body, request.headers['lambda-runtime-function-error-type']),
        })
      }
      return accepted()
    }
    response.writeHead(404, { 'content-type': 'application/json' })
    response.end('{"errorType":"InvalidRequest","errorMessage":"unknown path"}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    address: `127.0.0.1:${port}`,
    init,
    invoke(event) {
      const outcome = new Promise<RuntimeOutcome>((resolve) => {
        answers.set(event.requestId, resolve)
      })
      const pending = waiting
      waiting = undefined
      if (pending === undefined) queued.push(event)
      else send(pending, event)
      return outcome
    },
    close: () =>
      new Promise<void>((resolve) => {
        waiting?.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
