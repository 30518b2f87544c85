// Issue 16 item 7: what the CLI can check itself is checked before any KMS call, with the
// exit code --help promises (2: bad command line or input) and a message that says what to do.

import { readFileSync, writeFileSync } from 'node:fs'
import { EncryptCommand } from '@aws-sdk/client-kms'
import { describe, expect, it } from 'vitest'
import { argv, awsError, cliTestSetup, KEY_ID, run, TEMPLATE } from './harness.ts'

const { fake, tmp } = cliTestSetup()

describe('kms-secrets: checks before KMS', () => {
  it.each([
    ['encrypt', ['--key-id', KEY_ID], 's3cr3t'],
    ['bundle', ['--key-id', KEY_ID], 'A=1\n'],
  ])('%s refuses an existing --out before calling KMS (exit 2)', async (command, args, stdin) => {
    // Prepare
    writeFileSync(tmp.path('out.txt'), 'keep me')
    // Act
    const result = await run([command, ...args, '--function-name', 'f', '--out', 'out.txt'], {
      stdin,
      cwd: tmp.dir,
    })
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('kms-secrets: --out out.txt exists: pass --force to replace it\n')
    expect(fake.kms.calls()).toHaveLength(0)
    expect(readFileSync(tmp.path('out.txt'), 'utf8')).toBe('keep me')
  })

  it.each(['encrypt', 'reencrypt'])(
    '%s --format env-json with --template refuses a --name the function does not have',
    async (command) => {
      // Prepare
      writeFileSync(tmp.path('template.yaml'), TEMPLATE)
      // Act
      const result = await run(
        argv(command, {
          'key-id': KEY_ID,
          template: 'template.yaml',
          function: 'SecureFetchFunction',
          'stack-name': 's',
          format: 'env-json',
          name: 'API_TOKN',
        }),
        { stdin: 's3cr3t', cwd: tmp.dir },
      )
      // Assess
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(
        'kms-secrets: --name API_TOKN is not an environment variable of SecureFetchFunction in the template, so sam local invoke would ignore it (variables: NODE_OPTIONS, LOG_LEVEL, API_TOKEN, UPSTREAM_URL)\n',
      )
      expect(fake.kms.calls()).toHaveLength(0)
    },
  )

  it('names no variables for a function without Environment', async () => {
    // Prepare
    writeFileSync(
      tmp.path('t.yaml'),
      'Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: fn\n',
    )
    // Act
    const result = await run(
      argv('encrypt', { 'key-id': KEY_ID, template: 't.yaml', function: 'Fn' }).concat([
        '--format',
        'env-json',
        '--name',
        'API_TOKEN',
      ]),
      { stdin: 's3cr3t', cwd: tmp.dir },
    )
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('(variables: none)')
  })

  it('says "1 field" for a bundle of one', async () => {
    // Act
    const result = await run(argv('bundle', { 'key-id': KEY_ID, 'function-name': 'f' }), {
      stdin: 'ONLY=1\n',
    })
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain('sealed a bundle of 1 field (ONLY)')
  })

  it('a key KMS does not find: exit 1 (KMS said so), naming the region it looked in', async () => {
    // Prepare
    fake.kms.on(EncryptCommand).rejects(awsError('NotFoundException'))
    // Act
    const result = await run(argv('encrypt', { 'key-id': 'alias/missing', 'function-name': 'f' }), {
      stdin: 's3cr3t',
    })
    // Assess
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      'kms-secrets: stdin: the KMS key does not exist: check the key id or alias, the region and AWS_ENDPOINT_URL (looked in region us-east-1; --region picks another) [NotFoundException]\n',
    )
  })
})

describe('kms-secrets decrypt / reencrypt: the .param file of --format parameter-overrides', () => {
  it.each(['decrypt', 'reencrypt'])(
    '%s reads Name=value as written by encrypt',
    async (command) => {
      // Prepare
      const encrypted = await run(
        argv('encrypt', {
          'key-id': KEY_ID,
          'function-name': 'f',
          format: 'parameter-overrides',
          name: 'ApiTokenCiphertext',
          out: 'api-token.param',
        }),
        { stdin: 's3cr3t', cwd: tmp.dir },
      )
      const extra = command === 'reencrypt' ? ['--key-id', KEY_ID, '--to-function-name', 'g'] : []
      // Act
      const result = await run(
        [command, '--function-name', 'f', ...extra, '--in', 'api-token.param'],
        { cwd: tmp.dir },
      )
      // Assess
      expect(encrypted.code, encrypted.stderr).toBe(0)
      expect(result.code, result.stderr).toBe(0)
      if (command === 'decrypt') expect(result.stdout).toBe('ok, 6 bytes (raw KMS blob)\n')
      else
        expect(fake.plaintextOf(result.stdout.trim(), { LambdaFunctionName: 'g' }).toString()).toBe(
          's3cr3t',
        )
    },
  )
})
