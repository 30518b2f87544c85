// The warm path hands the values over the same way at every N (issue 20): Middy's store
// gets them as own properties, `context` as its prototype. What must hold is what a
// handler sees: every value read the Middy way, none listed on `context`, nothing lost
// that was there.
import middy from '@middy/core'
import { getInternal } from '@middy/util'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { fakeKmsInFunctionEachTest, stubSecrets } from './fake-kms.ts'

const freshLibrary = async () => {
  vi.resetModules()
  return import('../../src/index.ts')
}

const fake = fakeKmsInFunctionEachTest()

const secrets = (n: number, prefix?: string) => stubSecrets(fake, n, prefix)

interface Seen {
  internal: Record<string, unknown>
  internalKeys: string[]
  context: Record<string, unknown>
  contextKeys: string[]
}

const lambdaContext = () => ({ functionName: 'my-function', awsRequestId: 'r' })

describe('warm path', () => {
  it('every value reads the Middy way, at any N, with setToContext false and true', async () => {
    const { kmsSecrets } = await freshLibrary()
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60 }), fc.boolean(), async (n, setToContext) => {
        // Prepare
        const { fetchData, expected } = secrets(n)
        const keys = Object.keys(fetchData)
        const seen: Seen[] = []
        const handler = middy()
          .use(kmsSecrets({ fetchData, setToContext, cacheKey: `n${n}-${setToContext}` }))
          .before(async (request) => {
            seen.push({
              internal: await getInternal(true, request),
              internalKeys: Object.keys(request.internal),
              context: Object.fromEntries(
                keys.map((key) => [
                  key,
                  (request.context as unknown as Record<string, unknown>)[key],
                ]),
              ),
              contextKeys: Object.keys(request.context),
            })
          })
          .handler(async () => 'ok')

        // Act: the cold invocation, then two warm ones
        for (let i = 0; i < 3; i++) await handler({}, lambdaContext() as never)

        // Assess
        for (const each of seen) {
          expect(each.internal).toEqual(expected)
          expect(each.internalKeys).toEqual(keys)
          expect(each.context).toEqual(
            setToContext ? expected : Object.fromEntries(keys.map((key) => [key, undefined])),
          )
          expect(each.contextKeys).toEqual(['functionName', 'awsRequestId'])
        }
      }),
      { numRuns: 25 },
    )
  })

  it('keeps what was in the store before, and serves two kmsSecrets side by side', async () => {
    // Prepare
    const a = secrets(6, 'a')
    const b = secrets(7, 'b')
    const { kmsSecrets } = await freshLibrary()
    const first = kmsSecrets({ fetchData: a.fetchData, setToContext: true, cacheKey: 'a' })
    const seen: Record<string, unknown>[] = []
    const handler = middy({ internal: { earlier: 'kept' } })
      .use(first)
      .use(first) // the same middleware twice changes nothing
      .use(kmsSecrets({ fetchData: b.fetchData, setToContext: true, cacheKey: 'b' }))
      .handler(async (_event, context) =>
        Object.fromEntries(Object.keys(b.expected).map((key) => [key, context[key]])),
      )
    handler.before(async (request) => {
      seen.push(await getInternal(['earlier', ...Object.keys(a.expected), 'b6'], request))
    })
    const context = lambdaContext()

    // Act: the same context object twice, as a test harness may do
    const answers = [await handler({}, context as never), await handler({}, context as never)]

    // Assess
    for (const each of seen)
      expect(each).toEqual({ earlier: 'kept', ...a.expected, b6: 'value-b6' })
    expect(answers).toEqual([b.expected, b.expected])
    expect((context as Record<string, unknown>).a5).toBe('value-a5')
    expect(Object.keys(context)).toEqual(['functionName', 'awsRequestId'])
  })

  it('keeps a symbol-keyed and a non-enumerable value another middleware put in the store', async () => {
    // Prepare
    const a = secrets(2, 'a')
    const { kmsSecrets } = await freshLibrary()
    const mark = Symbol('mark')
    const stores: Record<PropertyKey, unknown>[] = []
    const handler = middy()
      .before((request) => {
        Object.defineProperty(request.internal, 'hidden', { value: 'kept', enumerable: false })
        ;(request.internal as Record<PropertyKey, unknown>)[mark] = 'kept too'
      })
      .use(kmsSecrets({ fetchData: a.fetchData }))
      .before((request) => {
        stores.push(request.internal as Record<PropertyKey, unknown>)
      })
      .handler(async () => 'ok')

    // Act
    await handler({}, lambdaContext() as never)

    // Assess
    expect(stores[0]?.hidden).toBe('kept')
    expect(stores[0]?.[mark]).toBe('kept too')
    expect(stores[0]?.a1).toBe('value-a1')
  })

  it('serves a context without a prototype, and one whose values were refreshed', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] })
    const { fetchData, expected } = secrets(5)
    const { kmsSecrets } = await freshLibrary()
    const handler = middy()
      .use(kmsSecrets({ fetchData, setToContext: true, cacheExpiry: 1000 }))
      .handler(async (_event, context) => context.s4)
    const bare = () => Object.assign(Object.create(null), lambdaContext()) as never

    // Act
    const before = await handler({}, bare())
    vi.setSystemTime(Date.now() + 2000)
    const after = await handler({}, bare())
    vi.useRealTimers()

    // Assess
    expect([before, after]).toEqual([expected.s4, expected.s4])
    expect(fake.decryptCalls()).toBe(10)
  })
})
