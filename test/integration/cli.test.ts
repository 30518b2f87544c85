// The BUILT CLI (cli/dist/kms-secrets.js, a fresh Node process per command) against
// moto; its output pasted into environment variables and read by the BUILT middleware
// in a fresh Node process per cold start.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { CreateKeyCommand } from '@aws-sdk/client-kms'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { awsEnv } from '../../scripts/local/aws-env.ts'
import { kmsClient } from '../support/aws.ts'
import { REPO_ROOT, runNode } from '../support/child.ts'
import { expectNoSecrets } from '../support/no-leak.ts'

const CLI = 'cli/dist/kms-secrets.js'
const FIXTURE = 'test/integration/fixtures/function.mjs'

const motoEndpoint = inject('motoEndpoint')
let keyId: string
let otherKeyId: string
const allSecrets: string[] = []

const digestOf = (...values: string[]) =>
  createHash('sha256').update(values.join('\u0000')).digest('hex')
const newSecret = (prefix = 'tok') => {
  const value = `${prefix}_${randomBytes(18).toString('base64url')}`
  allSecrets.push(value)
  return value
}

/** Runs the built CLI; its stderr (and stdout unless --show) never holds a secret. */
const cli = async (args: string[], input?: string) => {
  const result = await runNode(CLI, { args, input, env: awsEnv(motoEndpoint) })
  expectNoSecrets(result.stderr, allSecrets)
  if (!args.includes('--show')) expectNoSecrets(result.stdout, allSecrets)
  return result
}
const ok = async (args: string[], input?: string) => {
  const result = await cli(args, input)
  expect(result.code, result.stderr).toBe(0)
  return result.stdout.trim()
}

/** One cold start of a middleware function (built package) with these env vars. */
const coldStart = async (
  options: Record<string, unknown>,
  env: Record<string, string>,
  functionName: string,
) => {
  const result = await runNode(FIXTURE, {
    env: {
      ...awsEnv(motoEndpoint),
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      FIXTURE_OPTIONS: JSON.stringify(options),
      ...env,
    },
    timeoutMs: 60_000,
  })
  expectNoSecrets(result.stdout + result.stderr, allSecrets)
  expect(result.code, result.stderr).toBe(0)
  const round = (
    result.json as { rounds: { ok: number; failures: { code: string }[]; digests: string[] }[] }
  ).rounds[0]
  return {
    digests: round?.digests ?? [],
    codes: (round?.failures ?? []).map((failure) => failure.code),
  }
}

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, CLI))) throw new Error(`${CLI} is missing: run npm run build`)
  const kms = kmsClient(motoEndpoint)
  keyId = (await kms.send(new CreateKeyCommand({ Description: 'cli' }))).KeyMetadata
    ?.KeyId as string
  otherKeyId = (await kms.send(new CreateKeyCommand({ Description: 'cli, other' }))).KeyMetadata
    ?.KeyId as string
})

describe('CLI output pasted into an env var decrypts through the middleware', () => {
  it.each([
    ['a raw KMS blob', []],
    ['an envelope', ['--envelope']],
  ])('%s (bare value)', async (_, extra) => {
    // Prepare
    const secret = newSecret()
    const value = await ok(
      ['encrypt', '--key-id', keyId, '--function-name', 'cli-fn', ...extra],
      secret,
    )
    // Act
    const run = await coldStart(
      { fetchData: { token: 'API_TOKEN' } },
      { API_TOKEN: value },
      'cli-fn',
    )
    // Assess
    expect(run.digests).toEqual([digestOf(secret)])
  })

  it('--format env-json (sam local invoke --env-vars) and parameter-overrides (sam deploy)', async () => {
    // Prepare
    const [a, b] = [newSecret('a'), newSecret('b')]
    const common = ['--key-id', keyId, '--function-name', 'cli-fn']
    const envJson = JSON.parse(
      await ok(['encrypt', ...common, '--format', 'env-json', '--name', 'API_TOKEN'], a),
    ) as { Parameters: { API_TOKEN: string } }
    const override = await ok(
      ['encrypt', ...common, '--format', 'parameter-overrides', '--name', 'ApiTokenCiphertext'],
      b,
    )
    const [parameter, ...rest] = override.split('=')
    // Act
    const run = await coldStart(
      { fetchData: { a: 'A', b: 'B' } },
      { A: envJson.Parameters.API_TOKEN, B: rest.join('=') },
      'cli-fn',
    )
    // Assess
    expect(parameter).toBe('ApiTokenCiphertext')
    expect(run.digests).toEqual([digestOf(a, b)])
  })

  it('takes the function name from the repository template.yaml and samconfig.toml', async () => {
    // Prepare
    const secret = newSecret()
    const result = await cli(
      [
        'encrypt',
        '--key-id',
        keyId,
        '--template',
        'template.yaml',
        '--function',
        'SecureItemsFunction',
        '--format',
        'env-json',
        '--name',
        'DATA_KEY',
      ],
      secret,
    )
    const value = (JSON.parse(result.stdout) as Record<string, Record<string, string>>)
      .SecureItemsFunction?.DATA_KEY as string
    // Act
    const run = await coldStart(
      { fetchData: { dataKey: 'DATA_KEY' } },
      { DATA_KEY: value },
      'middy-kms-secrets-secure-items',
    )
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain(
      'encrypted with encryption context {"LambdaFunctionName":"middy-kms-secrets-secure-items"} (SecureItemsFunction FunctionName in the template)',
    )
    expect(run.digests).toEqual([digestOf(secret)])
  })

  it('--bind-variable matches bindVariableName: the value opens in its variable only', async () => {
    // Prepare
    const secret = newSecret()
    const value = await ok(
      ['encrypt', '--key-id', keyId, '--function-name', 'cli-fn', '--bind-variable', 'API_TOKEN'],
      secret,
    )
    const options = (source: string) => ({ fetchData: { token: source }, bindVariableName: true })
    // Act
    const right = await coldStart(options('API_TOKEN'), { API_TOKEN: value }, 'cli-fn')
    const moved = await coldStart(options('OTHER_VAR'), { OTHER_VAR: value }, 'cli-fn')
    // Assess
    expect(right.digests).toEqual([digestOf(secret)])
    expect(moved.codes).toEqual(['CONTEXT_MISMATCH'])
  })
})

describe('kms-secrets decrypt against moto', () => {
  it('checks without printing, shows with --show, and fails (exit 1) for another function', async () => {
    // Prepare
    const secret = newSecret()
    const value = await ok(['encrypt', '--key-id', keyId, '--function-name', 'cli-fn'], secret)
    // Act
    const checked = await ok(['decrypt', '--function-name', 'cli-fn'], value)
    const shown = await ok(['decrypt', '--function-name', 'cli-fn', '--show'], value)
    const wrong = await cli(['decrypt', '--function-name', 'another-fn'], value)
    // Assess
    expect(checked).toBe(`ok, ${secret.length} bytes (raw KMS blob)`)
    expect(shown).toBe(secret)
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(
      /^kms-secrets: stdin: KMS rejected the ciphertext: .*\[CONTEXT_MISMATCH\]\n$/,
    )
  })
})

describe('kms-secrets reencrypt against moto', () => {
  it('moves a raw blob to another function and key with KMS ReEncrypt', async () => {
    // Prepare
    const secret = newSecret()
    const value = await ok(['encrypt', '--key-id', keyId, '--function-name', 'old-fn'], secret)
    // Act
    const result = await cli(
      [
        'reencrypt',
        '--key-id',
        keyId,
        '--function-name',
        'old-fn',
        '--to-function-name',
        'new-fn',
        '--to-key-id',
        otherKeyId,
      ],
      value,
    )
    const moved = await coldStart(
      { fetchData: { token: 'TOKEN' }, keyId: otherKeyId },
      { TOKEN: result.stdout.trim() },
      'new-fn',
    )
    const stale = await coldStart({ fetchData: { token: 'TOKEN' } }, { TOKEN: value }, 'new-fn')
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).not.toContain('note:')
    expect(moved.digests).toEqual([digestOf(secret)])
    expect(stale.codes).toEqual(['CONTEXT_MISMATCH'])
  })

  it('moves a bundle (re-sealed locally, and says so)', async () => {
    // Prepare
    const [a, b] = [newSecret('a'), newSecret('b')]
    const bundle = await ok(
      ['bundle', '--key-id', keyId, '--function-name', 'old-fn'],
      `A=${a}\nB='${b}'\n`,
    )
    // Act
    const result = await cli(
      ['reencrypt', '--key-id', keyId, '--function-name', 'old-fn', '--to-function-name', 'new-fn'],
      bundle,
    )
    const run = await coldStart(
      { fetchData: { a: 'SECRETS#A', b: 'SECRETS#B' } },
      { SECRETS: result.stdout.trim() },
      'new-fn',
    )
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain("the plaintext was in this process's memory")
    expect(run.digests).toEqual([digestOf(a, b)])
  })
})

describe('errors', () => {
  it('an unknown key: exit 1, one line naming the region', async () => {
    // Act
    const result = await cli(
      ['encrypt', '--key-id', 'alias/does-not-exist', '--function-name', 'f'],
      newSecret(),
    )
    // Assess
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      'kms-secrets: stdin: the KMS key does not exist: check the key id or alias, the region and AWS_ENDPOINT_URL (looked in region us-east-1; --region picks another) [NotFoundException]\n',
    )
  })

  it.each([
    [['encrypt', '--function-name', 'f'], 'secret', 'encrypt needs --key-id'],
    [['encrypt', '--key-id', 'k', '--function-name', 'f'], '', 'the input is empty'],
    [['encrypt', '--key-id', 'k', '--function-name', 'f'], 'x'.repeat(4097), 'use an envelope'],
    [
      ['encrypt', '--key-id', 'k', '--function-name', 'f', '--password', 'x'],
      's',
      'argument 6 is not an option of encrypt (options: --key-id,',
    ],
    [['bundle', '--key-id', 'k', '--function-name', 'f'], 'A=1\nA=2', 'line 2: A is set twice'],
  ])('usage error %j: exit 2, one line', async (args, input, message) => {
    // Act
    const result = await cli(args, input)
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(message)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stdout).toBe('')
  })

  it('--help works for every command and needs no AWS at all', async () => {
    // Act
    const results = await Promise.all(
      [[], ['encrypt'], ['decrypt'], ['bundle'], ['reencrypt']].map((command) =>
        runNode(CLI, { args: [...command, '--help'] }),
      ),
    )
    // Assess
    expect(results.map((result) => result.code)).toEqual([0, 0, 0, 0, 0])
    expect(results[0]?.stdout).toContain('Usage: kms-secrets <command> [options]')
    expect(results[1]?.stdout).toContain('Usage: kms-secrets encrypt')
  })

  it('a secret typed on the command line is refused, not echoed', async () => {
    // Act
    const result = await cli(['encrypt', '--key-id', 'k', '--function-name', 'f', 'hunter2-typed'])
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).not.toContain('hunter2-typed')
  })
})
