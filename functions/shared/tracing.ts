// X-Ray tracing of the sample functions with Powertools Tracer (the X-Ray SDK underneath).
// The SDK is heavy to load (docs/BENCHMARKS.md), so it is imported only when tracing can be
// on: in Lambda (AWS_EXECUTION_ENV), not under sam local, and POWERTOOLS_TRACE_ENABLED is not
// "false". Otherwise every export below is a no-op and no X-Ray code is evaluated; an
// invocation Lambda does not sample costs the SDK's own check only.
// Traced: the handler (Powertools' "## <handler>" subsegment), the AWS SDK clients passed to
// traceAwsClient, the decrypt round at INIT, calls wrapped in traceCall. Annotations hold counts
// only, never the name or value of a secret; responses are never captured (they may hold one).

import type { Tracer } from '@aws-lambda-powertools/tracer'
import type { MiddlewareObj } from '@middy/core'
import type { Subsegment } from 'aws-xray-sdk-core'

export const tracingWanted = (env: Readonly<Record<string, string | undefined>>): boolean =>
  env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false' &&
  env.AWS_SAM_LOCAL !== 'true' &&
  (env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_')

const load = async () => {
  const [{ Tracer }, { captureLambdaHandler }, xray] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/tracer/middleware'),
    import('aws-xray-sdk-core'),
  ])
  // The upstream call gets its own subsegment (traceCall): no capture of every http(s) request.
  const tracer: Tracer = new Tracer({ captureHTTPsRequests: false })
  // Lambda with active tracing always passes a trace header; without one (PassThrough, a
  // local run) there is nothing to trace, which is not an error worth a log line.
  xray.default.setContextMissingStrategy('IGNORE_ERROR')
  return { tracer, captureLambdaHandler, Subsegment: xray.default.Subsegment }
}

const xray = tracingWanted(process.env) ? await load() : undefined

/** Number of secrets of a fetchData, and of KMS calls it costs (one per origin, VAR#field aside). */
export const roundCounts = (fetchData: Readonly<Record<string, string>>) => {
  const sources = Object.values(fetchData)
  return {
    secrets: sources.length,
    kmsCalls: new Set(sources.map((source) => source.split('#')[0])).size,
  }
}

interface Round {
  start: number
  end: number
  error: unknown
  counts: ReturnType<typeof roundCounts>
}
let initRound: Round | undefined

/**
 * Times the decrypt round started at INIT: pass the middleware's `ready()` right after
 * creating it (it settles with the round's error, or undefined). No segment exists during
 * INIT: the round is added, with its real start and end, to the first traced invocation.
 */
export const traceDecryptRound = (
  ready: Promise<unknown>,
  counts: ReturnType<typeof roundCounts>,
): void => {
  if (xray === undefined) return
  const start = Date.now() / 1000
  ready.then((error) => {
    initRound = { start, end: Date.now() / 1000, error, counts }
  })
}

const addInitRound = (parent: Subsegment, Subsegment: new (name: string) => Subsegment) => {
  if (initRound === undefined) return
  const { start, end, error, counts } = initRound
  initRound = undefined
  // A closed subsegment (end_time set) joins the tree without reopening its parent.
  const sub = new Subsegment('### kms-secrets decrypt (INIT)')
  const times = sub as unknown as { start_time: number; end_time: number; in_progress?: boolean }
  times.start_time = start
  times.end_time = end
  delete times.in_progress
  sub.addAnnotation('secrets', counts.secrets)
  sub.addAnnotation('kmsCalls', counts.kmsCalls)
  if (error !== undefined) sub.addError(error as Error)
  parent.addSubsegment(sub)
}

/** Outermost Middy middleware: the handler's subsegment, the INIT round once (none when off). */
export const tracingMiddleware = (): MiddlewareObj[] => {
  if (xray === undefined) return []
  const inner = xray.captureLambdaHandler(xray.tracer, { captureResponse: false })
  // At the end of the invocation: the round it waited for has settled by then.
  const withRound =
    (next: typeof inner.after): typeof inner.after =>
    (request) => {
      const parent = xray.tracer.getSegment()
      if (parent !== undefined) addInitRound(parent as Subsegment, xray.Subsegment)
      return next?.(request)
    }
  return [
    { before: inner.before, after: withRound(inner.after), onError: withRound(inner.onError) },
  ]
}

/** The client, its calls traced as subsegments (AWS SDK v3). */
export const traceAwsClient = <T>(client: T): T =>
  xray === undefined ? client : xray.tracer.captureAWSv3Client(client)

/** Runs `call` in a subsegment `name`; `annotate` adds counts / status from its result. */
export const traceCall = async <T>(
  name: string,
  call: () => Promise<T>,
  annotate: (result: T) => Record<string, number | string | boolean>,
): Promise<T> => {
  const parent = xray?.tracer.getSegment()
  if (xray === undefined || parent === undefined) return call()
  const sub = parent.addNewSubsegment(name)
  xray.tracer.setSegment(sub)
  try {
    const result = await call()
    for (const [key, value] of Object.entries(annotate(result))) sub.addAnnotation(key, value)
    return result
  } catch (error) {
    sub.addError(error as Error)
    throw error
  } finally {
    sub.close()
    xray.tracer.setSegment(parent)
  }
}
