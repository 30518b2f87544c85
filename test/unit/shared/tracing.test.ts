// The tracing module's rules that hold without X-Ray loaded (the unit tests' environment is
// not Lambda): when tracing can be on, what a decrypt round costs in KMS calls, and that the
// upstream client is untouched when tracing is off. The traced path runs in
// test/integration/xray.test.ts against the built functions.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { tracedUpstream } from '../../../functions/secure-fetch/tracing.ts'
import { roundCounts, tracingMiddleware, tracingWanted } from '../../../functions/shared/tracing.ts'

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

  it('counts one KMS call per origin, whatever the number of fields read from it', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }),
          fc.tuple(fc.constantFrom('A', 'B', 'file:c.kse'), fc.option(fc.constantFrom('x', 'y'))),
        ),
        (spec) => {
          // Prepare
          const fetchData = Object.fromEntries(
            Object.entries(spec).map(([key, [origin, field]]) => [
              key,
              field === null ? origin : `${origin}#${field}`,
            ]),
          )
          // Act
          const counts = roundCounts(fetchData)
          // Assess
          expect(counts.secrets).toBe(Object.keys(spec).length)
          expect(counts.kmsCalls).toBe(new Set(Object.values(spec).map(([o]) => o)).size)
        },
      ),
    )
  })
})
