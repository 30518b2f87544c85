// X-Ray tracing of the sample functions with Powertools Tracer (the X-Ray SDK underneath).
// The SDK is heavy to load (docs/BENCHMARKS.md), so it is imported only when tracing can be
// on: in Lambda (AWS_EXECUTION_ENV), not under sam local, and POWERTOOLS_TRACE_ENABLED is not
// "false". Otherwise every export below is a no-op and no X-Ray code is evaluated; an
// invocation Lambda does not sample costs the SDK's own check only.
// Traced: the handler (Powertools' "## <handler>" subsegment), the AWS SDK clients passed to
// traceAwsClient, each decrypt round (the INIT one too), calls wrapped in traceCall. Annotations hold counts
// only, never the name or value of a secret; responses are never captured (they may hold one).

import type { Tracer } from '@aws-lambda-powertools/tracer'
import type { MiddlewareObj } from '@middy/core'
import type { Subsegment } from 'aws-xray-sdk-core'
import type { RoundReport } from 'middy-kms-secrets/lite'

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

let unsent: Array<RoundReport & { init: boolean }> = []
let invoked = false

/**
 * Records a decrypt round (kmsSecrets' onRound). No segment exists during INIT, and a round
 * is reported once over: it is added, with its real start and end, to the next invocation.
 */
export const traceDecryptRound = (report: RoundReport): void => {
  if (xray === undefined) return
  // The last few: invocations Lambda does not sample may let rounds (refreshes) pile up.
  unsent = [...unsent.slice(-4), { ...report, init: !invoked }]
}

const addRounds = (parent: Subsegment, Subsegment: new (name: string) => Subsegment) => {
  for (const { startedAt, durationMs, secrets, kmsCalls, error, init } of unsent) {
    // A closed subsegment (end_time set) joins the tree without reopening its parent.
    const sub = new Subsegment(init ? '### kms-secrets decrypt (INIT)' : '### kms-secrets decrypt')
    const times = sub as unknown as { start_time: number; end_time: number; in_progress?: boolean }
    times.start_time = startedAt / 1000
    times.end_time = (startedAt + durationMs) / 1000
    delete times.in_progress
    sub.addAnnotation('secrets', secrets)
    sub.addAnnotation('kmsCalls', kmsCalls)
    if (error !== undefined) sub.addError(error as Error)
    parent.addSubsegment(sub)
  }
  unsent = []
}

/** Outermost Middy middleware: the handler's subsegment, and the rounds since the last one. */
export const tracingMiddleware = (): MiddlewareObj[] => {
  if (xray === undefined) return []
  const inner = xray.captureLambdaHandler(xray.tracer, { captureResponse: false })
  // At the end of the invocation: the round it waited for has settled by then.
  const withRound =
    (next: typeof inner.after): typeof inner.after =>
    (request) => {
      const parent = xray.tracer.getSegment()
      if (parent !== undefined) addRounds(parent as Subsegment, xray.Subsegment)
      return next?.(request)
    }
  const before: typeof inner.before = (request) => {
    invoked = true
    return inner.before?.(request)
  }
  return [{ before, after: withRound(inner.after), onError: withRound(inner.onError) }]
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
