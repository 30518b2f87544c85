import { format } from 'node:util'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { fakeKms } from './fake-kms.ts'

// Each test file runs in its own worker, so patching console and stdout here is contained.
describe('redactLogs: the log-leak guard', () => {
  const written: string[] = []
  const fake = fakeKms()
  let library: typeof import('../../src/index.ts')
  let redact: typeof import('../../src/core/redact.ts')

  beforeAll(async () => {
    // Capture what reaches the real streams, underneath the guard.
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk))
      return true
    })
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk))
      return true
    })
    for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        written.push(format(...args))
      })
    }
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'my-function')
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'sk_live_"quoted"_€'))
    vi.stubEnv('CONFIG', fake.encrypt('config', '{"password":"db-pass-123","port":5432}'))
    vi.stubEnv('DATA_KEY', fake.encrypt('key', new Uint8Array([1, 2, 3, 250, 251, 252])))
    vi.stubEnv('SHORT', fake.encrypt('short', 'abc'))
    library = await import('../../src/index.ts')
    redact = await import('../../src/core/redact.ts')
  })
  afterAll(() => {
    fake.kms.restore()
    vi.unstubAllEnvs()
  })

  it('does nothing until secrets are loaded with redactLogs', async () => {
    // Prepare
    written.length = 0
    await library.loadSecrets({ fetchData: { token: 'API_TOKEN' }, cacheKey: 'unguarded' })

    // Act
    console.log('token is sk_live_"quoted"_€')

    // Assess
    expect(written).toEqual(['token is sk_live_"quoted"_€'])
    expect(redact.mask('sk_live_"quoted"_€')).toBe('sk_live_"quoted"_€')
  })

  it('masks plaintexts and their base64, hex and JSON-escaped forms in console and streams', async () => {
    // Prepare
    const secrets = await library.loadSecrets({
      fetchData: { token: 'API_TOKEN', config: 'CONFIG', key: 'DATA_KEY', short: 'SHORT' },
      transform: { config: 'json', key: 'binary' },
      redactLogs: true,
    })
    written.length = 0
    const token = secrets.token

    // Act
    console.log('context:', { token })
    console.error(JSON.stringify({ token }))
    console.info(`b64 ${Buffer.from(token).toString('base64')}`)
    console.warn('hex', Buffer.from(secrets.key).toString('hex'))
    console.debug('password db-pass-123 and', JSON.stringify(secrets.config))
    console.trace(`short ${secrets.short} stays`)
    process.stdout.write(`raw ${token}\n`)
    process.stderr.write(Buffer.from(`bytes ${Buffer.from(secrets.key).toString('base64')}\n`))
    process.stdout.write(123 as unknown as string)

    // Assess
    const output = written.join('\n')
    expect(output).not.toContain('sk_live')
    expect(output).not.toContain(Buffer.from(token).toString('base64'))
    expect(output).not.toContain('db-pass-123')
    expect(output).not.toContain(Buffer.from(secrets.key).toString('hex'))
    expect(output).not.toContain(Buffer.from(secrets.key).toString('base64'))
    expect(output).toContain('short abc stays')
    expect(output).toContain(redact.MASK)
    expect(written[0]).toBe("context: { token: '****' }")
    expect(written[1]).toBe('{"token":"****"}')
  })

  it('guards provider values too, and adding known values changes nothing', async () => {
    // Prepare
    const { KmsSecretsProvider } = await import('../../src/provider.ts')
    vi.stubEnv('OTHER', fake.encrypt('other', 'other-secret'))
    const provider = new KmsSecretsProvider({ redactLogs: true })
    await provider.get('API_TOKEN')
    await provider.get('OTHER')
    redact.guardSecrets([undefined, 42])
    written.length = 0

    // Act
    const masked = redact.mask('sk_live_"quoted"_€ and sk_live_\\"quoted\\"_€ and other-secret')

    // Assess
    expect(masked).toBe('**** and **** and ****')
  })
})

describe('the log-leak guard at its edges', () => {
  // The log-leak guard at its edges, each test on a fresh copy of the module and with the
  // console and streams restored after it: nothing happens before a guardable secret
  // arrives, non-text values add nothing, the length floor is inclusive, longer secrets
  // win over their own prefixes, and the guard is installed once.
  const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const
  type Saved = { console: Record<string, unknown>; stdout: unknown; stderr: unknown }
  let saved: Saved
  const written: string[] = []
  /** The arguments "the real console" got, as they came. */
  const received: unknown[][] = []

  beforeEach(() => {
    saved = {
      console: Object.fromEntries(METHODS.map((m) => [m, console[m]])),
      stdout: process.stdout.write,
      stderr: process.stderr.write,
    }
    written.length = 0
    received.length = 0
    // What reaches "the real console", underneath the guard.
    console.log = (...args: unknown[]) => {
      received.push(args)
      written.push(format(...args))
    }
  })
  afterEach(() => {
    for (const m of METHODS) console[m] = saved.console[m] as never
    process.stdout.write = saved.stdout as never
    process.stderr.write = saved.stderr as never
  })

  const freshRedact = async () => {
    vi.resetModules()
    return import('../../src/core/redact.ts')
  }

  describe('guardSecrets', () => {
    it('before any secret, masks nothing (not even the word "undefined")', async () => {
      // Prepare
      const { mask } = await freshRedact()
      // Act / Assess
      expect(mask('undefined and null')).toBe('undefined and null')
    })

    it('non-text values (numbers, booleans, null) add nothing and install nothing', async () => {
      // Prepare
      const { guardSecrets, mask } = await freshRedact()
      const log = console.log
      // Act
      guardSecrets([42, true, null, undefined])
      guardSecrets([])
      // Assess
      expect(console.log).toBe(log)
      expect(mask('abc 42 true null')).toBe('abc 42 true null')
    })

    it('guards a secret of exactly 4 characters, not one of 3', async () => {
      // Prepare
      const { guardSecrets, mask, MASK } = await freshRedact()
      // Act
      guardSecrets(['abcd', 'xyz'])
      // Assess
      expect(mask('abcd xyz')).toBe(`${MASK} xyz`)
    })

    it('masks a long secret whole even when a shorter secret is its prefix', async () => {
      // Prepare
      const { guardSecrets, mask, MASK } = await freshRedact()
      // Act: shortest first
      guardSecrets(['abcdefgh'])
      guardSecrets(['abcdefghijkl'])
      guardSecrets(['abcdefghijklmnop'])
      // Assess
      expect(mask('abcdefghijklmnop')).toBe(MASK)
      expect(mask('abcdefghijkl!')).toBe(`${MASK}!`)
    })

    it('installs the guard once, however many secrets come', async () => {
      // Prepare
      const { guardSecrets } = await freshRedact()
      guardSecrets(['first-secret'])
      const guarded = { log: console.log, stdout: process.stdout.write }
      // Act
      guardSecrets(['second-secret'])
      // Assess: not wrapped a second time, and masking both
      expect(console.log).toBe(guarded.log)
      expect(process.stdout.write).toBe(guarded.stdout)
      console.log('first-secret %s', 'second-secret')
      expect(written).toEqual(['**** ****'])
    })
  })

  describe('console arguments keep their shape (issue 20 item 4)', () => {
    const SECRET = 'sk_live_secret'

    it('passes each argument on masked: a copy only where a secret is, else the very same value', async () => {
      // Prepare
      const { guardSecrets, MASK } = await freshRedact()
      guardSecrets([SECRET])
      const clean = { port: 5432, tags: ['a'] }
      const dirty = { token: SECRET, nested: { list: [`x ${SECRET}`] }, [SECRET]: 1 }
      // Act
      console.log('token %s, %d', SECRET, 42, clean, dirty)
      // Assess
      const [args] = received as [unknown[]]
      expect(args.slice(0, 4)).toEqual(['token %s, %d', MASK, 42, clean])
      expect(args[3]).toBe(clean)
      expect(args[4]).toEqual({ token: MASK, nested: { list: [`x ${MASK}`] }, [MASK]: 1 })
      expect(dirty.token).toBe(SECRET) // the caller's object is untouched
      expect(written).toEqual([format('token %s, %d', MASK, 42, clean, args[4])])
    })

    it('an Error stays an Error of its class: message, stack, cause and own fields masked', async () => {
      // Prepare
      const { guardSecrets, MASK } = await freshRedact()
      guardSecrets([SECRET])
      class UpstreamError extends Error {
        code = 'E_UPSTREAM'
        detail = ''
      }
      const cause = new Error(`cause ${SECRET}`)
      const error = Object.assign(new UpstreamError(`refused ${SECRET}`, { cause }), {
        detail: `for ${SECRET}`,
      })
      const innocent = new UpstreamError('refused')
      // Act
      console.log(error)
      console.log(innocent)
      // Assess
      const [[logged], [same]] = received as [[UpstreamError], [UpstreamError]]
      expect(logged).toBeInstanceOf(UpstreamError)
      expect(logged).not.toBe(error)
      expect(logged.constructor.name).toBe('UpstreamError')
      expect(logged.message).toBe(`refused ${MASK}`)
      expect(logged.stack?.split('\n')[0]).toBe(`Error: refused ${MASK}`)
      expect(logged.stack).toContain('\n    at ')
      expect((logged.cause as Error).message).toBe(`cause ${MASK}`)
      expect({ ...logged }).toEqual({ code: 'E_UPSTREAM', detail: `for ${MASK}` })
      expect(error.message).toBe(`refused ${SECRET}`)
      expect(same).toBe(innocent)
      expect(written.join('\n')).not.toContain(SECRET)
    })

    it('masks inside Maps and Sets, and a byte array holding a secret', async () => {
      // Prepare
      const { guardSecrets, MASK } = await freshRedact()
      const key = new Uint8Array([1, 2, 3, 250, 251, 252])
      guardSecrets([SECRET, key])
      const plain = new Map([['k', 'v']])
      const other = Buffer.from('hello')
      // Act
      console.log(new Map([['k', SECRET]]), new Set([SECRET]), plain, Buffer.from(key), other)
      console.log(Buffer.from(`a ${SECRET}`))
      // Assess
      const [first, second] = received as [unknown[], unknown[]]
      expect(first).toEqual([new Map([['k', MASK]]), new Set([MASK]), plain, MASK, other])
      expect(first[2]).toBe(plain)
      expect(first[4]).toBe(other)
      expect(second).toEqual([MASK])
    })

    it('keeps undefined, null and numbers as they are, a value logged twice masked twice, and keys and mixed collections masked', async () => {
      // Prepare
      const { guardSecrets, MASK } = await freshRedact()
      guardSecrets([SECRET])
      const shared = { token: SECRET }
      const keyed = { [SECRET]: 1, plain: 2 }
      // Act
      console.log('a', undefined, null, 5)
      console.log(shared, shared)
      console.log(new Set(['plain', SECRET]), keyed)
      // Assess
      const [first, second, third] = received as [unknown[], unknown[], unknown[]]
      expect(first).toEqual(['a', undefined, null, 5])
      expect(first).toHaveLength(4)
      expect(second).toEqual([{ token: MASK }, { token: MASK }])
      expect(second[0]).toBe(second[1])
      expect(third).toEqual([new Set(['plain', MASK]), { [MASK]: 1, plain: 2 }])
      const copy = third[1] as Record<string, number>
      expect(Object.getOwnPropertyDescriptor(copy, MASK)).toEqual({
        value: 1,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    })

    it('fails closed to one masked line: a secret split across arguments, behind a cycle, or a getter that throws', async () => {
      // Prepare
      const { guardSecrets, MASK } = await freshRedact()
      guardSecrets([SECRET])
      const loop: Record<string, unknown> = { token: SECRET }
      loop.self = loop
      const hostile = {
        token: SECRET,
        get boom(): never {
          throw new Error('no')
        },
      }
      // Act
      console.log('%s%s', SECRET.slice(0, 8), SECRET.slice(8))
      console.log(loop)
      console.log(hostile)
      // Assess
      expect(received).toEqual([
        [MASK],
        [`<ref *1> { token: '${MASK}', self: [Circular *1] }`],
        [`{ token: '${MASK}', boom: [Getter] }`],
      ])
    })

    it("guards aws-lambda-ric's console.fatal where it exists", async () => {
      // Prepare
      const { guardSecrets, MASK } = await freshRedact()
      const methods = console as unknown as Record<string, unknown>
      const fatal: unknown[][] = []
      methods.fatal = (...args: unknown[]) => fatal.push(args)
      try {
        guardSecrets([SECRET])
        // Act
        ;(methods.fatal as (...args: unknown[]) => void)(`dying with ${SECRET}`)
      } finally {
        delete methods.fatal
      }
      // Assess
      expect(fatal).toEqual([[`dying with ${MASK}`]])
    })
  })
})
