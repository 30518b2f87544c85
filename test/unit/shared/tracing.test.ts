// The tracing module's rules that hold without X-Ray loaded (the unit tests' environment is
// not Lambda): when tracing can be on, and that nothing is added when tracing is off. The traced path runs in
// test/integration/xray.test.ts against the built functions.
import { describe, expect, it } from 'vitest'
import { tracedUpstream } from '../../../functions/secure-fetch/tracing.ts'
import { tracingMiddleware, tracingWanted } from '../../../functions/shared/tracing.ts'

const LAMBDA = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }

describe('tracing', () => {
  it.each([
    [{}, false],
    [LAMBDA, true],
    [{ ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'FALSE' }, false],
    [{ ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'true' }, true],
    [{ ...LAMBDA, AWS_SAM_LOCAL: 'true' }, false],
    [{ AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' }, false],
  ])('is wanted in %j: %s', (env, wanted) => {
    // Prepare / Act / Assess
    expect(tracingWanted(env)).toBe(wanted)
  })

  it('costs nothing when off: no middleware, the upstream factory itself', () => {
    // Prepare
    const create = () => ({ request: async () => ({}) as never, close: () => {} })
    // Act
    const middlewares = tracingMiddleware()
    const factory = tracedUpstream(create, {})
    // Assess
    expect(middlewares).toEqual([])
    expect(factory).toBe(create)
  })
})
