import { format, inspect } from 'node:util'
import { DecryptCommand } from '@aws-sdk/client-kms'
import middy from '@middy/core'
import { getInternal } from '@middy/util'
import type { Context } from 'aws-lambda'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { blobId, fakeKmsInFunctionEachTest, KEY_ARN, settle, stubSecrets } from './fake-kms.ts'

// A fresh copy of the library per test: module-scope prefetch and caches start clean.
const freshLibrary = async () => {
  vi.resetModules()
  return import('../../src/index.ts')
}

/** A handler answering the API_TOKEN the middleware decrypts at its first call (not at init). */
const tokenHandler = (kmsSecrets: Awaited<ReturnType<typeof freshLibrary>>['kmsSecrets']) =>
  middy()
    .use(
      kmsSecrets({
        fetchData: { apiToken: 'API_TOKEN' },
        disablePrefetch: true,
        setToContext: true,
      }),
    )
    .handler(async (_event, ctx) => ctx.apiToken)

const context = { functionName: 'my-function' } as Context
// With setToContext the handler's context type includes the secrets the middleware adds.
const freshContext = () => ({ ...context }) as never

describe('kmsSecrets middleware', () => {
  const fake = fakeKmsInFunctionEachTest()
  afterEach(() => {
    vi.useRealTimers()
  })

  it('prefetches at module init and hands UTF-8 plaintexts to the handler via internal', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'pässwörd€ 🔑'))
    const { kmsSecrets } = await freshLibrary()
    const seen: unknown[] = []
    const handler = middy()
      .use(kmsSecrets({ fetchData: { apiToken: 'API_TOKEN' } }))
      .handler(async (_event, _context, { signal }) => {
        seen.push(signal)
        return 'done'
      })
    const internals: unknown[] = []
    handler.before(async (request) => {
      internals.push(await getInternal(['apiToken'], request))
    })
    await settle()
    const callsBeforeInvoke = fake.decryptCalls()

    // Act
    await handler({}, context)
    await handler({}, context)

    // Assess
    expect(callsBeforeInvoke).toBe(1)
    expect(fake.decryptCalls()).toBe(1)
    expect(internals).toEqual([{ apiToken: 'pässwörd€ 🔑' }, { apiToken: 'pässwörd€ 🔑' }])
    expect(context).not.toHaveProperty('apiToken')
  })

  it('with disablePrefetch decrypts on the first invocation, not at init', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const { kmsSecrets } = await freshLibrary()
    const handler = tokenHandler(kmsSecrets)
    await settle()
    const callsBeforeInvoke = fake.decryptCalls()

    // Act
    const result = await handler({}, freshContext())

    // Assess
    expect(callsBeforeInvoke).toBe(0)
    expect(result).toBe('abc')
    expect(fake.decryptCalls()).toBe(1)
  })

  it('ready() settles once the INIT round has decrypted: the first invocation makes no call', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const { kmsSecrets } = await freshLibrary()
    let answer: () => void = () => {}
    fake.kms.on(DecryptCommand).callsFake(async () => {
      await new Promise<void>((resolve) => {
        answer = resolve
      })
      return { Plaintext: Buffer.from('abc'), KeyId: KEY_ARN }
    })
    const middleware = kmsSecrets({ fetchData: { apiToken: 'API_TOKEN' }, setToContext: true })
    const handler = middy()
      .use(middleware)
      .handler(async (_event, ctx) => ctx.apiToken)
    let ready = false
    const readyPromise = middleware.ready().then(() => {
      ready = true
    })
    await settle()
    const readyBeforeKmsAnswered = ready

    // Act
    answer()
    await readyPromise
    const callsAtReady = fake.decryptCalls()
    const result = await handler({}, freshContext())

    // Assess
    expect(readyBeforeKmsAnswered).toBe(false)
    expect(callsAtReady).toBe(1)
    expect(result).toBe('abc')
    expect(fake.decryptCalls()).toBe(1)
  })

  it('ready() resolves after a failed INIT round, which the first invocation retries', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    fake.kms
      .on(DecryptCommand)
      .rejectsOnce(Object.assign(new Error(''), { name: 'AccessDeniedException' }))
      .resolves({ Plaintext: Buffer.from('abc'), KeyId: KEY_ARN })
    const { kmsSecrets, KmsSecretsError } = await freshLibrary()
    const middleware = kmsSecrets({ fetchData: { apiToken: 'API_TOKEN' }, setToContext: true })
    const handler = middy()
      .use(middleware)
      .handler(async (_event, ctx) => ctx.apiToken)

    // Act
    const settled = await middleware.ready()
    const result = await handler({}, freshContext())

    // Assess
    expect(settled).toBeInstanceOf(KmsSecretsError)
    expect((settled as { code: string }).code).toBe('ACCESS_DENIED')
    expect(result).toBe('abc')
    expect(fake.decryptCalls()).toBe(2)
  })

  it('ready() resolves at once when nothing is prefetched (disablePrefetch, cacheExpiry 0)', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const { kmsSecrets } = await freshLibrary()

    // Act
    await kmsSecrets({ fetchData: { apiToken: 'API_TOKEN' }, disablePrefetch: true }).ready()
    await kmsSecrets({
      fetchData: { apiToken: 'API_TOKEN' },
      cacheExpiry: 0,
      cacheKey: 'b',
    }).ready()

    // Assess
    expect(fake.decryptCalls()).toBe(0)
  })

  it('decrypts N variables in parallel: all calls in flight before any answers', async () => {
    // Prepare
    const fetchData: Record<string, string> = {}
    for (let i = 0; i < 20; i++) {
      vi.stubEnv(`SECRET_${i}`, fake.encrypt(`s${i}`, `value-${i}`))
      fetchData[`s${i}`] = `SECRET_${i}`
    }
    let inFlight = 0
    let maxInFlight = 0
    fake.kms.on(DecryptCommand).callsFake(async (input: DecryptCommand['input']) => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 20))
      inFlight--
      const id = blobId(input.CiphertextBlob)
      return { Plaintext: Buffer.from(`value-${id.slice(1)}`) }
    })
    const { loadSecrets } = await freshLibrary()

    // Act
    const secrets = await loadSecrets({ fetchData })

    // Assess
    expect(maxInFlight).toBe(20)
    expect(secrets.s7).toBe('value-7')
    expect(Object.keys(secrets)).toHaveLength(20)
  })

  it('shares one decrypt round among concurrent first invocations (single flight)', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    vi.stubEnv('DB_PASSWORD', fake.encrypt('db', 'def'))
    const { kmsSecrets } = await freshLibrary()
    const handler = middy()
      .use(
        kmsSecrets({
          fetchData: { apiToken: 'API_TOKEN', dbPassword: 'DB_PASSWORD' },
          disablePrefetch: true,
          setToContext: true,
        }),
      )
      .handler(async (_event, ctx) => `${ctx.apiToken}/${ctx.dbPassword}`)

    // Act
    const results = await Promise.all(
      Array.from({ length: 200 }, () => handler({}, freshContext())),
    )

    // Assess
    expect(new Set(results)).toEqual(new Set(['abc/def']))
    expect(fake.decryptCalls()).toBe(2)
  })

  it('never caches a failure: a failed prefetch is retried by the first invocation', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    fake.kms
      .on(DecryptCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .callsFake(async () => ({ Plaintext: Buffer.from('abc') }))
    const { kmsSecrets } = await freshLibrary()
    const handler = middy()
      .use(kmsSecrets({ fetchData: { apiToken: 'API_TOKEN' }, setToContext: true }))
      .handler(async (_event, ctx) => ctx.apiToken)
    await settle()

    // Act
    const result = await handler({}, freshContext())
    await settle()
    process.off('unhandledRejection', unhandled)

    // Assess
    expect(result).toBe('abc')
    expect(fake.decryptCalls()).toBe(2)
    expect(unhandled).not.toHaveBeenCalled()
  })

  it('fails the invocation with a coded error, then recovers on the next one', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    fake.kms
      .on(DecryptCommand)
      .rejectsOnce(Object.assign(new Error('key is disabled'), { name: 'DisabledException' }))
      .callsFake(async () => ({ Plaintext: Buffer.from('abc') }))
    const { kmsSecrets, KmsSecretsError } = await freshLibrary()
    const handler = tokenHandler(kmsSecrets)

    // Act
    const first = await handler({}, freshContext()).catch((error: unknown) => error)
    const second = await handler({}, freshContext())

    // Assess
    expect(first).toBeInstanceOf(KmsSecretsError)
    expect(first).toMatchObject({
      code: 'KEY_DISABLED',
      variable: 'API_TOKEN',
      kmsError: 'DisabledException',
    })
    expect(second).toBe('abc')
  })

  it('writes to process.env only when setToEnv is set', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    vi.stubEnv('CONFIG', fake.encrypt('config', '{"a":1}'))
    vi.stubEnv('DATA_KEY', fake.encrypt('key', new Uint8Array([0, 255, 1])))
    const { loadSecrets } = await freshLibrary()

    // Act
    await loadSecrets({ fetchData: { plainToken: 'API_TOKEN' } })
    const notSet = process.env.plainToken
    await loadSecrets({
      fetchData: { envToken: 'API_TOKEN', envConfig: 'CONFIG', envKey: 'DATA_KEY' },
      transform: { envConfig: 'json', envKey: 'binary' },
      setToEnv: true,
      cacheKey: 'to-env',
    })

    // Assess
    expect(notSet).toBeUndefined()
    expect(process.env.envToken).toBe('abc')
    expect(process.env.envConfig).toBe('{"a":1}')
    expect(process.env.envKey).toBe('AP8B')
    for (const key of ['envToken', 'envConfig', 'envKey']) delete process.env[key]
  })

  it('refreshes after cacheExpiry ms, in the background, and never serves an expired value', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'v1'))
    const { loadSecrets } = await freshLibrary()
    const options = { fetchData: { apiToken: 'API_TOKEN' }, cacheExpiry: 1000 }
    const first = await loadSecrets(options)
    fake.encrypt('token', 'v2')

    // Act
    const beforeExpiry = await loadSecrets(options)
    await vi.advanceTimersByTimeAsync(1000)
    const afterRefresh = await loadSecrets(options)

    // Assess
    expect(first.apiToken).toBe('v1')
    expect(beforeExpiry.apiToken).toBe('v1')
    expect(afterRefresh.apiToken).toBe('v2')
    expect(fake.decryptCalls()).toBe(2)
  })

  it('after a failed background refresh, the next call decrypts again instead of serving stale values', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'v1'))
    const { loadSecrets } = await freshLibrary()
    const options = { fetchData: { apiToken: 'API_TOKEN' }, cacheExpiry: 1000 }
    await loadSecrets(options)
    fake.kms.reset()
    fake.kms
      .on(DecryptCommand)
      .rejectsOnce(Object.assign(new Error(''), { name: 'AccessDeniedException' }))
      .callsFake(async () => ({ Plaintext: Buffer.from('v2') }))

    // Act
    await vi.advanceTimersByTimeAsync(1000)
    const callsAfterFailedRefresh = fake.decryptCalls()
    const next = await loadSecrets(options)

    // Assess
    expect(callsAfterFailedRefresh).toBe(1)
    expect(next.apiToken).toBe('v2')
    expect(fake.decryptCalls()).toBe(2)
  })

  it('with cacheExpiry 0 decrypts on every call and does not prefetch', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const { kmsSecrets } = await freshLibrary()
    const handler = middy()
      .use(kmsSecrets({ fetchData: { apiToken: 'API_TOKEN' }, cacheExpiry: 0, setToContext: true }))
      .handler(async (_event, ctx) => ctx.apiToken)
    await settle()
    const callsAtInit = fake.decryptCalls()

    // Act
    await handler({}, freshContext())
    await handler({}, freshContext())

    // Assess
    expect(callsAtInit).toBe(0)
    expect(fake.decryptCalls()).toBe(2)
  })

  it('shares the cache between faces with the same cacheKey and options, and clearCache forgets it', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const { kmsSecrets, loadSecrets, clearCache } = await freshLibrary()
    const options = { fetchData: { apiToken: 'API_TOKEN' }, cacheKey: 'shared' }
    kmsSecrets({ ...options })
    await settle()

    // Act
    const viaLoad = await loadSecrets({ ...options })
    const callsWhileCached = fake.decryptCalls()
    clearCache('shared')
    clearCache('unknown-key')
    await loadSecrets({ ...options })
    clearCache()
    await loadSecrets(options)

    // Assess
    expect(viaLoad.apiToken).toBe('abc')
    expect(callsWhileCached).toBe(1)
    expect(fake.decryptCalls()).toBe(3)
  })

  it('refuses one explicit cacheKey for two different option sets', async () => {
    // Prepare
    const { loadSecrets } = await freshLibrary()
    vi.stubEnv('A', fake.encrypt('a', '1'))
    await loadSecrets({ fetchData: { a: 'A' }, cacheKey: 'kms-secrets' })

    // Act
    const act = () => loadSecrets({ fetchData: { b: 'B' }, cacheKey: 'kms-secrets' })

    // Assess
    expect(act).toThrow(/cacheKey "kms-secrets" is already used/)
  })

  describe('onRound', () => {
    const reports = () => {
      const seen: import('../../src/index.ts').RoundReport[] = []
      return { seen, onRound: (report: (typeof seen)[number]) => void seen.push(report) }
    }

    it('reports the INIT round once: its time, values and KMS calls (one per variable)', async () => {
      // Prepare
      vi.stubEnv('A', fake.encrypt('a', '1'))
      vi.stubEnv('B', fake.encrypt('b', '2'))
      const { kmsSecrets } = await freshLibrary()
      const { seen, onRound } = reports()
      const before = Date.now()

      // Act
      const middleware = kmsSecrets({ fetchData: { a: 'A', again: 'A', b: 'B' }, onRound })
      await middleware.ready()
      const after = Date.now()
      await middy()
        .use(middleware)
        .handler(async () => 'ok')({}, context)

      // Assess
      expect(seen).toHaveLength(1)
      const [report] = seen
      expect(report).toMatchObject({ secrets: 3, kmsCalls: 2, error: undefined })
      expect(report?.startedAt).toBeGreaterThanOrEqual(before)
      expect(report?.startedAt).toBeLessThanOrEqual(after)
      expect(report?.durationMs).toBeGreaterThanOrEqual(0)
      expect(report?.durationMs).toBeLessThanOrEqual(after - before + 1)
    })

    it('reports a failed round with its error, then the invocation round that succeeds', async () => {
      // Prepare: encrypted for another function, so KMS refuses it at INIT
      vi.stubEnv('A', fake.encrypt('a', '1', { LambdaFunctionName: 'other' }))
      const { kmsSecrets } = await freshLibrary()
      const { seen, onRound } = reports()
      const middleware = kmsSecrets({ fetchData: { a: 'A' }, onRound })
      await middleware.ready()
      vi.stubEnv('A', fake.encrypt('a2', '1'))

      // Act
      await middy()
        .use(middleware)
        .handler(async () => 'ok')({}, context)

      // Assess
      expect(seen.map(({ kmsCalls, error }) => [kmsCalls, (error as Error)?.name])).toEqual([
        [1, 'KmsSecretsError'],
        [1, undefined],
      ])
      expect(seen[0]?.error).toMatchObject({ code: 'CONTEXT_MISMATCH' })
      expect(seen[1]?.startedAt).toBeGreaterThanOrEqual(seen[0]?.startedAt ?? Number.NaN)
    })

    it('counts no KMS call when a value fails its local checks', async () => {
      // Prepare
      vi.stubEnv('A', 'plaintext-pasted-by-mistake')
      const { kmsSecrets } = await freshLibrary()
      const { seen, onRound } = reports()

      // Act
      await kmsSecrets({ fetchData: { a: 'A' }, onRound }).ready()

      // Assess
      expect(seen).toHaveLength(1)
      expect(seen[0]).toMatchObject({ secrets: 1, kmsCalls: 0, error: { code: 'MALFORMED_VALUE' } })
      expect(fake.decryptCalls()).toBe(0)
    })

    it('tells every middleware sharing the round, each hook once, and survives one that throws', async () => {
      // Prepare
      vi.stubEnv('A', fake.encrypt('a', 'value'))
      const { kmsSecrets } = await freshLibrary()
      const first = reports()
      const second = reports()
      const options = { fetchData: { a: 'A' }, onRound: first.onRound, setToContext: true } as const

      // Act
      const one = kmsSecrets(options)
      kmsSecrets(options)
      kmsSecrets({
        fetchData: { a: 'A' },
        setToContext: true,
        onRound: (report) => {
          second.onRound(report)
          throw new Error('a metric failed')
        },
      })
      await one.ready()
      const value = await middy()
        .use(one)
        .handler(async (_event, ctx) => ctx.a)({}, freshContext())

      // Assess
      expect(value).toBe('value')
      expect(first.seen).toHaveLength(1)
      expect(second.seen).toEqual(first.seen)
      expect(fake.decryptCalls()).toBe(1)
    })

    it('refuses an onRound that is not a function', async () => {
      // Prepare
      const { kmsSecrets } = await freshLibrary()

      // Act
      const act = () => kmsSecrets({ fetchData: { a: 'A' }, onRound: 'metrics' as never })

      // Assess
      expect(act).toThrow('onRound must be a function')
    })
  })

  // README: the values go to Middy's store as own properties (getInternal(true) lists
  // them), and to `context` so that reading works and nothing that logs it shows them.
  describe('handing the values over', () => {
    /** Every way a handler or a logger may print or copy the context, as text. */
    const shown = (ctx: object) =>
      [
        JSON.stringify(ctx),
        inspect(ctx),
        inspect(ctx, { showHidden: true, depth: Number.POSITIVE_INFINITY }),
        format('%o %O %j', ctx, ctx, ctx),
        JSON.stringify(Object.keys(ctx)),
        JSON.stringify(Reflect.ownKeys(ctx).map(String)),
        JSON.stringify({ ...ctx }),
        JSON.stringify(Object.assign({}, ctx)),
        JSON.stringify(Object.entries(ctx)),
      ].join('\n')

    const cases = [1, 2, 4, 5, 20].flatMap((n) =>
      [true, false].map((setToContext) => ({ n, setToContext })),
    )
    it.each(cases)(
      'N = $n, setToContext $setToContext: getInternal lists every value, context reads them, nothing shows them',
      async ({ n, setToContext }) => {
        // Prepare
        const { fetchData, expected } = stubSecrets(fake, n)
        const { kmsSecrets } = await freshLibrary()
        const ctx = freshContext() as Record<string, unknown>
        const internals: unknown[] = []
        const handler = middy()
          .use(kmsSecrets({ fetchData, setToContext }))
          .handler(async (_event, context) =>
            Object.keys(expected).map((key) => {
              const { [key]: value } = context as unknown as Record<string, unknown>
              return value
            }),
          )
        handler.before(async (request) => {
          internals.push([await getInternal(true, request), await getInternal(['s0'], request)])
        })

        // Act: the cold invocation, then a warm one
        const answers = [await handler({}, ctx as never), await handler({}, freshContext())]

        // Assess
        const read = Object.values(expected).map((value) => (setToContext ? value : undefined))
        expect(answers).toEqual([read, read])
        const printed = shown(ctx)
        expect(printed).toContain('my-function')
        for (const value of Object.values(expected)) expect(printed).not.toContain(value)
        const internal = [expected, { s0: expected.s0 }]
        expect(internals).toEqual([internal, internal])
      },
    )

    it.each([1, 5, 20])(
      'N = %i: the middleware used twice, and the same context invoked again and again',
      async (n) => {
        // Prepare
        const { fetchData, expected } = stubSecrets(fake, n)
        vi.stubEnv('O_0', fake.encrypt('o0', 'value-o0'))
        const { kmsSecrets } = await freshLibrary()
        const middleware = kmsSecrets({ fetchData, setToContext: true })
        const handler = middy()
          .use(middleware)
          .use(kmsSecrets({ fetchData: { o0: 'O_0' }, setToContext: true }))
          .use(middleware)
          .handler(async (_event, context) => `${context.o0} ${context[`s${n - 1}`]}`)
        const internals: unknown[] = []
        handler.before(async (request) => {
          internals.push(await getInternal(true, request))
        })
        const ctx = freshContext() as object
        const depth = (object: object | null): number =>
          object === null ? 0 : 1 + depth(Object.getPrototypeOf(object) as object | null)

        // Act
        const answers = [await handler({}, ctx as never), await handler({}, freshContext())]
        const depthAfterTwo = depth(ctx)
        for (let i = 0; i < 10; i++) answers.push(await handler({}, ctx as never))

        // Assess
        expect(new Set(answers)).toEqual(new Set([`value-o0 ${expected[`s${n - 1}`]}`]))
        expect(internals).toHaveLength(12)
        for (const each of internals) expect(each).toEqual({ ...expected, o0: 'value-o0' })
        expect(depth(ctx)).toBe(depthAfterTwo)
        const printed = shown(ctx)
        for (const value of [...Object.values(expected), 'value-o0']) {
          expect(printed).not.toContain(value)
        }
      },
    )

    it("warm invocations share one layer, whose constructor is described as Object.prototype's", async () => {
      // Prepare
      const { fetchData } = stubSecrets(fake, 2)
      const { kmsSecrets } = await freshLibrary()
      const handler = middy()
        .use(kmsSecrets({ fetchData, setToContext: true }))
        .handler(async () => 'ok')
      const contexts = [freshContext(), freshContext(), freshContext()]

      // Act
      for (const ctx of contexts) await handler({}, ctx)

      // Assess
      const [first, ...rest] = contexts.map((ctx) => Object.getPrototypeOf(ctx) as object)
      for (const layer of rest) expect(layer).toBe(first)
      expect(Object.getOwnPropertyDescriptor(first, 'constructor')).toEqual(
        Object.getOwnPropertyDescriptor(Object.prototype, 'constructor'),
      )
    })

    it('fails clearly on a frozen context with setToContext, and serves it without', async () => {
      // Prepare
      const { fetchData, expected } = stubSecrets(fake, 5)
      const { kmsSecrets } = await freshLibrary()
      const onContext = middy()
        .use(kmsSecrets({ fetchData, setToContext: true }))
        .handler(async () => 'ok')
      const inStore = middy()
        .use(kmsSecrets({ fetchData }))
        .handler(async () => 'ok')
      const internals: unknown[] = []
      inStore.before(async (request) => {
        internals.push(await getInternal(['s4'], request))
      })

      // Act
      const failure = await onContext({}, Object.freeze(freshContext())).catch(
        (error: unknown) => error,
      )
      const answer = await inStore({}, Object.freeze(freshContext()))

      // Assess
      expect(failure).toBeInstanceOf(TypeError)
      expect((failure as Error).message).toBe(
        'kmsSecrets: setToContext cannot hand the secrets to a frozen or non-extensible context',
      )
      expect(answer).toBe('ok')
      expect(internals).toEqual([{ s4: expected.s4 }])
    })
  })
})
