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

  beforeEach(() => {
    saved = {
      console: Object.fromEntries(METHODS.map((m) => [m, console[m]])),
      stdout: process.stdout.write,
      stderr: process.stderr.write,
    }
    written.length = 0
    // What reaches "the real console", underneath the guard.
    console.log = (...args: unknown[]) => {
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
})
