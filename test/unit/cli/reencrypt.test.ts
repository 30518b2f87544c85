import { writeFileSync } from 'node:fs'
import { DecryptCommand, GenerateDataKeyCommand, ReEncryptCommand } from '@aws-sdk/client-kms'
import { describe, expect, it } from 'vitest'
import {
  argv,
  cliTestSetup,
  KEY_ARN,
  KEY_ID,
  OTHER_KEY_ID,
  run,
  runOk,
  SAMCONFIG,
  TEMPLATE,
} from './harness.ts'

const { fake, tmp } = cliTestSetup()

const encrypt = (args: string[], stdin = 's3cr3t') =>
  runOk(['encrypt', '--key-id', KEY_ID, ...args], stdin)
const check = (value: string, args: string[]) => run(['decrypt', ...args], { stdin: value })

describe('kms-secrets reencrypt', () => {
  it('moves a raw blob to another function with one KMS ReEncrypt (no Decrypt here)', async () => {
    // Prepare
    const value = await encrypt(['--function-name', 'old-name'])
    fake.kms.resetHistory()
    // Act
    const result = await run(
      argv('reencrypt', {
        'key-id': KEY_ID,
        'function-name': 'old-name',
        'to-function-name': 'new-name',
      }),
      {
        stdin: value,
      },
    )
    // Assess
    expect(result.code).toBe(0)
    expect(fake.kms.commandCalls(ReEncryptCommand)).toHaveLength(1)
    expect(fake.kms.commandCalls(DecryptCommand)).toHaveLength(0)
    expect(
      fake.plaintextOf(result.stdout.trim(), { LambdaFunctionName: 'new-name' }).toString(),
    ).toBe('s3cr3t')
    expect(result.stderr).toBe(
      `re-encrypted under ${KEY_ID} with encryption context {"LambdaFunctionName":"new-name"}\n`,
    )
  })

  it('moves a raw blob to another key, keeping the context', async () => {
    // Prepare
    const value = await encrypt(['--function-name', 'f'])
    // Act
    const result = await run(
      argv('reencrypt', { 'function-name': 'f', 'to-key-id': OTHER_KEY_ID }),
      {
        stdin: value,
      },
    )
    // Assess
    expect(result.code).toBe(0)
    expect(fake.keyOf(result.stdout.trim())).toContain(OTHER_KEY_ID)
    expect(fake.plaintextOf(result.stdout.trim(), { LambdaFunctionName: 'f' }).toString()).toBe(
      's3cr3t',
    )
  })

  it('moves an envelope by opening and sealing it again here, and says so', async () => {
    // Prepare
    const value = await encrypt(['--function-name', 'old', '--envelope'], 'big secret')
    fake.kms.resetHistory()
    // Act
    const result = await run(
      argv('reencrypt', { 'key-id': KEY_ID, 'function-name': 'old', 'to-function-name': 'new' }),
      { stdin: value },
    )
    const moved = await check(result.stdout, ['--function-name', 'new', '--show'])
    const stale = await check(result.stdout, ['--function-name', 'old'])
    // Assess
    expect(result.code).toBe(0)
    expect(result.stdout.startsWith('kse1:')).toBe(true)
    expect(result.stderr).toContain(
      "note: an envelope binds its context and data key into the AES-GCM tag, so it was opened and sealed again under a fresh data key here; the plaintext was in this process's memory (wiped after)",
    )
    expect(fake.kms.commandCalls(ReEncryptCommand)).toHaveLength(0)
    expect(fake.kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1)
    expect(moved.stdout).toBe('big secret')
    expect(stale.code).toBe(1)
  })

  it('changes only the bound variable name when asked (--to-bind-variable)', async () => {
    // Prepare
    const value = await encrypt(['--function-name', 'f', '--bind-variable', 'OLD_VAR'])
    // Act
    const result = await run(
      argv('reencrypt', {
        'key-id': KEY_ID,
        'function-name': 'f',
        'bind-variable': 'OLD_VAR',
        'to-bind-variable': 'NEW_VAR',
      }),
      { stdin: value },
    )
    // Assess
    expect(
      fake
        .plaintextOf(result.stdout.trim(), {
          LambdaFunctionName: 'f',
          EnvironmentVariableName: 'NEW_VAR',
        })
        .toString(),
    ).toBe('s3cr3t')
  })

  it('drops the binding when the source had one and the destination context is given without', async () => {
    // Prepare
    const value = await encrypt(['--function-name', 'f', '--bind-variable', 'V'])
    // Act
    const kept = await run(
      argv('reencrypt', { 'key-id': KEY_ID, 'function-name': 'f', 'bind-variable': 'V' }),
      { stdin: value },
    )
    const toNone = await run(
      [
        'reencrypt',
        '--key-id',
        KEY_ID,
        '--function-name',
        'f',
        '--bind-variable',
        'V',
        '--to-no-context',
      ],
      {
        stdin: value,
      },
    )
    // Assess
    expect(
      fake
        .plaintextOf(kept.stdout.trim(), { LambdaFunctionName: 'f', EnvironmentVariableName: 'V' })
        .toString(),
    ).toBe('s3cr3t')
    expect(
      fake.plaintextOf(toNone.stdout.trim(), { EnvironmentVariableName: 'V' }).toString(),
    ).toBe('s3cr3t')
  })

  it('takes both functions from the template and writes env-json for the destination', async () => {
    // Prepare
    writeFileSync(tmp.path('template.yaml'), TEMPLATE)
    writeFileSync(tmp.path('samconfig.toml'), SAMCONFIG)
    const value = await encrypt(['--function-name', 'my-stack-secure-items'])
    // Act
    const result = await run(
      argv('reencrypt', {
        'key-id': KEY_ARN,
        template: 'template.yaml',
        function: 'SecureItemsFunction',
        'to-function': 'SecureFetchFunction',
        format: 'env-json',
        name: 'API_TOKEN',
      }),
      { stdin: value, cwd: tmp.dir },
    )
    // Assess
    expect(result.code).toBe(0)
    const moved = JSON.parse(result.stdout).SecureFetchFunction.API_TOKEN as string
    expect(
      fake.plaintextOf(moved, { LambdaFunctionName: 'my-stack-secure-fetch' }).toString(),
    ).toBe('s3cr3t')
  })

  it('keeps the source function of the template for env-json when only key and binding change', async () => {
    // Prepare
    writeFileSync(tmp.path('template.yaml'), TEMPLATE)
    const value = await encrypt(['--function-name', 's-secure-items'])
    // Act
    const result = await run(
      argv('reencrypt', {
        template: 'template.yaml',
        function: 'SecureItemsFunction',
        'stack-name': 's',
        'to-key-id': OTHER_KEY_ID,
        format: 'env-json',
        'to-bind-variable': 'DATA_KEY',
      }),
      { stdin: value, cwd: tmp.dir },
    )
    // Assess
    expect(result.code).toBe(0)
    const moved = JSON.parse(result.stdout).SecureItemsFunction.DATA_KEY as string
    expect(fake.keyOf(moved)).toContain(OTHER_KEY_ID)
    const context = { LambdaFunctionName: 's-secure-items', EnvironmentVariableName: 'DATA_KEY' }
    expect(fake.plaintextOf(moved, context).toString()).toBe('s3cr3t')
  })

  it.each([
    [
      ['--function-name', 'f'],
      'kms-secrets: reencrypt needs --to-key-id (or --key-id to stay under the same key)\n',
    ],
    [['--key-id', KEY_ID], 'no encryption context'],
    [
      ['--key-id', KEY_ID, '--function-name', 'f', '--to-function', 'X'],
      'kms-secrets: --to-function needs --template template.yaml\n',
    ],
  ])('usage error for %j (exit 2)', async (args, message) => {
    // Act
    const result = await run(['reencrypt', ...args], { stdin: 'AAAA' })
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(message)
    expect(fake.kms.calls()).toHaveLength(0)
  })

  it('refuses empty input (exit 2), and a value KMS refuses exits 1', async () => {
    // Act
    const empty = await run(argv('reencrypt', { 'key-id': KEY_ID, 'function-name': 'f' }), {
      stdin: '',
    })
    const refused = await run(argv('reencrypt', { 'key-id': KEY_ID, 'function-name': 'f' }), {
      stdin: 'AAAA',
    })
    // Assess
    expect(empty.code).toBe(2)
    expect(empty.stderr).toBe('kms-secrets: the input is empty\n')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('[CONTEXT_MISMATCH]')
  })
})
