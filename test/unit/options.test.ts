// Options as a JavaScript caller (or JSON) can pass them, checked when a face is created:
// unknown names with the near miss, out-of-range values, internal keys that would reach an
// object's prototype; and the default cacheKey, derived from the options.
import { readFileSync } from 'node:fs'
import { DecryptCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms'
import { getInternal } from '@middy/util'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { blobId, fakeKmsInFunctionEachTest, settle } from './fake-kms.ts'

const sdkKit = { AwsClient: KMSClient, DecryptCommand }

/** The options of the kmsSecrets example in docs/CONTRACT.md, as written: their defaults. */
const documentedDefaults = () => {
  const contract = readFileSync(new URL('../../docs/CONTRACT.md', import.meta.url), 'utf8')
  const example = contract.slice(contract.indexOf('kmsSecrets({'), contract.indexOf('}),'))
  const parse = (text: string): unknown => {
    if (text === 'KMSClient') return KMSClient
    return text === 'undefined' ? undefined : JSON.parse(text.replaceAll("'", '"'))
  }
  return Object.fromEntries(
    [...example.matchAll(/^ {4}(\w+): ([^,]+),/gm)]
      .filter(([, name]) => name !== 'fetchData' && name !== 'transform')
      .map(([, name, text]) => [name, parse(text as string)]),
  )
}

const freshLibrary = async () => {
  vi.resetModules()
  return {
    ...(await import('../../src/index.ts')),
    ...(await import('../../src/core/loader.ts')),
    ...(await import('../../src/provider.ts')),
  }
}
type Library = Awaited<ReturnType<typeof freshLibrary>>
type Options = Parameters<Library['kmsSecrets']>[0]

const fake = fakeKmsInFunctionEachTest()

/** The error a call throws synchronously (creation), or undefined. */
const thrownBy = (act: () => unknown): { code?: string; message: string } | undefined => {
  try {
    const result = act() as { catch?: (f: () => void) => void } | undefined
    result?.catch?.(() => {})
    return undefined
  } catch (error) {
    return error as { code: string; message: string }
  }
}

const faces = {
  kmsSecrets: (library: Library, options: unknown) => library.kmsSecrets(options as Options),
  loadSecrets: (library: Library, options: unknown) => library.loadSecrets(options as Options),
}

const fetchData = { apiToken: 'API_TOKEN' }

describe('bad options are INVALID_OPTIONS at creation, naming the option', () => {
  const table: [string, unknown, RegExp][] = [
    ['options that are no object', null, /options must be an object/],
    ['options that are an array', [], /options must be an object/],
    [
      'a misspelt option',
      { fetchData, cacheExpiri: 0 },
      /"cacheExpiri" \(did you mean "cacheExpiry"\?\)/,
    ],
    ['an option in the wrong case', { fetchData, cachekey: 'x' }, /did you mean "cacheKey"/],
    ['an unknown option far from any', { fetchData, verbose: true }, /unknown option "verbose"$/],
    ['an option 3 edits away', { fetchData, keyIdXYZ: 'k' }, /unknown option "keyIdXYZ"$/],
    ['an option 2 edits away', { fetchData, timeuot: 1 }, /did you mean "timeout"/],
    ['an option in capitals', { fetchData, CACHEKEY: 'x' }, /did you mean "cacheKey"/],
    [
      'an encryptionContext partly of strings',
      { fetchData, encryptionContext: { a: 'x', b: 1 } },
      /encryptionContext must be/,
    ],
    ['no fetchData', {}, /fetchData must be an object/],
    ['a fetchData array', { fetchData: ['API_TOKEN'] }, /fetchData must be an object/],
    ['a fetchData string', { fetchData: 'API_TOKEN' }, /fetchData must be an object/],
    ['an empty fetchData', { fetchData: {} }, /fetchData must be an object/],
    ['a fetchData Map', { fetchData: new Map([['a', 'A']]) }, /fetchData must be an object/],
    ['an empty source', { fetchData: { a: '' } }, /fetchData "a" must name its source/],
    ['a source that is no string', { fetchData: { a: 42 } }, /fetchData "a" must name its source/],
    ['an empty internal key', { fetchData: { '': 'A' } }, /fetchData key ""/],
    [
      'transform base64',
      { fetchData, transform: 'base64' },
      /transform must be 'json' or 'binary'/,
    ],
    [
      'transform Binary',
      { fetchData, transform: 'Binary' },
      /transform must be 'json' or 'binary'/,
    ],
    ['transform a number', { fetchData, transform: 1 }, /transform must be 'json' or 'binary'/],
    [
      'a per-key transform typo',
      { fetchData, transform: { apiToken: 'jsn' } },
      /transform "apiToken" must be/,
    ],
    [
      'a per-key transform for no key',
      { fetchData, transform: { apiTokn: 'json' } },
      /unknown internal key "apiTokn" \(did you mean "apiToken"\?\)/,
    ],
    ['an empty keyId', { fetchData, keyId: '' }, /keyId must be a non-empty string/],
    ['a keyId that is no string', { fetchData, keyId: 42 }, /keyId must be/],
    ['an empty cacheKey', { fetchData, cacheKey: '' }, /cacheKey must be/],
    [
      'cacheExpiry -2',
      { fetchData, cacheExpiry: -2 },
      /cacheExpiry must be -1 \(forever\), 0 \(no cache\) or a whole number of ms up to 2147483647/,
    ],
    ['cacheExpiry 1.5', { fetchData, cacheExpiry: 1.5 }, /cacheExpiry must be/],
    ['cacheExpiry past setTimeout', { fetchData, cacheExpiry: 2 ** 31 }, /cacheExpiry must be/],
    ['cacheExpiry as text', { fetchData, cacheExpiry: '100' }, /cacheExpiry must be/],
    [
      'timeout 0',
      { fetchData, timeout: 0 },
      /timeout must be a positive number of ms up to 2147483647/,
    ],
    ['timeout NaN', { fetchData, timeout: Number.NaN }, /timeout must be/],
    ['timeout Infinity', { fetchData, timeout: Number.POSITIVE_INFINITY }, /timeout must be/],
    ['timeout past setTimeout', { fetchData, timeout: 2 ** 31 }, /timeout must be/],
    ['timeout as text', { fetchData, timeout: '5000' }, /timeout must be/],
    ['setToEnv as text', { fetchData, setToEnv: 'yes' }, /setToEnv must be true or false/],
    [
      'bindVariableName 1',
      { fetchData, bindVariableName: 1 },
      /bindVariableName must be true or false/,
    ],
    ['redactLogs as text', { fetchData, redactLogs: 'true' }, /redactLogs must be true or false/],
    [
      'an AwsClient that is no class',
      { fetchData, AwsClient: {} },
      /AwsClient must be a KMS client class/,
    ],
    [
      'awsClientOptions as text',
      { fetchData, awsClientOptions: 'x' },
      /awsClientOptions must be an object/,
    ],
    [
      'encryptionContext true',
      { fetchData, encryptionContext: true },
      /encryptionContext must be false or an object of strings/,
    ],
    [
      'an encryptionContext number',
      { fetchData, encryptionContext: { a: 1 } },
      /encryptionContext must be/,
    ],
    [
      'an encryptionContext empty key',
      { fetchData, encryptionContext: { '': 'x' } },
      /encryptionContext must be/,
    ],
  ]

  it.each(Object.keys(faces))('through %s', async (face) => {
    for (const [label, options, message] of table) {
      // Prepare
      const library = await freshLibrary()

      // Act
      const error = thrownBy(() => faces[face as keyof typeof faces](library, options))

      // Assess
      expect(error, label).toMatchObject({ code: 'INVALID_OPTIONS' })
      expect(error?.message, label).toMatch(message)
    }
    expect(fake.decryptCalls()).toBe(0)
  })

  it('loadSecrets takes the middleware’s options object too (it joins its round), checking them', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const library = await freshLibrary()
    const shared = { fetchData, setToContext: true, disablePrefetch: true }

    // Act
    library.kmsSecrets(shared)
    const values = await library.loadSecrets(shared)
    const badFlag = thrownBy(() =>
      library.loadSecrets({ fetchData, disablePrefetch: 'no' } as never),
    )
    const typo = thrownBy(() => library.kmsSecrets({ fetchData, setToContex: true } as never))

    // Assess
    expect(values).toEqual({ apiToken: 'abc' })
    expect(fake.decryptCalls()).toBe(1)
    expect(badFlag?.message).toMatch(/disablePrefetch must be true or false/)
    expect(typo?.message).toMatch(/unknown option "setToContex" \(did you mean "setToContext"\?\)/)
  })

  it('accepts every documented option at its documented values', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    const library = await freshLibrary()
    const options = {
      fetchData,
      transform: { apiToken: undefined },
      cacheExpiry: 2 ** 31 - 1,
      cacheKey: 'all',
      setToEnv: false,
      AwsClient: KMSClient,
      awsClientOptions: Object.create(null),
      encryptionContext: { LambdaFunctionName: 'my-function' },
      bindVariableName: false,
      keyId: undefined,
      timeout: 2 ** 31 - 1,
      redactLogs: false,
      disablePrefetch: true,
      setToContext: false,
    }

    // Act
    library.kmsSecrets(options)
    const values = await library.loadSecrets(options)

    // Assess
    expect(values).toEqual({ apiToken: 'abc' })
  })
})

describe('internal keys never reach a prototype', () => {
  const unsafe = [...Object.getOwnPropertyNames(Object.prototype), 'prototype']

  it.each(['__proto__', 'constructor', 'prototype', 'toString'])(
    'a fetchData key %s (as JSON.parse gives it) is refused by every face',
    async (key) => {
      // Prepare
      vi.stubEnv('A', fake.encrypt('a', '{"isAdmin":true}'))
      const library = await freshLibrary()
      const options = JSON.parse(`{"fetchData":{"${key}":"A"},"transform":"json"}`)

      // Act
      const errors = [
        thrownBy(() => library.kmsSecrets(options)),
        thrownBy(() => library.loadSecrets(options)),
        thrownBy(() => library.kmsSecrets({ ...options, setToContext: true })),
      ]

      // Assess
      for (const error of errors) {
        expect(error).toMatchObject({ code: 'INVALID_OPTIONS' })
        expect(error?.message).toContain(`fetchData key "${key}"`)
      }
    },
  )

  it('the rule: Object.prototype names and "prototype" are refused, any other key is an own data property (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...unsafe), fc.string({ minLength: 1, maxLength: 12 })),
        async (key) => {
          // Prepare
          vi.stubEnv('A', fake.encrypt('a', '{"isAdmin":true}'))
          const library = await freshLibrary()
          const options = {
            fetchData: Object.fromEntries([[key, 'A']]),
            transform: 'json' as const,
          }

          // Act
          const error = thrownBy(() => library.loadSecrets(options))
          const result = error ? undefined : await library.loadSecrets(options)

          // Assess
          if (unsafe.includes(key)) {
            expect(error).toMatchObject({ code: 'INVALID_OPTIONS' })
            return
          }
          expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
          expect(Object.getOwnPropertyDescriptor(result, key)?.value).toEqual({ isAdmin: true })
          expect((result as Record<string, unknown>).isAdmin).toBeUndefined()
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe('the default cacheKey', () => {
  it('lets the README’s two examples live in one bundle', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    vi.stubEnv('DATA_KEY', fake.encrypt('key', 'k'))
    const library = await freshLibrary()

    // Act
    const loaded = library.loadSecrets({ fetchData: { apiToken: 'API_TOKEN' } })
    const middleware = thrownBy(() => library.kmsSecrets({ fetchData: { dataKey: 'DATA_KEY' } }))

    // Assess
    expect(middleware).toBeUndefined()
    expect(await loaded).toEqual({ apiToken: 'abc' })
  })

  it('shares one cache and one KMS round between equal options, whatever their key order', async () => {
    // Prepare
    vi.stubEnv('A', fake.encrypt('a', '1'))
    vi.stubEnv('B', fake.encrypt('b', '2'))
    const library = await freshLibrary()

    // Act
    const first = library.loadSecrets({ fetchData: { a: 'A', b: 'B' }, transform: { a: 'json' } })
    const second = library.loadSecrets({
      transform: { a: 'json', b: undefined },
      cacheExpiry: -1,
      fetchData: { b: 'B', a: 'A' },
    })

    // Assess
    expect(await first).toEqual({ a: 1, b: '2' })
    expect(await second).toEqual({ a: 1, b: '2' })
    expect(fake.decryptCalls()).toBe(2)
  })

  it('tells apart every option that changes the secrets, and applies the defaults first', async () => {
    // Prepare
    const library = await freshLibrary()
    const base = { fetchData: { a: 'A' } }
    const variants = [
      { keyId: 'alias/k' },
      { encryptionContext: false as const },
      { encryptionContext: { Stage: 'prod', App: 'x' } },
      { bindVariableName: true },
      { setToEnv: true },
      { redactLogs: true },
      { cacheExpiry: 0 },
      { transform: 'json' as const },
      { fetchData: { a: 'A', b: 'B' } },
    ]
    const defaultsSpelledOut = {
      ...base,
      bindVariableName: false,
      setToEnv: false,
      redactLogs: false,
      cacheExpiry: -1,
      keyId: undefined,
      encryptionContext: undefined,
    }

    // Act
    const baseLoader = library.secretsLoader(base, sdkKit)
    const loaders = variants.map((variant) =>
      library.secretsLoader({ ...base, ...variant }, sdkKit),
    )
    const sameAsBase = library.secretsLoader(defaultsSpelledOut, sdkKit)
    const contextReordered = library.secretsLoader(
      {
        ...base,
        encryptionContext: { App: 'x', Stage: 'prod' },
      },
      sdkKit,
    )

    // Assess
    expect(new Set([baseLoader, ...loaders]).size).toBe(variants.length + 1)
    expect(sameAsBase).toBe(baseLoader)
    expect(contextReordered).toBe(loaders[2])
  })

  it('keeps refusing an explicit cacheKey reused with other options', async () => {
    // Prepare
    const library = await freshLibrary()
    library.kmsSecrets({ fetchData: { a: 'A' }, cacheKey: 'mine', disablePrefetch: true })

    // Act
    const error = thrownBy(() => library.loadSecrets({ fetchData: { b: 'B' }, cacheKey: 'mine' }))

    // Assess
    expect(error?.message).toMatch(/cacheKey "mine" is already used with other options/)
  })

  it('clearCache with the default name forgets every loader without its own cacheKey', async () => {
    // Prepare
    vi.stubEnv('A', fake.encrypt('a', '1'))
    vi.stubEnv('B', fake.encrypt('b', '2'))
    const library = await freshLibrary()
    await library.loadSecrets({ fetchData: { a: 'A' } })
    await library.loadSecrets({ fetchData: { b: 'B' } })

    // Act
    library.clearCache('kms-secrets')
    await library.loadSecrets({ fetchData: { a: 'A' } })
    await library.loadSecrets({ fetchData: { b: 'B' } })

    // Assess
    expect(fake.decryptCalls()).toBe(4)
  })

  it('the rule: option sets without a cacheKey never collide; equal ones share a loader (property)', async () => {
    const optionSet = fc.record(
      {
        fetchData: fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('A', 'B', 'C#f'), {
          minKeys: 1,
        }),
        transform: fc.constantFrom('json' as const, 'binary' as const),
        cacheExpiry: fc.constantFrom(-1, 0, 1000),
        bindVariableName: fc.boolean(),
        keyId: fc.constantFrom('alias/a', 'alias/b'),
        encryptionContext: fc.constantFrom(false as const, { Stage: 'prod' }),
      },
      { requiredKeys: ['fetchData'] },
    )
    await fc.assert(
      fc.asyncProperty(fc.array(optionSet, { minLength: 2, maxLength: 6 }), async (sets) => {
        // Prepare
        const library = await freshLibrary()

        // Act
        const loaders = sets.map((options) => library.secretsLoader(options, sdkKit))
        const again = sets.map((options) => library.secretsLoader(structuredClone(options), sdkKit))

        // Assess
        // Defaults applied, keys in one order: equal meaning, equal text.
        const canonical = sets.map((o) =>
          JSON.stringify([
            Object.entries(o.fetchData).sort(),
            o.transform ?? null,
            o.cacheExpiry ?? -1,
            o.bindVariableName ?? false,
            o.keyId ?? null,
            o.encryptionContext ?? null,
          ]),
        )
        for (let i = 0; i < sets.length; i++) {
          expect(again[i]).toBe(loaders[i])
          for (let j = 0; j < sets.length; j++) {
            expect(loaders[i] === loaders[j]).toBe(canonical[i] === canonical[j])
          }
        }
      }),
      { numRuns: 40 },
    )
    await settle()
  })
})

describe('the faces at their edges', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })
  // The faces at their edges: the public defaults, option checks, the client options,
  // loader reuse and clearCache per key, the synchronous warm path of the middleware, and
  // the provider options that must reach the decrypt core.
  const failureOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeDefined()
    return error as { code: string; variable: string; message: string; cause?: unknown }
  }

  describe('the public defaults', () => {
    it('are what docs/CONTRACT.md says: nothing written to env, no redaction, Middy-like middleware', async () => {
      // Prepare
      vi.resetModules()
      const { defaults, kmsSecretsDefaults } = await import('../../src/index.ts')
      const documented = documentedDefaults()
      const { disablePrefetch, setToContext, ...everyFace } = documented
      // Act / Assess
      expect(defaults).toEqual(everyFace)
      expect(kmsSecretsDefaults).toEqual(documented)
      expect([disablePrefetch, setToContext]).toEqual([false, false])
    })
  })

  describe('options', () => {
    it('refuses a fetchData that is not an object (a lone string has keys too)', async () => {
      // Prepare
      const { loadSecrets } = await freshLibrary()
      // Act
      const error = await failureOf(
        Promise.resolve().then(() => loadSecrets({ fetchData: 'API_TOKEN' as never })),
      )
      // Assess
      expect(error.code).toBe('INVALID_OPTIONS')
    })

    it('an option given as undefined keeps its default (cacheExpiry: forever)', async () => {
      // Prepare
      vi.stubEnv('A', fake.encrypt('a', 'x'))
      const { loadSecrets } = await freshLibrary()
      const options = { fetchData: { a: 'A' }, cacheExpiry: undefined, timeout: undefined }
      // Act
      const values = [await loadSecrets(options), await loadSecrets(options)]
      // Assess
      expect(values).toEqual([{ a: 'x' }, { a: 'x' }])
      expect(fake.decryptCalls()).toBe(1)
    })

    it('hands awsClientOptions to the client class', async () => {
      // Prepare
      const configs: KMSClientConfig[] = []
      class SpyClient extends KMSClient {
        constructor(config: KMSClientConfig) {
          super(config)
          configs.push(config)
        }
      }
      vi.stubEnv('A', fake.encrypt('a', 'x'))
      const { loadSecrets } = await freshLibrary()
      // Act
      await loadSecrets({
        fetchData: { a: 'A' },
        AwsClient: SpyClient,
        awsClientOptions: { region: 'eu-west-3', maxAttempts: 2 },
      })
      // Assess
      expect(configs).toEqual([{ region: 'eu-west-3', maxAttempts: 2 }])
    })

    it('the same options object skips the lookup by cacheKey (no signature computed)', async () => {
      // Prepare
      const { secretsLoader } = await freshLibrary()
      const kit = { AwsClient: KMSClient, DecryptCommand }
      const options = { fetchData: { a: 'A' } }
      const first = secretsLoader(options, kit)
      const stringify = vi.spyOn(JSON, 'stringify')
      // Act
      const second = secretsLoader(options, kit)
      // Assess
      expect(second).toBe(first)
      expect(stringify).not.toHaveBeenCalled()
    })

    it('clearCache(key) forgets that key only', async () => {
      // Prepare
      vi.stubEnv('A', fake.encrypt('a', 'x'))
      vi.stubEnv('B', fake.encrypt('b', 'y'))
      const { loadSecrets, clearCache } = await freshLibrary()
      await loadSecrets({ fetchData: { a: 'A' }, cacheKey: 'a' })
      await loadSecrets({ fetchData: { b: 'B' }, cacheKey: 'b' })
      fake.kms.resetHistory()
      // Act
      clearCache('a')
      await loadSecrets({ fetchData: { a: 'A' }, cacheKey: 'a' })
      await loadSecrets({ fetchData: { b: 'B' }, cacheKey: 'b' })
      // Assess: only A was decrypted again
      const blobs = fake.kms
        .commandCalls(DecryptCommand)
        .map((call) => blobId(call.args[0].input.CiphertextBlob))
      expect(blobs).toEqual(['a'])
    })
  })

  describe('middleware warm path', () => {
    it('is synchronous once the secrets are cached (Middy does not even await it)', async () => {
      // Prepare
      vi.stubEnv('A', fake.encrypt('a', 'x'))
      const { kmsSecrets } = await freshLibrary()
      const middleware = kmsSecrets({ fetchData: { a: 'A' } })
      const runBefore = middleware.before
      const request = () => ({ internal: {}, context: {} }) as never
      await settle()
      const cold = request()
      const warm = request()
      // Act
      await runBefore(cold)
      const second = runBefore(warm)
      // Assess
      expect(second).toBeUndefined()
      expect(await getInternal(['a'], warm)).toEqual({ a: 'x' })
    })
  })

  describe('KmsSecretsProvider options', () => {
    it('bindVariableName: true binds the variable name into the context', async () => {
      // Prepare
      vi.stubEnv(
        'A',
        fake.encrypt('a', 'x', { LambdaFunctionName: 'my-function', EnvironmentVariableName: 'A' }),
      )
      const { KmsSecretsProvider } = await freshLibrary()
      // Act
      const value = await new KmsSecretsProvider({ bindVariableName: true }).get('A')
      // Assess
      expect(value).toBe('x')
    })

    it('timeout bounds the decrypt step', async () => {
      // Prepare
      fake.kms.on(DecryptCommand).callsFake(() => new Promise(() => {}))
      vi.stubEnv('A', fake.encrypt('a', 'x'))
      const { KmsSecretsProvider } = await freshLibrary()
      // Act
      const error = await failureOf(new KmsSecretsProvider({ timeout: 10 }).get('A'))
      // Assess
      expect(error).toMatchObject({ name: 'KmsSecretsError', code: 'TIMEOUT' })
      expect(error.message).toBe('A: decrypting took longer than the 10 ms deadline')
    })

    it('without redactLogs, guards nothing', async () => {
      // Prepare
      vi.stubEnv('A', fake.encrypt('a', 'plain-value-123'))
      const { KmsSecretsProvider } = await freshLibrary()
      const redact = await import('../../src/core/redact.ts')
      // Act
      await new KmsSecretsProvider().get('A')
      // Assess
      expect(redact.mask('plain-value-123')).toBe('plain-value-123')
    })
  })
})
