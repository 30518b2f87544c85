// X-Ray for secure-fetch (see ../shared/tracing.ts): the upstream HTTPS call in its own
// subsegment, annotated with the HTTP status and the number of attempts, errors recorded.
// Neither the token nor the response body is ever put in a segment.
import { traceCall, tracingWanted } from '../shared/tracing.ts'
import type { UpstreamClient, UpstreamClientOptions } from './upstream.ts'

export const UPSTREAM_SUBSEGMENT = '## upstream'

/** The client factory of upstreamPool, its requests traced (unchanged when tracing is off). */
export const tracedUpstream = (
  create: (options: UpstreamClientOptions) => UpstreamClient,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ((options: UpstreamClientOptions) => UpstreamClient) => {
  if (!tracingWanted(env)) return create
  return (options) => {
    const client = create(options)
    return {
      request: (request) =>
        traceCall(
          UPSTREAM_SUBSEGMENT,
          () => client.request(request),
          ({ status, attempts }) => ({ status, attempts }),
        ),
      close: () => client.close(),
    }
  }
}
