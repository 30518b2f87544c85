import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { describe, expect, it, vi } from 'vitest'
import type { SecureFetchConfig } from '../../../functions/secure-fetch/config.ts'
import {
  checkEvent,
  DEADLINE_MARGIN_MS,
  type FetchDeps,
  fetchUpstream,
  type Telemetry,
  upstreamPath,
  upstreamPool,
} from '../../../functions/secure-fetch/fetch.ts'
import type { FetchSecrets } from '../../../functions/secure-fetch/secrets.ts'
import {
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
} from '../../../functions/secure-fetch/upstream.ts'
import { HttpError } from '../../../functions/shared/http.ts'

const TOKEN = 'tok_unit-0123456789abcdef'

const config: SecureFetchConfig = {
  origin: 'https://api.example.test',
  basePath: '/v1/items',
  ca: 'CA PEM',
  spkiPins: ['pin'],
  clientTlsFile: undefined,
  connectTimeoutMs: 1000,
  responseTimeoutMs: 2000,
  cacheExpiry: -1,
}

function event(method = 'GET', id?: string): APIGatewayProxyEventV2 {
  return {
    requestContext: { http: { method } },
    ...(id !== undefined && { pathParameters: { id } }),
  } as unknown as APIGatewayProxyEventV2
}

function context(remainingMs = 10_000): Context & FetchSecrets {
  return {
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => remainingMs,
    apiToken: TOKEN,
  } as unknown as Context & FetchSecrets
}

function telemetry() {
  const record = {
    info: vi.fn<Telemetry['info']>(),
    warn: vi.fn<Telemetry['warn']>(),
    upstreamLatency: vi.fn<Telemetry['upstreamLatency']>(),
    upstreamError: vi.fn<Telemetry['upstreamError']>(),
  }
  return record
}

function fakeClient(answer: (request: UpstreamRequest) => Promise<Partial<UpstreamResponse>>) {
  const requests: UpstreamRequest[] = []
  const client: UpstreamClient = {
    request: async (request) => {
      requests.push(request)
      return { status: 200, headers: {}, body: '', attempts: 1, ...(await answer(request)) }
    },
    close: vi.fn(),
  }
  return { client, requests }
}

function deps(client: UpstreamClient, tele = telemetry()): FetchDeps & { tele: typeof tele } {
  const clientFor = vi.fn(() => client)
  return { config, pool: { clientFor, close: vi.fn() }, telemetry: tele, tele }
}

describe('upstreamPath', () => {
  it('maps GET /fetch to the base path, and GET /fetch/{id} below it', () => {
    // Act / Assess
    expect(upstreamPath(event(), '/v1/items')).toBe('/v1/items')
    expect(upstreamPath(event(), '')).toBe('/')
    expect(upstreamPath(event('GET', 'abc-1.2_x~y'), '/v1/items')).toBe('/v1/items/abc-1.2_x~y')
    expect(upstreamPath(event('GET', 'A1'), '')).toBe('/A1')
  })

  it.each(['', '.', '..', '.hidden', 'a/b', 'a%2Fb', 'a b', 'a?b', 'a#b', 'x'.repeat(129), 'é'])(
    'refuses the id %j with 400',
    (id) => {
      // Act / Assess
      expect(() => upstreamPath(event('GET', id), '/v1')).toThrow(
        expect.objectContaining({ statusCode: 400, code: 'BAD_REQUEST' }),
      )
    },
  )

  it.each(['POST', 'DELETE', undefined])('refuses the method %s with 405', (method) => {
    // Prepare
    const input =
      method === undefined ? ({} as APIGatewayProxyEventV2) : event(method as string, 'x')

    // Act / Assess
    expect(() => upstreamPath(input, '')).toThrow(
      expect.objectContaining({ statusCode: 405, code: 'METHOD_NOT_ALLOWED' }),
    )
  })

  it('checkEvent runs the same checks as a before middleware', () => {
    // Prepare
    const middleware = checkEvent('/v1')

    // Act / Assess
    expect(() => middleware.before?.({ event: event('PUT') } as never)).toThrow(HttpError)
    expect(middleware.before?.({ event: event('GET', 'ok') } as never)).toBeUndefined()
  })
})

describe('fetchUpstream', () => {
  it('sends GET with the bearer token and an abort signal, and relays a 2xx answer', async () => {
    // Prepare
    const { client, requests } = fakeClient(async () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"items":[]}',
    }))
    const d = deps(client)

    // Act
    const answer = await fetchUpstream(event('GET', 'abc'), context(), undefined, d)

    // Assess
    expect(answer).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"items":[]}',
    })
    expect(requests).toHaveLength(1)
    expect(requests[0]).toMatchObject({ method: 'GET', path: '/v1/items/abc', token: TOKEN })
    expect(requests[0]?.signal).toBeInstanceOf(AbortSignal)
    expect(d.tele.upstreamLatency).toHaveBeenCalledTimes(1)
    expect(d.tele.upstreamError).not.toHaveBeenCalled()
    expect(d.tele.info).toHaveBeenCalledWith('upstream answered', {
      status: 200,
      attempts: 1,
      durationMs: expect.any(Number),
    })
  })

  it('relays other 2xx statuses; a body without content type is octet-stream', async () => {
    // Prepare
    const { client } = fakeClient(async () => ({ status: 204, headers: {}, body: '' }))

    // Act
    const answer = await fetchUpstream(event(), context(), undefined, deps(client))

    // Assess
    expect(answer.statusCode).toBe(204)
    expect(answer.headers?.['content-type']).toBe('application/octet-stream')
  })

  it('answers 404 for an upstream 404', async () => {
    // Prepare
    const { client } = fakeClient(async () => ({ status: 404, body: 'nope' }))
    const d = deps(client)

    // Act
    const answer = await fetchUpstream(event('GET', 'gone'), context(), undefined, d)

    // Assess
    expect(answer.statusCode).toBe(404)
    expect(JSON.parse(answer.body ?? '')).toMatchObject({ code: 'NOT_FOUND', requestId: 'req-1' })
    expect(d.tele.upstreamError).not.toHaveBeenCalled()
  })

  it.each([401, 403, 429, 500, 503, 302])(
    'answers 502 UPSTREAM_STATUS for an upstream %i, without relaying its body',
    async (status) => {
      // Prepare
      const { client } = fakeClient(async () => ({ status, body: `echo: Bearer ${TOKEN}` }))
      const d = deps(client)

      // Act
      const answer = await fetchUpstream(event(), context(), undefined, d)

      // Assess
      expect(answer.statusCode).toBe(502)
      expect(JSON.parse(answer.body ?? '')).toEqual({
        code: 'UPSTREAM_STATUS',
        message: `the upstream answered HTTP ${status}`,
        upstreamStatus: status,
        requestId: 'req-1',
      })
      expect(answer.body).not.toContain(TOKEN)
      expect(d.tele.upstreamError).toHaveBeenCalledWith('UPSTREAM_STATUS')
    },
  )

  it('records an UpstreamError (code, attempts, duration) and rethrows it', async () => {
    // Prepare
    const failure = new UpstreamError('TLS_EXPIRED', { nodeCode: 'CERT_HAS_EXPIRED' })
    const { client } = fakeClient(async () => {
      throw failure
    })
    const d = deps(client)

    // Act
    const outcome = await fetchUpstream(event(), context(), undefined, d).catch((e: unknown) => e)

    // Assess
    expect(outcome).toBe(failure)
    expect(d.tele.upstreamError).toHaveBeenCalledWith('TLS_EXPIRED')
    expect(d.tele.upstreamLatency).toHaveBeenCalledTimes(1)
    expect(d.tele.warn).toHaveBeenCalledWith('upstream call failed', {
      errorCode: 'TLS_EXPIRED',
      nodeCode: 'CERT_HAS_EXPIRED',
      attempts: 1,
      durationMs: expect.any(Number),
    })
    expect(JSON.stringify([d.tele.warn.mock.calls, d.tele.info.mock.calls])).not.toContain(TOKEN)
  })

  it('rethrows other errors without recording them as upstream errors', async () => {
    // Prepare
    const d = deps(fakeClient(async () => ({})).client)
    d.pool.clientFor = () => {
      throw new UpstreamError('INVALID_OPTIONS')
    }
    const odd = deps(
      fakeClient(async () => {
        throw new TypeError('odd')
      }).client,
    )

    // Act
    const invalid = await fetchUpstream(event(), context(), undefined, d).catch((e: unknown) => e)
    const other = await fetchUpstream(event(), context(), undefined, odd).catch((e: unknown) => e)

    // Assess
    expect(invalid).toMatchObject({ code: 'INVALID_OPTIONS' })
    expect(d.tele.upstreamError).toHaveBeenCalledWith('INVALID_OPTIONS')
    expect(other).toBeInstanceOf(TypeError)
    expect(odd.tele.upstreamError).not.toHaveBeenCalled()
  })

  it('gives up at once when the Lambda deadline leaves no time (no client, no request)', async () => {
    // Prepare
    const { client, requests } = fakeClient(async () => ({}))
    const d = deps(client)

    // Act
    const outcome = await fetchUpstream(event(), context(DEADLINE_MARGIN_MS), undefined, d).catch(
      (e: unknown) => e,
    )

    // Assess
    expect(outcome).toMatchObject({ name: 'UpstreamError', code: 'ABORTED' })
    expect(requests).toHaveLength(0)
    expect(d.pool.clientFor).not.toHaveBeenCalled()
  })

  it('aborts the request the margin before the Lambda deadline', async () => {
    // Prepare: 150 ms left after the margin.
    let abortedAfter = -1
    const started = performance.now()
    const { client } = fakeClient(
      (request) =>
        new Promise((_, reject) => {
          request.signal?.addEventListener('abort', () => {
            abortedAfter = performance.now() - started
            reject(new UpstreamError('ABORTED'))
          })
        }),
    )

    // Act
    const outcome = await fetchUpstream(
      event(),
      context(DEADLINE_MARGIN_MS + 150),
      undefined,
      deps(client),
    ).catch((e: unknown) => e)

    // Assess
    expect(outcome).toMatchObject({ code: 'ABORTED' })
    expect(abortedAfter).toBeGreaterThanOrEqual(100)
    expect(abortedAfter).toBeLessThan(1000)
  })

  it("follows Middy's abort signal too", async () => {
    // Prepare
    const middy = new AbortController()
    let sawAbort = false
    const { client } = fakeClient(
      (request) =>
        new Promise((_, reject) => {
          request.signal?.addEventListener('abort', () => {
            sawAbort = true
            reject(new UpstreamError('ABORTED'))
          })
        }),
    )

    // Act
    const pending = fetchUpstream(event(), context(), middy.signal, deps(client)).catch(
      (e: unknown) => e,
    )
    middy.abort()

    // Assess
    expect(await pending).toMatchObject({ code: 'ABORTED' })
    expect(sawAbort).toBe(true)
  })
})

describe('upstreamPool', () => {
  const created = () => {
    const options: UpstreamClientOptions[] = []
    const clients: UpstreamClient[] = []
    const create = (o: UpstreamClientOptions) => {
      options.push(o)
      const client = { request: vi.fn(), close: vi.fn() } as unknown as UpstreamClient
      clients.push(client)
      return client
    }
    return { options, clients, create }
  }

  it('builds one client for the container from the config, and reuses it', () => {
    // Prepare
    const made = created()
    const pool = upstreamPool(config, made.create)

    // Act
    const first = pool.clientFor({ apiToken: TOKEN })
    const second = pool.clientFor({ apiToken: TOKEN })

    // Assess
    expect(first).toBe(second)
    expect(made.options).toEqual([
      {
        baseUrl: 'https://api.example.test',
        ca: 'CA PEM',
        spkiPins: ['pin'],
        connectTimeoutMs: 1000,
        responseTimeoutMs: 2000,
        keepAlive: true,
      },
    ])
  })

  it('adds the client certificate when both cert and key are there, and rebuilds when they change', () => {
    // Prepare
    const made = created()
    const pool = upstreamPool({ ...config, ca: undefined }, made.create)

    // Act
    const a = pool.clientFor({ apiToken: TOKEN, clientCert: 'C1', clientKey: 'K1' })
    const again = pool.clientFor({ apiToken: TOKEN, clientCert: 'C1', clientKey: 'K1' })
    const b = pool.clientFor({ apiToken: TOKEN, clientCert: 'C2', clientKey: 'K2' })
    pool.close()

    // Assess
    expect(again).toBe(a)
    expect(b).not.toBe(a)
    expect(made.options.map((o) => o.clientCert)).toEqual([
      { cert: 'C1', key: 'K1' },
      { cert: 'C2', key: 'K2' },
    ])
    expect(made.options[0]).not.toHaveProperty('ca')
    expect(a.close).toHaveBeenCalledTimes(1)
    expect(b.close).toHaveBeenCalledTimes(1)
  })

  it('does not cache a client that could not be built', () => {
    // Prepare
    let calls = 0
    const pool = upstreamPool(config, () => {
      calls++
      throw new UpstreamError('INVALID_OPTIONS')
    })

    // Act / Assess
    expect(() => pool.clientFor({ apiToken: TOKEN })).toThrow(UpstreamError)
    expect(() => pool.clientFor({ apiToken: TOKEN })).toThrow(UpstreamError)
    expect(calls).toBe(2)
  })
})
