import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  type Env,
  loadConfig,
} from '../../../functions/secure-fetch/config.ts'
import { DEFAULT_CACHE_EXPIRY_MS } from '../../../functions/shared/cache-expiry.ts'

const PIN_A = Buffer.alloc(32, 1).toString('base64')
const PIN_B = Buffer.alloc(32, 2).toString('base64')
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'

const base: Env = { UPSTREAM_URL: 'https://api.example.test', API_TOKEN: 'AQICAHg=' }

function problemsOf(env: Env, readText?: (path: string) => string): readonly string[] {
  try {
    loadConfig(env, readText)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).problems
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('takes the minimal configuration, with default timeouts and no pins, CA or client certificate', () => {
    // Act
    const config = loadConfig(base)

    // Assess
    expect(config).toEqual({
      origin: 'https://api.example.test',
      basePath: '',
      ca: undefined,
      spkiPins: [],
      clientTlsFile: undefined,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      responseTimeoutMs: DEFAULT_RESPONSE_TIMEOUT_MS,
      cacheExpiry: DEFAULT_CACHE_EXPIRY_MS,
    })
  })

  it.each([
    ['60000', 60_000],
    [' -1 ', -1],
    ['0', 0],
    ['2147483647', 2_147_483_647],
  ] as const)('takes KMS_SECRETS_CACHE_EXPIRY %j', (text, expected) => {
    // Act
    const config = loadConfig({ ...base, KMS_SECRETS_CACHE_EXPIRY: text })

    // Assess
    expect(config.cacheExpiry).toBe(expected)
  })

  it('keeps the port and the base path of UPSTREAM_URL, without trailing slashes', () => {
    // Act
    const config = loadConfig({ ...base, UPSTREAM_URL: 'https://api.example.test:8443/v1/items//' })

    // Assess
    expect(config.origin).toBe('https://api.example.test:8443')
    expect(config.basePath).toBe('/v1/items')
  })

  it('reads UPSTREAM_CA_FILE relative to LAMBDA_TASK_ROOT, and an absolute path as is', () => {
    // Prepare
    const read: string[] = []
    const readText = (path: string) => {
      read.push(path)
      return CA_PEM
    }

    // Act
    const relative = loadConfig(
      { ...base, LAMBDA_TASK_ROOT: '/var/task', UPSTREAM_CA_FILE: 'certs/ca.pem' },
      readText,
    )
    const absolute = loadConfig({ ...base, UPSTREAM_CA_FILE: '/opt/ca.pem' }, readText)

    // Assess
    expect(read).toEqual(['/var/task/certs/ca.pem', '/opt/ca.pem'])
    expect(relative.ca).toBe(CA_PEM)
    expect(absolute.ca).toBe(CA_PEM)
  })

  it('takes comma-separated pins, with spaces, empty entries and sha256/ prefixes', () => {
    // Act
    const config = loadConfig({ ...base, UPSTREAM_SPKI_PINS: ` ${PIN_A}, ,sha256/${PIN_B},` })

    // Assess
    expect(config.spkiPins).toEqual([PIN_A, PIN_B])
  })

  it('takes CLIENT_TLS_FILE and the two timeouts', () => {
    // Act
    const config = loadConfig({
      ...base,
      CLIENT_TLS_FILE: 'secrets/client-tls.kse',
      CONNECT_TIMEOUT_MS: '1500',
      RESPONSE_TIMEOUT_MS: ' 8000 ',
    })

    // Assess
    expect(config.clientTlsFile).toBe('secrets/client-tls.kse')
    expect(config.connectTimeoutMs).toBe(1500)
    expect(config.responseTimeoutMs).toBe(8000)
  })

  it.each([
    [{ UPSTREAM_URL: undefined }, 'UPSTREAM_URL is not set'],
    [{ UPSTREAM_URL: 'not a url' }, 'UPSTREAM_URL is not a URL'],
    [{ UPSTREAM_URL: 'http://api.example.test' }, 'UPSTREAM_URL must be an https:// URL'],
    [{ UPSTREAM_URL: 'https://u:p@api.example.test' }, 'UPSTREAM_URL must not carry'],
    [{ UPSTREAM_URL: 'https://api.example.test/?q=1' }, 'UPSTREAM_URL must not carry'],
    [{ API_TOKEN: ' ' }, 'API_TOKEN is not set'],
    [{ UPSTREAM_SPKI_PINS: `${PIN_A},bm90LWEtcGlu` }, 'UPSTREAM_SPKI_PINS entry #2'],
    [{ CLIENT_TLS_FILE: 'a#b.kse' }, 'CLIENT_TLS_FILE must not contain "#"'],
    [{ CONNECT_TIMEOUT_MS: '0' }, 'CONNECT_TIMEOUT_MS must be'],
    [{ CONNECT_TIMEOUT_MS: '1.5' }, 'CONNECT_TIMEOUT_MS must be'],
    [{ RESPONSE_TIMEOUT_MS: 'soon' }, 'RESPONSE_TIMEOUT_MS must be'],
    [{ RESPONSE_TIMEOUT_MS: '900001' }, 'RESPONSE_TIMEOUT_MS must be'],
    [{ KMS_SECRETS_CACHE_EXPIRY: '-2' }, 'KMS_SECRETS_CACHE_EXPIRY must be -1, 0 or'],
    [{ KMS_SECRETS_CACHE_EXPIRY: '15m' }, 'KMS_SECRETS_CACHE_EXPIRY must be -1, 0 or'],
    [{ KMS_SECRETS_CACHE_EXPIRY: '2147483648' }, 'KMS_SECRETS_CACHE_EXPIRY must be -1, 0 or'],
  ] as const)('refuses %o', (change, expected) => {
    // Act
    const problems = problemsOf({ ...base, ...change })

    // Assess
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain(expected)
  })

  it('refuses a CA file that cannot be read, or holds no certificate', () => {
    // Prepare
    const missing = () => {
      throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })
    }

    // Act
    const unreadable = problemsOf({ ...base, UPSTREAM_CA_FILE: 'ca.pem' }, missing)
    const notPem = problemsOf({ ...base, UPSTREAM_CA_FILE: 'ca.pem' }, () => 'hello')

    // Assess
    expect(unreadable).toEqual([
      'UPSTREAM_CA_FILE cannot be read (ENOENT); a path relative to LAMBDA_TASK_ROOT',
    ])
    expect(notPem).toEqual(['UPSTREAM_CA_FILE holds no PEM certificate'])
  })

  it('reports every problem at once, by name, never echoing a value', () => {
    // Prepare
    const env = {
      UPSTREAM_URL: 'http://user:hunter2@api.example.test',
      UPSTREAM_SPKI_PINS: 'hunter3',
      CONNECT_TIMEOUT_MS: 'hunter4',
    }

    // Act
    let thrown: unknown
    try {
      loadConfig(env)
    } catch (error) {
      thrown = error
    }

    // Assess
    expect(thrown).toMatchObject({ name: 'ConfigError', code: 'CONFIG_INVALID' })
    const error = thrown as ConfigError
    expect(error.problems).toHaveLength(4)
    expect(error.message).toMatch(/^secure-fetch configuration is invalid: /)
    for (const name of ['UPSTREAM_URL', 'API_TOKEN', 'UPSTREAM_SPKI_PINS', 'CONNECT_TIMEOUT_MS']) {
      expect(error.message).toContain(name)
    }
    expect(error.message).not.toMatch(/hunter/)
  })
})
