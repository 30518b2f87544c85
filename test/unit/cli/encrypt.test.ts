import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { EncryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms'
import { describe, expect, it } from 'vitest'
import { expectNoSecrets } from '../../support/no-leak.ts'
import { argv, awsError, cliTestSetup, KEY_ID, run, SAMCONFIG, TEMPLATE } from './harness.ts'

const { fake, tmp } = cliTestSetup()

const SECRET = 'pässwörd€-hunter2'
const fn = { LambdaFunctionName: 'my-fn' }

/** Encrypts for SecureFetchFunction of template.yaml in the temporary directory. */
const encryptForFetch = (
  options: Record<string, string | true>,
  stdin = SECRET,
  env?: Record<string, string>,
) =>
  run(
    argv('encrypt', {
      'key-id': KEY_ID,
      template: 'template.yaml',
      function: 'SecureFetchFunction',
      ...options,
    }),
    { stdin, cwd: tmp.dir, env },
  )

describe('kms-secrets encrypt', () => {
  it('encrypts stdin with one KMS Encrypt and prints the raw base64 blob', async () => {
    // Act
    const result = await run(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'my-fn' }), {
      stdin: SECRET,
    })
    // Assess
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^[A-Za-z0-9+/]+=*\n$/)
    expect(fake.plaintextOf(result.stdout.trim(), fn).toString()).toBe(SECRET)
    expect(fake.kms.commandCalls(EncryptCommand)).toHaveLength(1)
    expect(result.stderr).toBe('encrypted with encryption context {"LambdaFunctionName":"my-fn"}\n')
    expectNoSecrets(result.stdout + result.stderr, [SECRET])
  })

  it('reads --in FILE, binds the variable name and adds --context pairs', async () => {
    // Prepare
    writeFileSync(tmp.path('secret.txt'), SECRET)
    // Act
    const result = await run(
      [
        'encrypt',
        '--key-id',
        KEY_ID,
        '--function-name',
        'f',
        '--context',
        'Stage=prod',
        '--context',
        'Team=a=b',
        '--bind-variable',
        'API_TOKEN',
        '--in',
        'secret.txt',
      ],
      { cwd: tmp.dir },
    )
    // Assess
    expect(result.code).toBe(0)
    const context = {
      LambdaFunctionName: 'f',
      Stage: 'prod',
      Team: 'a=b',
      EnvironmentVariableName: 'API_TOKEN',
    }
    expect(fake.plaintextOf(result.stdout.trim(), context).toString()).toBe(SECRET)
    expect(() =>
      fake.plaintextOf(result.stdout.trim(), {
        LambdaFunctionName: 'f',
        Stage: 'prod',
        Team: 'a=b',
      }),
    ).toThrow()
  })

  it('--no-context sends no context; --context alone is the whole context', async () => {
    // Act
    const none = await run(['encrypt', '--key-id', KEY_ID, '--no-context'], { stdin: 'x' })
    const own = await run(argv('encrypt', { 'key-id': KEY_ID, context: 'App=a' }), { stdin: 'y' })
    // Assess
    expect(fake.plaintextOf(none.stdout.trim(), {}).toString()).toBe('x')
    expect(fake.plaintextOf(own.stdout.trim(), { App: 'a' }).toString()).toBe('y')
    expect(fake.kms.commandCalls(EncryptCommand)[0]?.args[0].input.EncryptionContext).toEqual({})
  })

  it('keeps a trailing newline but warns; --trim drops one (\\n or \\r\\n)', async () => {
    // Act
    const kept = await run(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'my-fn' }), {
      stdin: 'abc\n',
    })
    const trimmed = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'my-fn', trim: true }),
      { stdin: 'abc\r\n' },
    )
    const trimmedLf = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'my-fn', trim: true }),
      { stdin: 'abc\n' },
    )
    // Assess
    expect(fake.plaintextOf(kept.stdout.trim(), fn).toString()).toBe('abc\n')
    expect(kept.stderr).toContain(
      "warning: the input ends with a newline, which is encrypted as part of the secret: for text, use printf '%s' or --trim; for binary input (a random key), ignore this\n",
    )
    expect(fake.plaintextOf(trimmed.stdout.trim(), fn).toString()).toBe('abc')
    expect(fake.plaintextOf(trimmedLf.stdout.trim(), fn).toString()).toBe('abc')
    expect(trimmed.stderr).not.toContain('warning')
  })

  it('keeps binary input byte for byte (stdin in several chunks)', async () => {
    // Prepare
    const key = Uint8Array.from({ length: 32 }, (_, i) => 255 - i)
    const expected = Buffer.from(key) // a copy: the CLI wipes the stdin chunks it read
    // Act
    const result = await run(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'my-fn' }), {
      stdin: [key.subarray(0, 10), key.subarray(10)],
    })
    // Assess
    expect(fake.plaintextOf(result.stdout.trim(), fn).equals(expected)).toBe(true)
    expect(key.every((byte) => byte === 0)).toBe(true)
  })

  it('--envelope seals any size with one GenerateDataKey', async () => {
    // Prepare
    const big = 'x'.repeat(10_000)
    // Act
    const result = await run(
      argv('encrypt', {
        'key-id': KEY_ID,
        'function-name': 'my-fn',
        envelope: true,
        out: 'cert.enc',
      }),
      {
        stdin: big,
        cwd: tmp.dir,
      },
    )
    // Assess
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('')
    expect(readFileSync(tmp.path('cert.enc'), 'utf8')).toMatch(/^kse1:[A-Za-z0-9+/]+=*\n$/)
    expect(fake.kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1)
    expect(fake.kms.commandCalls(EncryptCommand)).toHaveLength(0)
    expect(result.stderr).toContain('sealed (envelope) with encryption context')
    expect(result.stderr).toContain('wrote cert.enc')
    expect(result.stderr).not.toContain('warning')
  })

  it('refuses more than 4096 bytes without --envelope, before any KMS call (exit 2)', async () => {
    // Act
    const result = await run(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'my-fn' }), {
      stdin: 'x'.repeat(4097),
    })
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'kms-secrets: stdin: the secret is 4097 bytes, over the 4096 bytes KMS Encrypt takes: use an envelope (kms-secrets encrypt --envelope) [INVALID_OPTIONS]\n',
    )
    expect(fake.kms.calls()).toHaveLength(0)
  })

  it.each([
    [[], 'kms-secrets: the input is empty\n'],
    [['--trim'], 'kms-secrets: the input is empty\n'],
  ])('refuses empty input %j (exit 2)', async (extra, message) => {
    // Act
    const result = await run(
      ['encrypt', '--key-id', KEY_ID, '--function-name', 'my-fn', ...extra],
      {
        stdin: extra.length ? '\n' : '',
      },
    )
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr.endsWith(message)).toBe(true)
    expect(fake.kms.calls()).toHaveLength(0)
  })

  it('needs a key id and a context (exit 2, before reading input)', async () => {
    // Act
    const noKey = await run(['encrypt', '--function-name', 'f'], { stdin: 's' })
    const noContext = await run(['encrypt', '--key-id', KEY_ID], { stdin: 's' })
    // Assess
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toBe(
      'kms-secrets: encrypt needs --key-id (a key id, key ARN or alias/NAME)\n',
    )
    expect(noContext.code).toBe(2)
    expect(noContext.stderr).toContain(
      'kms-secrets: no encryption context: pass --function-name NAME',
    )
  })

  it('maps a KMS refusal to exit 1 with a one-line message', async () => {
    // Prepare
    fake.kms.on(EncryptCommand).rejects(awsError('AccessDeniedException'))
    // Act
    const result = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f', name: 'API_TOKEN' }),
      { stdin: SECRET },
    )
    // Assess
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^kms-secrets: API_TOKEN: KMS denied Encrypt: .* \[ACCESS_DENIED\]\n$/,
    )
    expect(result.stdout).toBe('')
    expectNoSecrets(result.stderr, [SECRET])
  })

  it('--format env-json: {"<LogicalId>": {"VAR": value}} for sam local invoke --env-vars', async () => {
    // Prepare
    writeFileSync(tmp.path('template.yaml'), TEMPLATE)
    writeFileSync(tmp.path('samconfig.toml'), SAMCONFIG)
    // Act
    const result = await encryptForFetch({ format: 'env-json', name: 'API_TOKEN' })
    // Assess
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout) as Record<string, Record<string, string>>
    const value = json.SecureFetchFunction?.API_TOKEN as string
    expect(Object.keys(json)).toEqual(['SecureFetchFunction'])
    expect(
      fake.plaintextOf(value, { LambdaFunctionName: 'my-stack-secure-fetch' }).toString(),
    ).toBe(SECRET)
    expect(result.stderr).toContain('(SecureFetchFunction FunctionName in the template)')
  })

  it('--samconfig and --config-env pick the stack name; the region comes from AWS_DEFAULT_REGION too', async () => {
    // Prepare
    writeFileSync(
      tmp.path('template.yaml'),
      TEMPLATE.replace('-secure-fetch', `-secure-fetch-\${AWS::Region}`),
    )
    writeFileSync(tmp.path('other.toml'), SAMCONFIG)
    // Act
    const result = await encryptForFetch(
      { samconfig: 'other.toml', 'config-env': 'prod' },
      SECRET,
      { AWS_DEFAULT_REGION: 'eu-north-1' },
    )
    // Assess
    expect(result.code).toBe(0)
    const context = { LambdaFunctionName: 'prod-stack-secure-fetch-eu-north-1' }
    expect(fake.plaintextOf(result.stdout.trim(), context).toString()).toBe(SECRET)
  })

  it('--format env-json without --function keys the value under "Parameters"; --bind-variable names it', async () => {
    // Act
    const result = await run(
      argv('encrypt', {
        'key-id': KEY_ID,
        'function-name': 'f',
        format: 'env-json',
        'bind-variable': 'DB_PASSWORD',
      }),
      { stdin: SECRET },
    )
    // Assess
    expect(Object.keys(JSON.parse(result.stdout).Parameters)).toEqual(['DB_PASSWORD'])
  })

  it('--format parameter-overrides: Name=value, warns over the template MaxLength', async () => {
    // Prepare
    writeFileSync(tmp.path('template.yaml'), TEMPLATE)
    // Act
    const overrides = { 'stack-name': 's', format: 'parameter-overrides' }
    const small = await encryptForFetch({ ...overrides, name: 'ApiTokenCiphertext' })
    const big = await encryptForFetch(
      { ...overrides, name: 'ApiTokenCiphertext', envelope: true },
      'y'.repeat(2500),
    )
    const unknownParameter = await encryptForFetch(
      { ...overrides, name: 'Suffix', envelope: true },
      'y'.repeat(2500),
    )
    // Assess
    expect(small.stdout).toMatch(/^ApiTokenCiphertext=[A-Za-z0-9+/]+=*\n$/)
    expect(small.stderr).not.toContain('warning')
    expect(big.stderr).toMatch(
      /warning: the value is \d+ bytes, over the template's MaxLength of 3000 for ApiTokenCiphertext/,
    )
    expect(unknownParameter.stderr).not.toContain('MaxLength')
  })

  it('--format parameter-overrides: a parameter declared without properties has no MaxLength', async () => {
    // Prepare
    writeFileSync(
      tmp.path('template.yaml'),
      TEMPLATE.replace('Parameters:\n', 'Parameters:\n  Bare:\n'),
    )
    // Act
    const result = await encryptForFetch({
      'stack-name': 's',
      format: 'parameter-overrides',
      name: 'Bare',
    })
    // Assess
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Bare=[A-Za-z0-9+/]+=*\n$/)
  })

  it("warns when the value alone passes Lambda's 4 KB env budget", async () => {
    // Act
    const result = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f', envelope: true, name: 'CERT' }),
      {
        stdin: 'z'.repeat(3500),
      },
    )
    // Assess
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /warning: CERT alone takes \d+ bytes, over Lambda's 4096-byte limit for all environment variables: bundle the secrets/,
    )
  })

  it('--out refuses to replace a file unless --force', async () => {
    // Prepare
    writeFileSync(tmp.path('out.txt'), 'old')
    // Act
    const refused = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f', out: 'out.txt' }),
      { stdin: 's', cwd: tmp.dir },
    )
    const forced = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f', out: 'out.txt', force: true }),
      { stdin: 's', cwd: tmp.dir },
    )
    const badDir = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f', out: 'no/such/dir/x' }),
      { stdin: 's', cwd: tmp.dir },
    )
    // Assess
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain(
      'kms-secrets: --out out.txt exists: pass --force to replace it\n',
    )
    expect(forced.code).toBe(0)
    expect(readFileSync(tmp.path('out.txt'), 'utf8')).not.toBe('old')
    expect(statSync(tmp.path('out.txt')).mode & 0o777).toBe(0o644)
    expect(badDir.code).toBe(2)
    expect(badDir.stderr).toContain('kms-secrets: cannot write --out no/such/dir/x (ENOENT)\n')
    expect(existsSync(tmp.path('no'))).toBe(false)
  })

  it('says where stdin is read from when it is a terminal', async () => {
    // Act
    const result = await run(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f' }), {
      stdin: 's',
      stdinIsTTY: true,
    })
    // Assess
    expect(result.stderr.startsWith('reading the secret from stdin (end with Ctrl-D)\n')).toBe(true)
  })

  it('refuses an unreadable --in (exit 2)', async () => {
    // Act
    const result = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f', in: 'missing.txt' }),
      { cwd: tmp.dir },
    )
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('kms-secrets: cannot read --in missing.txt (ENOENT)\n')
  })
})
