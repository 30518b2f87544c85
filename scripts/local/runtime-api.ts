// A loopback Lambda Runtime API (2018-06-01) for aws-lambda-ric: GET invocation/next (held open
// until an event is queued, as on Lambda; the first one ends INIT), POST invocation/<id>/response
// or /error, and init/error. Dev tooling, never bundled.

import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { text } from 'node:stream/consumers'

const PREFIX = '/2018-06-01/runtime'

export interface RuntimeEvent {
  payload: unknown
  requestId: string
  /** Epoch ms; the context's getRemainingTimeInMillis() counts down to it. */
  deadlineMs: number
  invokedFunctionArn: string
  /** The runtime client puts it into _X_AMZN_TRACE_ID. */
  traceId: string
}

/** The handler's value, or Lambda's error shape as the runtime client posts it. */
export type RuntimeOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: { errorType: string; errorMessage: string; trace?: string[] } }

/** What the runtime posted: a response (JSON; '' is null) or an error of Lambda's shape. */
function outcome(kind: string, body: string, type = 'Unknown'): RuntimeOutcome {
  try {
    if (kind === 'response') return { ok: true, value: body === '' ? null : JSON.parse(body) }
    const { errorType, errorMessage, trace } = JSON.parse(body)
    const error = { errorType: String(errorType ?? type), errorMessage: String(errorMessage ?? '') }
    const traced = Array.isArray(trace) && { trace: trace.map(String) }
    return { ok: false, error: { ...error, ...traced } }
  } catch {
    // Unreadable: still an answer, of the header's type.
    const errorType = kind === 'response' ? 'Runtime.InvalidResponse' : type
    return { ok: false, error: { errorType, errorMessage: body } }
  }
}

function send(response: ServerResponse, event: RuntimeEvent): void {
  response.writeHead(200, {
    'content-type': 'application/json',
    'lambda-runtime-aws-request-id': event.requestId,
    'lambda-runtime-deadline-ms': String(event.deadlineMs),
    'lambda-runtime-invoked-function-arn': event.invokedFunctionArn,
    'lambda-runtime-trace-id': event.traceId,
  })
  response.end(JSON.stringify(event.payload))
}

/** Starts the Runtime API on a free 127.0.0.1 port. */
export async function startRuntimeApi() {
  const init = Promise.withResolvers<RuntimeOutcome>()
  const queued: RuntimeEvent[] = []
  let waiting: ServerResponse | undefined
  const answers = new Map<string, (outcome: RuntimeOutcome) => void>()

  const server = createServer(async (request, response) => {
    const body = await text(request)
    const url = request.url ?? ''
    const errorType = request.headers['lambda-runtime-function-error-type'] as string | undefined
    const [, id = '', kind] = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(\w+)$/.exec(url) ?? []
    const answer = answers.get(decodeURIComponent(id))
    if (request.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      init.resolve({ ok: true, value: null })
      const event = queued.shift()
      if (event) send(response, event)
      else waiting = response
      return
    }
    if (request.method === 'POST' && url === `${PREFIX}/init/error`) {
      init.resolve(outcome('error', body, errorType))
    } else if (request.method === 'POST' && answer && (kind === 'response' || kind === 'error')) {
      answers.delete(decodeURIComponent(id))
      answer(outcome(kind, body, errorType))
    } else {
      response.writeHead(404, { 'content-type': 'application/json' })
      return response.end('{"errorType":"InvalidRequest","errorMessage":"unknown path"}')
    }
    response.writeHead(202, { 'content-type': 'application/json' })
    response.end('{"status":"OK"}')
  })
  await once(server.listen(0, '127.0.0.1'), 'listening')

  return {
    /** host:port for AWS_LAMBDA_RUNTIME_API. */
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Resolves at the runtime's first GET /next (INIT done) or with its POST /init/error. */
    init: init.promise,
    /** Hands `event` to the runtime's pending or next GET /next; resolves with its answer. */
    invoke(event: RuntimeEvent): Promise<RuntimeOutcome> {
      const outcome = new Promise<RuntimeOutcome>((resolve) =>
        answers.set(event.requestId, resolve),
      )
      if (waiting) send(waiting, event)
      else queued.push(event)
      waiting = undefined
      return outcome
    },
    close: () => {
      waiting?.destroy()
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
