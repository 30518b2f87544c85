import { createHash } from 'node:crypto'
import { CreateKeyCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { awsEnv } from '../../scripts/local/aws-env.ts'
import { type FaultProxy, startFaultProxy } from '../../scripts/local/fault-proxy.ts'
import { awsCliEncrypt, kmsClient } from '../support/aws.ts'
import { runNode } from '../support/child.ts'
import { expectNoSecrets } from '../support/no-leak.ts'

const FUNCTION_NAME = 'orders-api'
const DECRYPT = 'TrentService.Decrypt'
const FIXTURE = 'test/integration/fixtures/function.mjs'
const CLIENTS = ['sdk', 'lite'] as const
/** Which entry the fixture imports: the main one (SDK) or `middy-kms-secrets/lite`. */
let fixtureClient: (typeof CLIENTS)[number] = 'sdk'

const motoEndpoint = inject('motoEndpoint')
let proxy: FaultProxy
let kms: KMSClient
let keyId: string
let keyArn: string
/** Every plaintext any test used, and every child's output: checked once more at the end. */
const allSecrets: string[] = []
const allOutput: string[] = []

interface Failure {
  code: string
  variable: string
  kmsError?: string
  message: string
  stack: string
  json: string
  ms: number
}
interface Round {
  ms: number
  ok: number
  failures: Failure[]
  digests: string[]
}

const digestOf = (...values: string[]) =>
  createHash('sha256').update(values.join('\u0000')).digest('hex')

const encrypt = async (
  plaintext: string,
  context: Record<string, string> = { LambdaFunctionName: FUNCTION_NAME },
) => {
  allSecrets.push(plaintext)
  const answer = await kms.send(
    new EncryptCommand({
      KeyId: keyId,
      Plaintext: Buffer.from(plaintext),
      EncryptionContext: context,
    }),
  )
  return Buffer.from(answer.CiphertextBlob ?? []).toString('base64')
}

/** One cold start: a fresh process running the fixture function through `plan`. */
const coldStart = async (
  options: Record<string, unknown>,
  env: Record<string, string>,
  plan: { invocations: number; concurrency?: number; waitMs?: number }[] = [{ invocations: 1 }],
) => {
  const result = await runNode(FIXTURE, {
    env: {
      ...awsEnv(proxy.endpoint),
      AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
      FIXTURE_OPTIONS: JSON.stringify(options),
      FIXTURE_PLAN: JSON.stringify(plan),
      FIXTURE_CLIENT: fixtureClient,
      ...env,
    },
    timeoutMs: 60_000,
  })
  const output = result.stdout + result.stderr
  allOutput.push(output)
  expectNoSecrets(output, allSecrets)
  expect(result.code, result.stderr).toBe(0)
  const run = result.json as { sinceStartMs: number; awsClient: string; rounds: Round[] }
  expect(run.awsClient).toBe(fixtureClient === 'lite' ? 'LiteKmsClient' : 'KMSClient')
  return run
}

/** The error a failed invocation reported, checked for leaks of plaintext and ciphertext. */
const onlyFailure = (round: Round | undefined, ciphertexts: string[]) => {
  expect(round?.failures).toHaveLength(1)
  const failure = round?.failures[0] as Failure
  for (const text of [failure.message, failure.stack, failure.json]) {
    expectNoSecrets(text, [...allSecrets, ...ciphertexts])
  }
  return failure
}

beforeAll(async () => {
  proxy = await startFaultProxy({ target: motoEndpoint })
  kms = kmsClient(motoEndpoint)
  const key = await kms.send(new CreateKeyCommand({ Description: 'core integration' }))
  keyId = key.KeyMetadata?.KeyId as string
  keyArn = key.KeyMetadata?.Arn as string
})
afterEach(() => {
  proxy.clearFaults()
  proxy.resetCounts()
})
afterAll(async () => {
  await proxy.stop()
})

// One table, both clients: the AWS SDK's (main entry) and LiteKmsClient (`/lite`).
describe.each(CLIENTS)('with the %s client', (client) => {
  beforeAll(() => {
    fixtureClient = client
  })

  describe('interop with the real AWS CLI', () => {
    it('decrypts what `aws kms encrypt --encryption-context LambdaFunctionName=…` produced, as UTF-8', async () => {
      // Prepare
      const secret = 'pässwörd€ — 秘密 🔑'
      allSecrets.push(secret)
      const ciphertext = await awsCliEncrypt({
        endpoint: motoEndpoint,
        keyId,
        plaintext: secret,
        functionName: FUNCTION_NAME,
      })

      // Act
      const run = await coldStart(
        { fetchData: { password: 'DB_PASSWORD' } },
        { DB_PASSWORD: ciphertext },
      )

      // Assess
      expect(run.rounds[0]?.ok).toBe(1)
      expect(run.rounds[0]?.digests).toEqual([digestOf(secret)])
    })
  })

  describe('errors name the variable and the cause, never the secret', () => {
    it('wrong function name → CONTEXT_MISMATCH', async () => {
      // Prepare
      const ciphertext = await encrypt('for-another-function', {
        LambdaFunctionName: 'billing-api',
      })

      // Act
      const run = await coldStart({ fetchData: { token: 'API_TOKEN' } }, { API_TOKEN: ciphertext })

      // Assess
      const failure = onlyFailure(run.rounds[0], [ciphertext])
      expect(failure).toMatchObject({
        code: 'CONTEXT_MISMATCH',
        variable: 'API_TOKEN',
        kmsError: 'InvalidCiphertextException',
      })
      expect(failure.message).toMatch(/API_TOKEN: .*another function name or encryption context/)
    })

    it('wrong encryption context → CONTEXT_MISMATCH', async () => {
      // Prepare
      const ciphertext = await encrypt('context-bound', {
        LambdaFunctionName: FUNCTION_NAME,
        Stage: 'prod',
      })

      // Act
      const run = await coldStart(
        {
          fetchData: { token: 'API_TOKEN' },
          encryptionContext: { LambdaFunctionName: FUNCTION_NAME, Stage: 'dev' },
        },
        { API_TOKEN: ciphertext },
      )

      // Assess
      expect(onlyFailure(run.rounds[0], [ciphertext])).toMatchObject({
        code: 'CONTEXT_MISMATCH',
        variable: 'API_TOKEN',
      })
    })

    it('wrong keyId: moto answers AccessDeniedException → ACCESS_DENIED, naming the pin as a cause', async () => {
      // Prepare
      const other = await kms.send(new CreateKeyCommand({}))
      const ciphertext = await encrypt('pinned-secret')

      // Act
      const run = await coldStart(
        { fetchData: { token: 'API_TOKEN' }, keyId: other.KeyMetadata?.Arn },
        { API_TOKEN: ciphertext },
      )

      // Assess
      const failure = onlyFailure(run.rounds[0], [ciphertext])
      expect(failure).toMatchObject({ code: 'ACCESS_DENIED', kmsError: 'AccessDeniedException' })
      expect(failure.message).toMatch(/keyId pin/)
    })

    it.each([
      ['IncorrectKeyException', 'KEY_MISMATCH'],
      ['DisabledException', 'KEY_DISABLED'],
      ['KMSInvalidStateException', 'KEY_DISABLED'],
    ])('KMS answering %s (from the fault proxy, as moto does not) → %s', async (type, code) => {
      // Prepare
      const ciphertext = await encrypt(`secret-for-${type}`)
      proxy.inject({ times: 1, match: DECRYPT, fault: { kind: 'kms-error', type } })

      // Act
      const run = await coldStart(
        { fetchData: { token: 'API_TOKEN' }, keyId: keyArn, disablePrefetch: true },
        { API_TOKEN: ciphertext },
        [{ invocations: 1 }, { invocations: 1 }],
      )

      // Assess
      expect(onlyFailure(run.rounds[0], [ciphertext])).toMatchObject({
        code,
        variable: 'API_TOKEN',
        kmsError: type,
      })
      expect(run.rounds[1]?.ok).toBe(1) // never cached: the next invocation recovers
    })
  })

  describe('KMS calls: parallel, once per cold start, single flight', () => {
    const N = 50
    let env: Record<string, string>
    let fetchData: Record<string, string>
    let expected: string

    beforeAll(async () => {
      env = {}
      fetchData = {}
      const values: string[] = []
      for (let i = 0; i < N; i++) {
        const value = `secret-${i}-${'é'.repeat(i % 7)}`
        values.push(value)
        env[`SECRET_${i}`] = await encrypt(value)
        fetchData[`s${i}`] = `SECRET_${i}`
      }
      expected = digestOf(...values)
    })

    it(`N = ${N}: exactly ${N} Decrypt calls at the first invocation, 0 over 1,000 warm ones`, async () => {
      // Act
      const run = await coldStart({ fetchData, disablePrefetch: true }, env, [
        { invocations: 1 },
        { invocations: 1000 },
      ])

      // Assess
      expect(run.rounds[0]?.digests).toEqual([expected])
      expect(run.rounds[1]).toMatchObject({ ok: 1000, digests: [expected] })
      expect(proxy.counts()[DECRYPT]).toBe(N)
    })

    it(`200 concurrent first invocations still make ${N} calls`, async () => {
      // Act
      const run = await coldStart({ fetchData, disablePrefetch: true }, env, [
        { invocations: 200, concurrency: 200 },
      ])

      // Assess
      expect(run.rounds[0]).toMatchObject({ ok: 200, digests: [expected] })
      expect(proxy.counts()[DECRYPT]).toBe(N)
    })

    it(`has all ${N} calls in flight at once (one round trip of latency, not ${N})`, async () => {
      // Prepare: every Decrypt hangs, so the proxy sees how many are in flight together.
      proxy.inject({ times: N, match: DECRYPT, fault: { kind: 'hang' } })
      let maxInFlight = 0
      const poll = setInterval(() => {
        maxInFlight = Math.max(maxInFlight, proxy.hungCount())
      }, 5)

      // Act
      const run = await coldStart({ fetchData, disablePrefetch: true, timeout: 1500 }, env)
      clearInterval(poll)

      // Assess: sequential decryption would never have more than one in flight.
      expect(maxInFlight).toBe(N)
      expect(run.rounds[0]?.failures[0]?.code).toBe('TIMEOUT')
    })
  })

  describe('faults', () => {
    let ciphertext: string
    beforeAll(async () => {
      ciphertext = await encrypt('fault-tolerant-secret')
    })

    it.each([
      ['ThrottlingException', { kind: 'kms-error', type: 'ThrottlingException' }],
      ['HTTP 500', { kind: 'http-500' }],
      ['a connection reset', { kind: 'reset' }],
    ] as const)(
      'retries %s (SDK standard retries) and succeeds when it clears',
      async (_name, fault) => {
        // Prepare
        proxy.inject({ times: 2, match: DECRYPT, fault })

        // Act
        const run = await coldStart(
          { fetchData: { token: 'API_TOKEN' }, disablePrefetch: true },
          { API_TOKEN: ciphertext },
        )

        // Assess
        expect(run.rounds[0]?.digests).toEqual([digestOf('fault-tolerant-secret')])
        expect(proxy.counts()[DECRYPT]).toBe(3)
      },
    )

    it('throttling that outlasts the retries fails in bounded time, and the next invocation recovers', async () => {
      // Prepare: the SDK makes 3 attempts; all three are throttled.
      proxy.inject({
        times: 3,
        match: DECRYPT,
        fault: { kind: 'kms-error', type: 'ThrottlingException' },
      })

      // Act
      const run = await coldStart(
        { fetchData: { token: 'API_TOKEN' }, disablePrefetch: true, timeout: 10_000 },
        { API_TOKEN: ciphertext },
        [{ invocations: 1 }, { invocations: 1 }],
      )

      // Assess
      const failure = onlyFailure(run.rounds[0], [ciphertext])
      expect(['THROTTLED', 'TIMEOUT']).toContain(failure.code)
      expect(run.rounds[0]?.ms).toBeLessThan(10_000)
      expect(run.rounds[1]?.ok).toBe(1)
    })

    it('a hang never outlives the deadline; the next invocation recovers', async () => {
      // Prepare
      proxy.inject({ times: 1, match: DECRYPT, fault: { kind: 'hang' } })

      // Act
      const run = await coldStart(
        { fetchData: { token: 'API_TOKEN' }, disablePrefetch: true, timeout: 1000 },
        { API_TOKEN: ciphertext },
        [{ invocations: 1 }, { invocations: 1 }],
      )

      // Assess
      const failure = onlyFailure(run.rounds[0], [ciphertext])
      expect(failure).toMatchObject({ code: 'TIMEOUT', variable: 'API_TOKEN' })
      expect(run.rounds[0]?.ms).toBeGreaterThanOrEqual(990)
      expect(run.rounds[0]?.ms).toBeLessThan(3000)
      expect(run.rounds[1]?.ok).toBe(1)
    })

    it('an unreachable KMS → NETWORK', async () => {
      // Act
      const run = await coldStart(
        { fetchData: { token: 'API_TOKEN' }, disablePrefetch: true },
        { API_TOKEN: ciphertext, AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
      )

      // Assess
      expect(onlyFailure(run.rounds[0], [ciphertext])).toMatchObject({
        code: 'NETWORK',
        variable: 'API_TOKEN',
      })
    })
  })

  describe('cacheExpiry > 0', () => {
    it('refreshes in the background after expiry: warm invocations keep making no call in between', async () => {
      // Prepare
      const ciphertext = await encrypt('refreshed-secret')

      // Act: prefetch, then invocations before expiry, then after two refreshes.
      const run = await coldStart(
        { fetchData: { token: 'API_TOKEN' }, cacheExpiry: 300 },
        { API_TOKEN: ciphertext },
        [{ invocations: 1 }, { invocations: 50 }, { invocations: 1, waitMs: 700 }],
      )

      // Assess: the prefetch, then one refresh per elapsed expiry (timer-driven).
      expect(run.rounds.every((round) => round.failures.length === 0)).toBe(true)
      expect(run.rounds[2]?.digests).toEqual([digestOf('refreshed-secret')])
      const calls = proxy.counts()[DECRYPT] ?? 0
      expect(calls).toBeGreaterThanOrEqual(2)
      expect(calls).toBeLessThanOrEqual(4)
    })

    it('a failed refresh is not served around: after expiry the function fails closed, then recovers', async () => {
      // Prepare: the prefetch passes, every later Decrypt is denied (access revoked), then
      // access comes back. Rules apply in order.
      const ciphertext = await encrypt('revoked-secret')
      proxy.inject({ times: 1, match: DECRYPT, fault: { kind: 'latency', ms: 0 } })
      proxy.inject({
        times: 3,
        match: DECRYPT,
        fault: { kind: 'kms-error', type: 'AccessDeniedException' },
      })

      // Act
      const run = await coldStart(
        { fetchData: { token: 'API_TOKEN' }, cacheExpiry: 200 },
        { API_TOKEN: ciphertext },
        [
          { invocations: 1 },
          { invocations: 1, waitMs: 400 },
          { invocations: 1 },
          { invocations: 1 },
        ],
      )

      // Assess: Decrypt #1 prefetch (ok), #2 background refresh at expiry (denied), #3 and
      // #4 inline on the next invocations (denied: never the stale value), #5 ok again.
      expect(run.rounds[0]?.ok).toBe(1)
      expect(run.rounds[1]?.failures[0]?.code).toBe('ACCESS_DENIED')
      expect(run.rounds[2]?.failures[0]?.code).toBe('ACCESS_DENIED')
      expect(run.rounds[3]?.digests).toEqual([digestOf('revoked-secret')])
      expect(proxy.counts()[DECRYPT]).toBe(5)
    })
  })
})

describe('logs', () => {
  it('no plaintext appears in any output captured in this file', () => {
    // Assess
    expect(allOutput.length).toBeGreaterThan(10)
    expectNoSecrets(allOutput.join('\n'), allSecrets)
  })
})
