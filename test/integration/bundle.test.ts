import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CreateKeyCommand } from '@aws-sdk/client-kms'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { awsEnv } from '../../scripts/local/aws-env.ts'
import { type FaultProxy, startFaultProxy } from '../../scripts/local/fault-proxy.ts'
import { awsCliEncrypt, kmsClient } from '../support/aws.ts'
import { REPO_ROOT, runNode, TMP_DIR } from '../support/child.ts'
import { expectNoSecrets } from '../support/no-leak.ts'

const CLI = 'cli/dist/kms-secrets.js'
const FIXTURE = 'test/integration/fixtures/function.mjs'
const FUNCTION_NAME = 'bundle-api'
const DECRYPT = 'TrentService.Decrypt'
/** Lambda: 4 KB for all environment variables of a function. */
const LAMBDA_ENV_BYTES = 4096

const motoEndpoint = inject('motoEndpoint')
let proxy: FaultProxy
let keyId: string
const allSecrets: string[] = []

const digestOf = (...values: string[]) =>
  createHash('sha256').update(values.join('\u0000')).digest('hex')
const secret = (bytes = 24) => randomBytes(bytes).toString('base64url')
const envBytes = (env: Record<string, string>) =>
  Object.entries(env).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  )

/** The built CLI, talking to moto directly (not through the counting proxy). */
const cli = async (args: string[], input?: string) => {
  const result = await runNode(CLI, { args, input, env: awsEnv(motoEndpoint) })
  expectNoSecrets(result.stderr, allSecrets)
  expect(result.code, result.stderr).toBe(0)
  return result.stdout.trim()
}

/** One cold start of the fixture function (built package), KMS through the proxy. */
const coldStart = async (
  fetchData: Record<string, string>,
  env: Record<string, string>,
  plan: { invocations: number; concurrency?: number }[] = [{ invocations: 1 }],
) => {
  proxy.resetCounts()
  const result = await runNode(FIXTURE, {
    env: {
      ...awsEnv(proxy.endpoint),
      AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
      FIXTURE_OPTIONS: JSON.stringify({ fetchData }),
      FIXTURE_PLAN: JSON.stringify(plan),
      ...env,
    },
    timeoutMs: 60_000,
  })
  expectNoSecrets(result.stdout + result.stderr, allSecrets)
  expect(result.code, result.stderr).toBe(0)
  const { rounds } = result.json as {
    rounds: { ok: number; failures: { code: string }[]; digests: string[] }[]
  }
  return { rounds, decrypts: proxy.counts()[DECRYPT] ?? 0, requests: proxy.total() }
}

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, CLI))) throw new Error(`${CLI} is missing: run npm run build`)
  proxy = await startFaultProxy({ target: motoEndpoint })
  const key = await kmsClient(motoEndpoint).send(new CreateKeyCommand({ Description: 'bundles' }))
  keyId = key.KeyMetadata?.KeyId as string
})
afterEach(() => proxy.clearFaults())
afterAll(async () => {
  await proxy?.stop()
})

describe('a bundle of 20 secrets', () => {
  const names = Array.from({ length: 20 }, (_, i) => `SECRET_${String(i + 1).padStart(2, '0')}`)
  const values = names.map(() => secret())
  allSecrets.push(...values)
  const fetchData = Object.fromEntries(names.map((name) => [name.toLowerCase(), `SECRETS#${name}`]))

  it('costs exactly one KMS Decrypt per cold start, whatever the number of invocations', async () => {
    // Prepare
    const dotenv = names.map((name, i) => `${name}=${values[i]}`).join('\n')
    const bundle = await cli(
      ['bundle', '--key-id', keyId, '--function-name', FUNCTION_NAME],
      dotenv,
    )
    // Act
    const run = await coldStart(fetchData, { SECRETS: bundle }, [
      { invocations: 4, concurrency: 4 },
      { invocations: 3 },
    ])
    // Assess
    expect(run.rounds.map((round) => round.ok)).toEqual([4, 3])
    expect(run.rounds.flatMap((round) => round.digests)).toEqual([
      digestOf(...values),
      digestOf(...values),
    ])
    expect(run.decrypts).toBe(1)
    expect(run.requests).toBe(1)
  })

  it('takes a fraction of the env bytes of 20 values encrypted one by one (which cost 20 Decrypts)', async () => {
    // Prepare
    const dotenv = names.map((name, i) => `${name}=${values[i]}`).join('\n')
    const bundle = await cli(
      ['bundle', '--key-id', keyId, '--function-name', FUNCTION_NAME],
      dotenv,
    )
    const oneByOne = Object.fromEntries(
      await Promise.all(
        names.map(async (name, i) => [
          name,
          await cli(
            ['encrypt', '--key-id', keyId, '--function-name', FUNCTION_NAME],
            values[i] as string,
          ),
        ]),
      ),
    ) as Record<string, string>
    // Act
    const single = await coldStart(
      Object.fromEntries(names.map((name) => [name.toLowerCase(), name])),
      oneByOne,
    )
    const bundled = await coldStart(fetchData, { SECRETS: bundle })
    // Assess
    expect(single.rounds[0]?.digests).toEqual([digestOf(...values)])
    expect(bundled.rounds[0]?.digests).toEqual([digestOf(...values)])
    expect(single.decrypts).toBe(20)
    expect(bundled.decrypts).toBe(1)
    const bytesOneByOne = envBytes(oneByOne)
    const bytesBundled = envBytes({ SECRETS: bundle })
    // Real KMS blobs are longer than moto's: ~184 bytes for a 32-byte data key, and
    // ~152 bytes of overhead per Encrypt (docs/FORMAT.md); estimate with those too.
    const plaintextBytes = Buffer.byteLength(values[0] as string)
    const realRaw = 4 * Math.ceil((plaintextBytes + 152) / 3)
    const realOneByOne = names.reduce((sum, name) => sum + name.length + realRaw, 0)
    const bundleJson = Buffer.byteLength(
      JSON.stringify(Object.fromEntries(names.map((n, i) => [n, values[i]]))),
    )
    const realBundled = 'SECRETS'.length + 5 + 4 * Math.ceil((3 + 184 + 12 + bundleJson + 16) / 3)
    console.log(
      [
        `env bytes (names + values) for 20 secrets of ${plaintextBytes} bytes, Lambda limit ${LAMBDA_ENV_BYTES}:`,
        `  measured on moto: one by one ${bytesOneByOne} B (20 Decrypts), one bundle ${bytesBundled} B (1 Decrypt)`,
        `  estimated with real KMS blob sizes: one by one ~${realOneByOne} B, one bundle ~${realBundled} B`,
      ].join('\n'),
    )
    expect(bytesBundled).toBeLessThan(bytesOneByOne)
    expect(bytesBundled).toBeLessThan(LAMBDA_ENV_BYTES)
    expect(realOneByOne).toBeGreaterThan(LAMBDA_ENV_BYTES)
    expect(realBundled).toBeLessThan(LAMBDA_ENV_BYTES / 2)
  })
})

describe('secrets files', () => {
  it('a 64 KiB secrets file decrypts through the middleware with one Decrypt', async () => {
    // Prepare
    const dir = mkdtempSync(join(TMP_DIR, 'secrets-file-'))
    mkdirSync(join(dir, 'secrets'))
    const big = randomBytes(48 * 1024).toString('base64') // 65,536 characters
    allSecrets.push(big.slice(1000, 1064))
    writeFileSync(join(dir, 'big.txt'), big)
    await cli([
      'encrypt',
      '--key-id',
      keyId,
      '--function-name',
      FUNCTION_NAME,
      '--envelope',
      '--in',
      join(dir, 'big.txt'),
      '--out',
      join(dir, 'secrets', 'big.enc'),
    ])
    // Act
    const run = await coldStart({ big: 'file:secrets/big.enc' }, { LAMBDA_TASK_ROOT: dir })
    // Assess
    expect(readFileSync(join(dir, 'secrets', 'big.enc'), 'utf8').startsWith('kse1:')).toBe(true)
    expect(run.rounds[0]?.digests).toEqual([digestOf(big)])
    expect(run.decrypts).toBe(1)
  })

  it('a bundle secrets file (client certificate and key) hands out its fields with one Decrypt', async () => {
    // Prepare
    const dir = mkdtempSync(join(TMP_DIR, 'secrets-file-'))
    const pem = (label: string) =>
      `-----BEGIN ${label}-----\n${randomBytes(1800).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----`
    const cert = pem('CERTIFICATE')
    const key = pem('PRIVATE KEY')
    allSecrets.push(key.slice(40, 100))
    writeFileSync(join(dir, 'tls.env'), `cert="${cert}"\nkey="${key}"\n`)
    await cli([
      'bundle',
      '--key-id',
      keyId,
      '--function-name',
      FUNCTION_NAME,
      '--in',
      join(dir, 'tls.env'),
      '--out',
      join(dir, 'tls.enc'),
    ])
    // Act
    const run = await coldStart(
      { cert: 'file:tls.enc#cert', key: 'file:tls.enc#key' },
      { LAMBDA_TASK_ROOT: dir },
    )
    // Assess
    expect(run.rounds[0]?.digests).toEqual([digestOf(cert, key)])
    expect(run.decrypts).toBe(1)
  })
})

describe('interop', () => {
  it('a value made with `aws kms encrypt --encryption-context LambdaFunctionName=…` works beside a bundle', async () => {
    // Prepare
    const password = `pässwörd€-${secret(6)}`
    const [a, b] = [secret(), secret()]
    allSecrets.push(password, a, b)
    const rawValue = await awsCliEncrypt({
      endpoint: motoEndpoint,
      keyId,
      plaintext: password,
      functionName: FUNCTION_NAME,
    })
    const bundle = await cli(
      ['bundle', '--key-id', keyId, '--function-name', FUNCTION_NAME],
      `A=${a}\nB=${b}\n`,
    )
    // Act
    const run = await coldStart(
      { password: 'DB_PASSWORD', a: 'SECRETS#A', b: 'SECRETS#B' },
      { DB_PASSWORD: rawValue, SECRETS: bundle },
    )
    // Assess
    expect(run.rounds[0]?.digests).toEqual([digestOf(password, a, b)])
    expect(run.decrypts).toBe(2)
  })
})
