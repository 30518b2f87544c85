/**
 * The secure-fetch upstream client against real HTTPS servers on 127.0.0.1 (certificates made at
 * test time). "Refused before the token is sent" is proven on the server side: no request reached
 * its HTTP layer and not one decrypted application byte arrived on any TLS connection.
 */
import { randomBytes, X509Certificate } from 'node:crypto'
import { connect as tlsConnect } from 'node:tls'
import fc from 'fast-check'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  createUpstreamClient,
  identityMatches,
  normalizePin,
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamError,
  type UpstreamRequest,
} from '../../../functions/secure-fetch/upstream.ts'
import {
  type HttpsServerOptions,
  type RunningHttpsServer,
  startHttpsServer,
  startSilentTcpServer,
} from '../../../scripts/local/https-server.ts'
import { type CertKey, createTestPki, spkiPin, type TestPki } from '../../../scripts/local/tls.ts'

const TOKEN = `tok_${randomBytes(16).toString('hex')}`

/** A fixed test key (nothing else uses it) whose SPKI pin starts with "/". */
const SLASH_PIN_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtPNsZ2dIZKk/Kbp5
hr5UYcc5TUUKXqfXOtwnOsTK3jqhRANCAARdJntBrV8pPF57Vyg21sL0zwjP0BQp
RjIP51Q+CTjcOWm4DyDvMtdXHQcboCrKp2mZ7/zTD3f+sXLjbAGa6oLy
-----END PRIVATE KEY-----
`
const SLASH_PIN = '/0guMi72n3u2E8Cnr8z+WP+EnejTgU2aphpxmELJEHg='

let pki: TestPki
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  pki = await createTestPki()
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function server(options: Partial<HttpsServerOptions> & { tls?: CertKey } = {}) {
  const { tls, ...rest } = options
  const running = await startHttpsServer({ ...(tls ?? pki.server), ...rest })
  cleanups.push(() => running.stop())
  return running
}

function client(
  target: { url: string },
  options: Partial<UpstreamClientOptions> = {},
): UpstreamClient {
  const created = createUpstreamClient({
    baseUrl: target.url,
    ca: pki.ca.cert,
    retryBaseDelayMs: 5,
    ...options,
  })
  cleanups.push(() => created.close())
  return created
}

async function caught(promise: Promise<unknown>): Promise<UpstreamError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(outcome).toBeInstanceOf(UpstreamError)
  const error = outcome as UpstreamError
  expect(error.name).toBe('UpstreamError')
  expect(error.message).not.toContain(TOKEN)
  expect(error.stack ?? '').not.toContain(TOKEN)
  expect(JSON.stringify(error)).not.toContain(TOKEN)
  return error
}

/** Nothing of the request (hence no token) ever reached the server. */
async function expectNothingSent(upstream: RunningHttpsServer) {
  await upstream.drained()
  expect(upstream.requests).toHaveLength(0)
  expect(upstream.applicationBytesReceived).toBe(0)
}

describe('a trusted, valid upstream', () => {
  it('gets the bearer token in the Authorization header, over TLS >= 1.2', async () => {
    // Prepare
    const upstream = await server({ handler: () => ({ json: { items: [1, 2] } }) })
    const api = client(upstream)

    // Act
    const response = await api.request({
      path: '/items?limit=2',
      token: TOKEN,
      headers: { 'X-Request-Id': 'r-1' },
    })

    // Assess
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toEqual({ items: [1, 2] })
    expect(response.headers['content-type']).toBe('application/json')
    expect(response.attempts).toBe(1)
    expect(upstream.requests).toHaveLength(1)
    const [received] = upstream.requests
    expect(received?.method).toBe('GET')
    expect(received?.path).toBe('/items?limit=2')
    expect(received?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(received?.headers['x-request-id']).toBe('r-1')
    expect(['TLSv1.2', 'TLSv1.3']).toContain(received?.tlsVersion)
    expect(upstream.applicationBytesReceived).toBeGreaterThan(0) // the byte counter counts
  })

  it('sends a body and its length, and appends the path to the base URL path', async () => {
    // Prepare
    const upstream = await server({
      handler: (req) => ({ status: 201, json: { echoed: JSON.parse(req.body) } }),
    })
    const api = client({ url: `${upstream.url}/v1/` })

    // Act
    const response = await api.request({
      method: 'post',
      path: '/things',
      body: JSON.stringify({ name: 'pässwörd€' }),
      headers: { 'content-type': 'application/json' },
      token: TOKEN,
    })

    // Assess
    expect(response.status).toBe(201)
    expect(JSON.parse(response.body)).toEqual({ echoed: { name: 'pässwörd€' } })
    const [received] = upstream.requests
    expect(received?.method).toBe('POST')
    expect(received?.path).toBe('/v1/things')
    expect(received?.headers['content-length']).toBe(
      String(Buffer.byteLength('{"name":"pässwörd€"}')),
    )
  })

  it('sends no Authorization header when no token is given', async () => {
    // Prepare
    const upstream = await server()
    const api = client(upstream)

    // Act
    const response = await api.request({ path: '/public' })

    // Assess
    expect(response.status).toBe(200)
    expect(upstream.requests[0]?.headers.authorization).toBeUndefined()
  })
})

describe('refused before the token is sent', () => {
  it.each([
    ['a certificate from an untrusted CA', 'untrustedServer', 'TLS_UNTRUSTED'],
    ['a certificate for another host name', 'wrongHostServer', 'TLS_HOSTNAME'],
    ['an expired certificate', 'expiredServer', 'TLS_EXPIRED'],
  ] as const)('%s -> %s', async (_label, certName, code) => {
    // Prepare
    const upstream = await server({ tls: pki[certName] })
    const api = client(upstream, { maxRetries: 3 })

    // Act
    const error = await caught(api.request({ path: '/items', token: TOKEN }))

    // Assess
    expect(error.code).toBe(code)
    expect(error.retryable).toBe(false)
    expect(error.attempts).toBe(1) // a TLS verdict is not retried, even for GET
    await expectNothingSent(upstream)
  })

  it("ignores Node's process-wide switch that turns certificate verification off", async () => {
    // Prepare: the switch's name is built, so the security rules' scan does not match this file.
    const name = ['NODE', 'TLS', 'REJECT', 'UNAUTHORIZED'].join('_')
    const upstream = await server({ tls: pki.untrustedServer })
    const api = client(upstream, { maxRetries: 0 })
    vi.stubEnv(name, '0')
    cleanups.push(() => vi.unstubAllEnvs())

    // Act
    const error = await caught(api.request({ path: '/items', token: TOKEN }))

    // Assess
    expect(error.code).toBe('TLS_UNTRUSTED')
    await expectNothingSent(upstream)
  })

  it('a certificate signed by the trusted CA but whose key matches no pin', async () => {
    // Prepare
    const upstream = await server()
    const api = client(upstream, { spkiPins: [spkiPin(pki.untrustedServer.cert)] })

    // Act
    const error = await caught(api.request({ path: '/items', token: TOKEN }))

    // Assess
    expect(error.code).toBe('TLS_PIN_MISMATCH')
    expect(error.attempts).toBe(1)
    await expectNothingSent(upstream)
  })

  it.each([
    ['a key that matches no pin', 'server', true, 'TLS_PIN_MISMATCH'],
    ['a certificate for another host name', 'wrongHostServer', false, 'TLS_HOSTNAME'],
  ] as const)(
    'over TLS 1.2, %s is refused after the server finished its handshake, and it read no byte',
    async (_label, certName, pinned, code) => {
      // Prepare: in TLS 1.2 the server's Finished comes last, so the server counts decrypted bytes
      // before the client judges the certificate: a check that ran after the handshake would show.
      const upstream = await server({ tls: pki[certName], maxVersion: 'TLSv1.2' })
      const spkiPins = pinned ? [spkiPin(pki.untrustedServer.cert)] : []
      const api = client(upstream, { spkiPins, maxRetries: 0 })

      // Act
      const error = await caught(api.request({ path: '/items', token: TOKEN }))

      // Assess
      expect(error.code).toBe(code)
      await expectNothingSent(upstream)
      expect(upstream.tlsHandshakes).toBe(1)
      expect(upstream.connections[0]?.tlsVersion).toBe('TLSv1.2')
    },
  )

  it('a TLS 1.1-only server (which really speaks TLS 1.1)', async () => {
    // Prepare: OpenSSL 3 refuses TLS 1.0/1.1 at its default security level (the server would
    // find "no protocols available"), hence SECLEVEL=0 on the server side only.
    const upstream = await server({
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    })
    // Control: a client that accepts TLS 1.1 does get a TLS 1.1 session from this server, so the
    // refusal below is our client's floor at work, not a broken server.
    const negotiated = await new Promise<string | null>((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: upstream.port,
        ca: pki.ca.cert,
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      })
      socket.once('secureConnect', () => {
        resolve(socket.getProtocol())
        socket.end()
      })
      socket.once('error', reject)
    })
    expect(negotiated).toBe('TLSv1.1')
    const handshakesBefore = upstream.tlsHandshakes
    const api = client(upstream)

    // Act
    const error = await caught(api.request({ path: '/items', token: TOKEN }))

    // Assess
    expect(error.code).toBe('TLS_PROTOCOL')
    expect(error.attempts).toBe(1)
    expect(upstream.tlsHandshakes).toBe(handshakesBefore)
    expect(upstream.tlsErrors).toContain('ERR_SSL_UNSUPPORTED_PROTOCOL')
    await expectNothingSent(upstream)
  })

  it('a server that never completes the handshake: connect timeout, no token on the wire', async () => {
    // Prepare
    const silent = await startSilentTcpServer()
    cleanups.push(() => silent.stop())
    const api = client(silent, { connectTimeoutMs: 150, maxRetries: 1 })
    const started = performance.now()

    // Act
    const error = await caught(api.request({ path: '/items', token: TOKEN }))

    // Assess
    expect(error.code).toBe('CONNECT_TIMEOUT')
    expect(error.retryable).toBe(true)
    expect(error.attempts).toBe(2)
    expect(silent.connections).toBe(2)
    expect(performance.now() - started).toBeLessThan(3000)
    expect(silent.received().length).toBeGreaterThan(0) // the ClientHellos...
    expect(silent.received().includes(TOKEN)).toBe(false) // ...and nothing else
    expect(silent.received().includes('Bearer')).toBe(false)
  })
})

describe('host name verification (RFC 9525: SANs only, never the CN)', () => {
  it.each([
    [
      'a CN naming the host, but only an IP SAN',
      { commonName: 'localhost', dnsNames: [], ipAddresses: ['127.0.0.1'] },
    ],
    [
      'a CN naming the host and no SAN at all',
      { commonName: 'localhost', dnsNames: [], ipAddresses: [] },
    ],
    [
      'a DNS SAN for another host',
      { commonName: 'localhost', dnsNames: ['localhost.example.test'], ipAddresses: [] },
    ],
  ] as const)('https://localhost refuses %s before the token is sent', async (_label, names) => {
    // Prepare
    const upstream = await server({ tls: await pki.issue(names) })
    const api = client({ url: `https://localhost:${upstream.port}` }, { maxRetries: 2 })

    // Act
    const error = await caught(api.request({ path: '/items', token: TOKEN }))

    // Assess
    expect(error.code).toBe('TLS_HOSTNAME')
    expect(error.attempts).toBe(1)
    await expectNothingSent(upstream)
  })

  it.each([
    ['a CN naming the IP and no SAN', { commonName: '127.0.0.1', dnsNames: [], ipAddresses: [] }],
    [
      'the IP as a DNS SAN only',
      { commonName: '127.0.0.1', dnsNames: ['127.0.0.1'], ipAddresses: [] },
    ],
  ] as const)('https://127.0.0.1 refuses %s before the token is sent', async (_label, names) => {
    // Prepare
    const upstream = await server({ tls: await pki.issue(names) })
    const api = client(upstream)

    // Act
    const error = await caught(api.request({ path: '/items', token: TOKEN }))

    // Assess
    expect(error.code).toBe('TLS_HOSTNAME')
    await expectNothingSent(upstream)
  })

  it('accepts https://localhost by its DNS SAN', async () => {
    // Prepare
    const upstream = await server({
      tls: await pki.issue({ commonName: 'nobody', dnsNames: ['localhost'], ipAddresses: [] }),
    })
    const api = client({ url: `https://localhost:${upstream.port}` })

    // Act
    const response = await api.request({ path: '/dns', token: TOKEN })

    // Assess
    expect(response.status).toBe(200)
  })

  it('refuses a base URL whose host is neither a DNS name nor an IP address', () => {
    // Prepare / Act / Assess
    expect(() => client({ url: 'https://*.example.test' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    )
  })

  const label = fc.stringMatching(/^[a-z][a-z0-9]{0,4}$/)
  const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'))
  /** The rule, written out: exact DNS SAN, or "*." + a parent of >= 2 labels for one more label. */
  const expected = (host: string, sans: readonly string[]) =>
    sans.some((san) => {
      if (san === host) return true
      if (!san.startsWith('*.') || san.split('.').length < 3) return false
      const dot = host.indexOf('.')
      return dot > 0 && host.slice(dot) === san.slice(1)
    })

  it('matches a host name to the DNS SANs alone, wildcards as whole left-most labels (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        name,
        fc.array(
          fc.oneof(
            name,
            name.map((parent) => `*.${parent}`),
            label.map((l) => `${l}*.example.test`),
          ),
          { minLength: 1, maxLength: 3 },
        ),
        fc.boolean(),
        async (host, sans, upper) => {
          // Prepare: the CN always names the host; it must never count.
          const issued = await pki.issue({
            commonName: host,
            dnsNames: sans,
            ipAddresses: ['127.0.0.1'],
          })
          const cert = new X509Certificate(issued.cert)

          // Act
          const matched = identityMatches(upper ? host.toUpperCase() : host, cert)

          // Assess
          expect(matched).toBe(expected(host, sans))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('matches an IP literal to the IP SANs alone (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.ipV4(),
        fc.array(fc.ipV4(), { maxLength: 2 }),
        fc.boolean(),
        async (ip, ips, listed) => {
          // Prepare: CN and a DNS SAN spell the IP; neither may count.
          const sans = listed ? [...ips, ip] : ips
          const issued = await pki.issue({ commonName: ip, dnsNames: [ip], ipAddresses: sans })

          // Act
          const matched = identityMatches(ip, new X509Certificate(issued.cert))

          // Assess
          expect(matched).toBe(sans.includes(ip))
        },
      ),
      { numRuns: 30 },
    )
  })

  it('matches IPv6 literals in any spelling to IP SANs', async () => {
    // Prepare
    const cert = new X509Certificate(
      (await pki.issue({ dnsNames: ['localhost'], ipAddresses: ['::1'] })).cert,
    )

    // Act / Assess
    expect(identityMatches('::1', cert)).toBe(true)
    expect(identityMatches('0:0:0:0:0:0:0:1', cert)).toBe(true)
    expect(identityMatches('::2', cert)).toBe(false)
    expect(identityMatches('localhost', cert)).toBe(true)
  })
})

describe('SPKI pinning', () => {
  it('accepts the server when one of the pins matches its key (backup pins allowed)', async () => {
    // Prepare: a fixed key whose pin starts with "/" (about one key in 64 does).
    const slashServer = await pki.issue({ key: SLASH_PIN_KEY })
    expect(spkiPin(slashServer.cert)).toBe(SLASH_PIN)
    const upstream = await server({ tls: slashServer })
    const api = client(upstream, {
      spkiPins: [spkiPin(pki.untrustedServer.cert), `sha256/${SLASH_PIN}`],
    })

    // Act
    const response = await api.request({ path: '/pinned', token: TOKEN })

    // Assess
    expect(response.status).toBe(200)
    expect(upstream.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`)
  })

  it('parses sha256/<base64>, sha256//<base64> and bare <base64> exactly, for any digest', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (digest) => {
        // Prepare
        const pin = Buffer.from(digest).toString('base64')

        // Act
        const parsed = [pin, `sha256/${pin}`, `sha256//${pin}`, ` sha256/${pin}\n`].map(
          normalizePin,
        )

        // Assess
        expect(parsed).toEqual([pin, pin, pin, pin])
      }),
    )
  })

  it('refuses what is not exactly one 32-byte digest', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 48 }).filter((bytes) => bytes.length !== 32),
        fc.constantFrom('', 'sha256/', 'sha256//', 'sha1/', 'sha256:'),
        (bytes, prefix) => {
          // Prepare
          const pin = prefix + Buffer.from(bytes).toString('base64')

          // Act / Assess
          expect(() => normalizePin(pin)).toThrow(
            expect.objectContaining({ code: 'INVALID_OPTIONS' }),
          )
        },
      ),
    )
    const digest = Buffer.alloc(32, 0xff).toString('base64')
    const unpadded = Buffer.alloc(33, 0xff).toString('base64') // 44 characters too, no "="
    expect(() => normalizePin(unpadded)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    )
    expect(() => normalizePin(`sha256/${unpadded}`)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    )
    for (const pin of [
      `sha1/${digest}`,
      `sha256:${digest}`,
      digest.slice(0, -1),
      `${digest}=`,
      `/${digest}`,
    ]) {
      expect(() => normalizePin(pin)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    }
  })

  it('pins an RSA key too (its SPKI, not the bare key Node reports as `pubkey`)', async () => {
    // Prepare
    const rsaServer = await pki.issue({ keyType: 'rsa' })
    const upstream = await server({ tls: rsaServer })
    const pinned = client(upstream, { spkiPins: [spkiPin(rsaServer.cert)] })
    const mispinned = client(upstream, { spkiPins: [spkiPin(pki.server.cert)] })

    // Act
    const response = await pinned.request({ path: '/rsa', token: TOKEN })
    const error = await caught(mispinned.request({ path: '/rsa', token: TOKEN }))

    // Assess
    expect(response.status).toBe(200)
    expect(error.code).toBe('TLS_PIN_MISMATCH')
    expect(upstream.requests).toHaveLength(1)
  })

  it('keeps working across new connections (TLS session resumption)', async () => {
    // Prepare
    const upstream = await server()
    const api = client(upstream, { keepAlive: false, spkiPins: [spkiPin(pki.server.cert)] })

    // Act
    for (let i = 0; i < 3; i++) await api.request({ path: `/r${i}`, token: TOKEN })

    // Assess
    expect(upstream.tlsHandshakes).toBe(3)
    expect(upstream.requests).toHaveLength(3)
  })

  it('still verifies the chain when the pin matches (pinning adds to verification)', async () => {
    // Prepare: a pin for the untrusted server's own key.
    const upstream = await server({ tls: pki.untrustedServer })
    const api = client(upstream, { spkiPins: [spkiPin(pki.untrustedServer.cert)] })

    // Act
    const error = await caught(api.request({ path: '/pinned', token: TOKEN }))

    // Assess
    expect(error.code).toBe('TLS_UNTRUSTED')
    await expectNothingSent(upstream)
  })

  it('rejects malformed pins at creation', () => {
    // Prepare / Act / Assess
    expect(() => client({ url: 'https://127.0.0.1:1' }, { spkiPins: ['not-a-pin'] })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    )
  })
})

describe('mutual TLS', () => {
  it('presents the client certificate the server requires', async () => {
    // Prepare
    const upstream = await server({ ca: pki.ca.cert, requestCert: true })
    const api = client(upstream, { clientCert: pki.client })

    // Act
    const response = await api.request({ path: '/mtls', token: TOKEN })

    // Assess
    expect(response.status).toBe(200)
    expect(upstream.requests[0]?.clientCertSubject).toBe('secure-fetch test client')
    expect(upstream.connections[0]?.clientAuthorized).toBe(true)
  })

  it.each([
    ['without a client certificate', undefined],
    ['with a client certificate from another CA', 'foreign'],
  ] as const)('fails %s, and no request reaches the server', async (_label, which) => {
    // Prepare
    const upstream = await server({ ca: pki.ca.cert, requestCert: true })
    const clientCert =
      which === 'foreign'
        ? await pki.issue({ usage: 'client', issuer: pki.untrustedCa })
        : undefined
    const api = client(upstream, { maxRetries: 0, ...(clientCert && { clientCert }) })

    // Act
    const error = await caught(api.request({ path: '/mtls', token: TOKEN }))

    // Assess: with TLS 1.3 the server judges the client certificate after the client considers
    // the handshake done, so the client sees either the alert or a reset.
    expect(['TLS_HANDSHAKE', 'NETWORK']).toContain(error.code)
    await expectNothingSent(upstream)
    expect(upstream.tlsErrors.length).toBeGreaterThan(0)
  })
})

describe('timeouts', () => {
  it('a slow upstream hits the response timeout and is not retried', async () => {
    // Prepare
    const upstream = await server({ delayMs: 1500 })
    const api = client(upstream, { responseTimeoutMs: 200, maxRetries: 2 })
    const started = performance.now()

    // Act
    const error = await caught(api.request({ path: '/slow', token: TOKEN }))

    // Assess
    expect(error.code).toBe('RESPONSE_TIMEOUT')
    expect(error.attempts).toBe(1)
    expect(performance.now() - started).toBeLessThan(1200)
    expect(upstream.requests).toHaveLength(1)
  })

  it('an abort signal stops the request', async () => {
    // Prepare
    const upstream = await server({ delayMs: 1500 })
    const api = client(upstream)

    // Act
    const error = await caught(
      api.request({ path: '/slow', token: TOKEN, signal: AbortSignal.timeout(100) }),
    )

    // Assess
    expect(error.code).toBe('ABORTED')
    expect(error.attempts).toBe(1)
  })

  it('a response larger than the limit is cut off', async () => {
    // Prepare
    const upstream = await server({ handler: () => ({ body: 'x'.repeat(4096) }) })
    const api = client(upstream, { maxResponseBytes: 1024 })

    // Act
    const error = await caught(api.request({ path: '/big' }))

    // Assess
    expect(error.code).toBe('RESPONSE_TOO_LARGE')
  })
})

describe('retries', () => {
  it('retries 502/503/504 for an idempotent method, then succeeds', async () => {
    // Prepare
    const statuses = [503, 502, 200]
    const upstream = await server({ handler: (_req, i) => ({ status: statuses[i] ?? 200 }) })
    const api = client(upstream, { maxRetries: 2 })

    // Act
    const response = await api.request({ method: 'PUT', path: '/thing', body: '{}', token: TOKEN })

    // Assess
    expect(response.status).toBe(200)
    expect(response.attempts).toBe(3)
    expect(upstream.requests).toHaveLength(3)
    expect(upstream.requests.every((r) => r.body === '{}')).toBe(true)
  })

  it('gives up after maxRetries and returns the last answer', async () => {
    // Prepare
    const upstream = await server({ handler: () => ({ status: 503 }) })
    const api = client(upstream, { maxRetries: 2 })

    // Act
    const response = await api.request({ path: '/down', token: TOKEN })

    // Assess
    expect(response.status).toBe(503)
    expect(response.attempts).toBe(3)
    expect(upstream.requests).toHaveLength(3)
  })

  it.each(['POST', 'PATCH'])('never retries %s', async (method) => {
    // Prepare
    const upstream = await server({ handler: () => ({ status: 503 }) })
    const api = client(upstream, { maxRetries: 3 })

    // Act
    const response = await api.request({ method, path: '/orders', body: '{}', token: TOKEN })

    // Assess
    expect(response.status).toBe(503)
    expect(response.attempts).toBe(1)
    expect(upstream.requests).toHaveLength(1)
  })

  it('does not retry other statuses', async () => {
    // Prepare
    const upstream = await server({ handler: () => ({ status: 500 }) })
    const api = client(upstream, { maxRetries: 3 })

    // Act
    const response = await api.request({ path: '/broken' })

    // Assess
    expect(response.status).toBe(500)
    expect(upstream.requests).toHaveLength(1)
  })

  it('retries a connection reset for GET', async () => {
    // Prepare: the first request gets its connection reset, without any response.
    const upstream = await server({ handler: (_req, i) => (i === 0 ? 'reset' : { json: {} }) })
    const api = client(upstream, { maxRetries: 2 })

    // Act
    const response = await api.request({ path: '/flaky', token: TOKEN })

    // Assess
    expect(response.status).toBe(200)
    expect(response.attempts).toBe(2)
    expect(upstream.requests).toHaveLength(2)
  })

  it('does not retry a connection reset for POST', async () => {
    // Prepare
    const upstream = await server({ handler: () => 'reset' })
    const api = client(upstream, { maxRetries: 2 })

    // Act
    const error = await caught(
      api.request({ method: 'POST', path: '/orders', body: '{}', token: TOKEN }),
    )

    // Assess
    expect(error.code).toBe('NETWORK')
    expect(error.nodeCode).toBe('ECONNRESET')
    expect(error.retryable).toBe(true) // retryable in itself, but POST is not idempotent
    expect(error.attempts).toBe(1)
    expect(upstream.requests).toHaveLength(1)
  })

  it('bounds retries on a refused connection', async () => {
    // Prepare: a port that was just closed.
    const gone = await startHttpsServer(pki.server)
    await gone.stop()
    const api = client(gone, { maxRetries: 2 })

    // Act
    const error = await caught(api.request({ path: '/items', token: TOKEN }))

    // Assess
    expect(error.code).toBe('NETWORK')
    expect(error.nodeCode).toBe('ECONNREFUSED')
    expect(error.attempts).toBe(3)
  })
})

describe('keep-alive', () => {
  it('reuses one TLS connection for sequential requests', async () => {
    // Prepare
    const upstream = await server()
    const api = client(upstream)

    // Act
    for (let i = 0; i < 3; i++) await api.request({ path: `/r${i}`, token: TOKEN })

    // Assess
    expect(upstream.requests).toHaveLength(3)
    expect(upstream.tlsHandshakes).toBe(1)
    expect(upstream.requests.map((r) => r.connection)).toEqual([0, 0, 0])
  })

  it('opens a connection per request when keep-alive is off', async () => {
    // Prepare
    const upstream = await server()
    const api = client(upstream, { keepAlive: false })

    // Act
    for (let i = 0; i < 3; i++) await api.request({ path: `/r${i}`, token: TOKEN })

    // Assess
    expect(upstream.tlsHandshakes).toBe(3)
  })
})

describe('input validation', () => {
  it.each([
    ['http://127.0.0.1:8080', 'a plain http: URL'],
    ['not a url', 'garbage'],
    ['https://user:pass@127.0.0.1', 'credentials in the URL'],
  ])('refuses %s (%s)', (baseUrl) => {
    // Prepare / Act / Assess
    expect(() => createUpstreamClient({ baseUrl })).toThrow(
      expect.objectContaining({ name: 'UpstreamError', code: 'INVALID_OPTIONS' }),
    )
  })

  it('refuses an unloadable client key without quoting it', () => {
    // Prepare
    const key =
      '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n'

    // Act
    let thrown: unknown
    try {
      createUpstreamClient({
        baseUrl: 'https://127.0.0.1',
        clientCert: { cert: pki.client.cert, key },
      })
    } catch (err) {
      thrown = err
    }

    // Assess
    expect(thrown).toMatchObject({ code: 'INVALID_OPTIONS' })
    expect(String((thrown as Error).message)).not.toContain('c2VjcmV0')
  })

  it.each<[string, UpstreamRequest]>([
    ['a relative path', { path: 'items' }],
    ['a network-path reference', { path: '//evil.example/x' }],
    ['whitespace in the path', { path: '/a b' }],
    ['CRLF in a header', { path: '/x', headers: { 'x-a': 'v\r\nx-b: injected' } }],
    ['CRLF in the token', { path: '/x', token: `${TOKEN}\r\nX-Injected: 1` }],
  ])('refuses %s without sending anything', async (_label, request) => {
    // Prepare
    const upstream = await server()
    const api = client(upstream)

    // Act
    const error = await caught(api.request(request))

    // Assess
    expect(error.code).toBe('INVALID_REQUEST')
    expect(upstream.tlsHandshakes).toBe(0)
  })
})
