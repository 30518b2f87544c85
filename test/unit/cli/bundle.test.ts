import { readFileSync, writeFileSync } from 'node:fs'
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { describe, expect, it } from 'vitest'
import { decryptSecrets, parseSource } from '../../../src/core/decrypt.ts'
import { expectNoSecrets } from '../../support/no-leak.ts'
import { argv, awsError, cliTestSetup, KEY_ID, run, TEMPLATE } from './harness.ts'

const { fake, tmp } = cliTestSetup()

const DOTENV = `# secrets of secure-fetch
DB_PASSWORD='p#ss wörd'
API_TOKEN=tok_live_123
CLIENT_KEY="-----BEGIN PRIVATE KEY-----
MIIEvQ
-----END PRIVATE KEY-----"
`

/** Reads fields as the middleware would (fetchData VAR#field), through the library. */
const readFields = (
  value: string,
  context: Record<string, string>,
  fields: string[],
  variable = 'SECRETS',
) =>
  decryptSecrets({
    wanted: fields.map((field) => ({
      key: field,
      source: parseSource(`${variable}#${field}`),
      transform: undefined,
    })),
    client: new KMSClient({ region: 'us-east-1' }),
    DecryptCommand,
    encryptionContext: context,
    bindVariableName: false,
    keyId: undefined,
    timeoutMs: 5000,
    env: { [variable]: value },
  })

describe('kms-secrets bundle', () => {
  it('seals a dotenv file as one envelope that the library reads field by field, with one Decrypt', async () => {
    // Act
    const result = await run(argv('bundle', { 'key-id': KEY_ID, 'function-name': 'fetch' }), {
      stdin: DOTENV,
    })
    fake.kms.resetHistory()
    const fields = await readFields(result.stdout.trim(), { LambdaFunctionName: 'fetch' }, [
      'DB_PASSWORD',
      'API_TOKEN',
      'CLIENT_KEY',
    ])
    // Assess
    expect(result.code).toBe(0)
    expect(result.stdout.startsWith('kse1:')).toBe(true)
    expect(fields).toEqual({
      DB_PASSWORD: 'p#ss wörd',
      API_TOKEN: 'tok_live_123',
      CLIENT_KEY: '-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----',
    })
    expect(fake.kms.commandCalls(DecryptCommand)).toHaveLength(1)
    expect(result.stderr).toBe(
      'sealed a bundle of 3 fields (DB_PASSWORD, API_TOKEN, CLIENT_KEY) with encryption context {"LambdaFunctionName":"fetch"}\n',
    )
    expectNoSecrets(result.stderr, ['p#ss wörd', 'tok_live_123', 'MIIEvQ'])
  })

  it('--in FILE --out FILE writes a secrets file (no env budget warning)', async () => {
    // Prepare
    const many = Array.from({ length: 60 }, (_, i) => `SECRET_${i}=${'v'.repeat(60)}`).join('\n')
    writeFileSync(tmp.path('secrets.env'), many)
    // Act
    const result = await run(
      argv('bundle', {
        'key-id': KEY_ID,
        'function-name': 'f',
        in: 'secrets.env',
        out: 'secrets.enc',
      }),
      {
        cwd: tmp.dir,
      },
    )
    const fields = await readFields(
      readFileSync(tmp.path('secrets.enc'), 'utf8').trim(),
      { LambdaFunctionName: 'f' },
      ['SECRET_59'],
    )
    // Assess
    expect(result.code).toBe(0)
    expect(fields.SECRET_59).toBe('v'.repeat(60))
    expect(result.stderr).not.toContain('warning')
    expect(fake.kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1)
  })

  it("warns when the bundle plus the function's other variables pass the 4 KB budget", async () => {
    // Prepare
    writeFileSync(tmp.path('template.yaml'), TEMPLATE)
    const many = Array.from({ length: 60 }, (_, i) => `SECRET_${i}=${'v'.repeat(60)}`).join('\n')
    // Act
    const result = await run(
      argv('bundle', {
        'key-id': KEY_ID,
        template: 'template.yaml',
        function: 'SecureItemsFunction',
        'stack-name': 's',
        format: 'env-json',
        name: 'DATA_KEY',
      }),
      { stdin: many, cwd: tmp.dir },
    )
    // Assess
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /warning: SecureItemsFunction's environment variables would take at least \d+ bytes \(DATA_KEY: \d+; 1 other: \d+; not counted: LOG_LEVEL, TABLE_NAME, whose values are unknown here\), over Lambda's 4096-byte limit for all environment variables: ship the bundle as a secrets file instead/,
    )
  })

  it.each([
    [
      'a line that is not KEY=value',
      'A=1\nnot a pair\n',
      'kms-secrets: stdin: line 2: not a KEY=value line\n',
    ],
    ['an empty input', '', 'kms-secrets: stdin: no KEY=value line found\n'],
    [
      '# in an unquoted value',
      'PASS=ab#cd\n',
      `kms-secrets: stdin: line 1: PASS: "#" in an unquoted value starts a comment in dotenv files: quote the value ('…'), or put the comment on its own line\n`,
    ],
  ])('refuses %s with exit 2, before any KMS call', async (_, stdin, message) => {
    // Act
    const result = await run(argv('bundle', { 'key-id': KEY_ID, 'function-name': 'f' }), { stdin })
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(message)
    expect(fake.kms.calls()).toHaveLength(0)
  })

  it('refuses input that is not UTF-8', async () => {
    // Act
    const result = await run(argv('bundle', { 'key-id': KEY_ID, 'function-name': 'f' }), {
      stdin: Uint8Array.of(0x41, 0x3d, 0xff),
    })
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('kms-secrets: the input is not UTF-8 text\n')
  })

  it('--format env-json names the value after --bind-variable when --name is not given', async () => {
    // Act
    const result = await run(
      argv('bundle', {
        'key-id': KEY_ID,
        'function-name': 'f',
        format: 'env-json',
        'bind-variable': 'SECRETS',
      }),
      { stdin: 'A=1' },
    )
    // Assess
    const value = JSON.parse(result.stdout).Parameters.SECRETS as string
    const fields = await readFields(
      value,
      { LambdaFunctionName: 'f', EnvironmentVariableName: 'SECRETS' },
      ['A'],
    )
    expect(fields).toEqual({ A: '1' })
  })

  it('needs a key id and a context', async () => {
    // Act
    const noKey = await run(['bundle', '--function-name', 'f'], { stdin: 'A=1' })
    const noContext = await run(['bundle', '--key-id', KEY_ID], { stdin: 'A=1' })
    // Assess
    expect(noKey.stderr).toBe(
      'kms-secrets: bundle needs --key-id (a key id, key ARN or alias/NAME)\n',
    )
    expect(noContext.stderr).toContain('no encryption context')
    expect([noKey.code, noContext.code]).toEqual([2, 2])
  })

  it('a KMS failure exits 1', async () => {
    // Prepare
    fake.kms.on(GenerateDataKeyCommand).rejects(awsError('DisabledException'))
    // Act
    const result = await run(
      argv('bundle', { 'key-id': KEY_ID, 'function-name': 'f', 'bind-variable': 'SECRETS' }),
      { stdin: 'A=1' },
    )
    // Assess
    expect(result.code).toBe(1)
    expect(result.stderr).toBe('kms-secrets: SECRETS: the KMS key is disabled [KEY_DISABLED]\n')
  })
})
