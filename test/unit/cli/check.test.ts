import { mkdirSync, writeFileSync } from 'node:fs'
import {
  DecryptCommand,
  DescribeKeyCommand,
  GetKeyRotationStatusCommand,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'
import fc from 'fast-check'
import { beforeEach, describe, expect, it } from 'vitest'
import { type CheckLine, parseOverrides } from '../../../cli/src/commands/check.ts'
import { CliUsageError } from '../../../cli/src/errors.ts'
import {
  argv,
  awsError,
  cliTestSetup,
  KEY_ARN,
  KEY_ID,
  OTHER_KEY_ID,
  run,
  runOk,
} from './harness.ts'

const { fake, tmp } = cliTestSetup()
beforeEach(() => {
  fake.kms.on(DescribeKeyCommand).resolves({
    KeyMetadata: {
      KeyId: KEY_ID,
      Arn: KEY_ARN,
      KeyState: 'Enabled',
      Enabled: true,
      KeyManager: 'CUSTOMER',
      Origin: 'AWS_KMS',
    },
  })
  fake.kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true })
})

const encrypt = async (functionName: string, extra: string[] = [], keyId = KEY_ID) => {
  const args = ['encrypt', '--key-id', keyId, '--function-name', functionName, ...extra]
  return (await runOk(args, 's3cr3t-value')).trim()
}

const fn = (id: string, env: string, extra = '') => `  ${id}:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub \${AWS::StackName}-${id.toLowerCase()}
${extra}      Environment:
        Variables:
${env}`

const templateOf = (resources: string, head = '') => `Transform: AWS::Serverless-2016-10-31
${head}Parameters:
  Secret:
    Type: String
    NoEcho: true
    Default: ""
  Plain:
    Type: String
Resources:
${resources}`

/** Writes template.yaml into the temp dir and runs check --format json with the args. */
const check = async (template: string, args: string[] = []) => {
  writeFileSync(tmp.path('template.yaml'), template)
  const result = await run(
    ['check', '--template', 'template.yaml', '--stack-name', 's', '--format', 'json', ...args],
    { cwd: tmp.dir },
  )
  const report =
    result.code === 2
      ? undefined
      : (JSON.parse(result.stdout) as { ok: boolean; lines: CheckLine[] })
  const line = (variable: string) => report?.lines.find((l) => l.variable === variable)
  return { ...result, report, line }
}

describe('kms-secrets check: values', () => {
  it('re-encrypts each encrypted value onto the same key and context, and never decrypts', async () => {
    // Prepare
    const value = await encrypt('s-a')
    fake.kms.resetHistory()
    const template = templateOf(fn('A', '          SECRET: !Ref Secret\n          MODE: fast\n'))
    // Act
    const { code, report, line } = await check(template, [
      '--key-id',
      KEY_ID,
      '--parameter-overrides',
      `Secret=${value}`,
    ])
    // Assess
    const input = fake.kms.commandCalls(ReEncryptCommand)[0]?.args[0].input
    expect(code).toBe(0)
    expect(report?.ok).toBe(true)
    expect(input).toMatchObject({
      SourceKeyId: KEY_ARN,
      DestinationKeyId: KEY_ARN,
      SourceEncryptionContext: { LambdaFunctionName: 's-a' },
      DestinationEncryptionContext: { LambdaFunctionName: 's-a' },
    })
    expect(fake.kms.commandCalls(DecryptCommand)).toHaveLength(0)
    expect(line('SECRET')).toEqual({
      function: 'A',
      variable: 'SECRET',
      verdict: 'ok',
      reason: 'raw KMS blob decrypts for s-a',
    })
    expect(line('MODE')).toBeUndefined()
    expect(JSON.stringify(report)).not.toContain(value)
  })

  it('names a value for another function, one under another key, and a malformed one', async () => {
    // Prepare
    const renamed = await encrypt('s-old')
    const moved = await encrypt('s-b', [], OTHER_KEY_ID)
    const env = (name: string) => `          SECRET: !Ref ${name}\n`
    const template = templateOf(
      `${fn('A', env('Renamed'))}${fn('B', env('Moved'))}${fn('C', env('Broken'))}`,
    ).replace(
      'Resources:',
      '  Renamed: {Type: String, NoEcho: true}\n  Moved: {Type: String, NoEcho: true}\n  Broken: {Type: String, NoEcho: true}\nResources:',
    )
    // Act
    const { code, report } = await check(template, [
      '--key-id',
      KEY_ID,
      '--parameter-overrides',
      `Renamed=${renamed} Moved="${moved}" Broken='not base64!'`,
    ])
    // Assess
    const reasons = report?.lines
      .filter((l) => l.variable === 'SECRET')
      .map((l) => [l.function, l.verdict, l.reason])
    expect(code).toBe(1)
    expect(reasons).toEqual([
      [
        'A',
        'fail',
        'raw KMS blob: does not decrypt for s-a: encrypted for another function name (or context), or altered',
      ],
      ['B', 'fail', 'raw KMS blob: encrypted under another key'],
      ['C', 'fail', 'raw KMS blob: value is not valid base64 (truncated or altered?)'],
    ])
  })

  it('finds a variable-bound value, an envelope and a secrets file in the code folder', async () => {
    // Prepare
    const bound = await encrypt('s-a', ['--bind-variable', 'TOKEN'])
    const sealed = await encrypt('s-a', ['--envelope'])
    const file = await encrypt('s-a', ['--envelope', '--bind-variable', 'certs/tls.kse'])
    mkdirSync(tmp.path('code/certs'), { recursive: true })
    writeFileSync(tmp.path('code/certs/tls.kse'), `${file}\n`)
    writeFileSync(tmp.path('code/certs/plain.pem'), 'not an envelope')
    const env = [
      '          TOKEN: !Ref Secret',
      `          SEALED: "${sealed}"`,
      '          TLS_FILE: certs/tls.kse',
      '          PEM_FILE: certs/plain.pem',
      '          MISSING_FILE: certs/none.kse',
      '          LAYER_FILE: /opt/certs/tls.kse',
      '          NO_DOT: certs',
      '',
    ].join('\n')
    // Act
    const { code, report, line } = await check(templateOf(fn('A', env, '      CodeUri: code\n')), [
      '--key-id',
      KEY_ID,
      '--parameter-overrides',
      `Secret=${bound}`,
    ])
    // Assess
    expect(code).toBe(0)
    expect(line('TOKEN')?.reason).toBe('raw KMS blob decrypts for s-a (bound to its variable name)')
    expect(line('SEALED')?.reason).toMatch(
      /^envelope decrypts for s-a: the data key re-encrypts; the AES-GCM tag/,
    )
    expect(line('SEALED')?.verdict).toBe('ok')
    expect(line('TLS_FILE (file:certs/tls.kse)')?.reason).toMatch(
      /^secrets file decrypts for s-a \(bound to its variable name\): /,
    )
    expect(report?.lines.map((l) => l.variable)).toEqual([
      `key ${KEY_ID}`,
      'TOKEN',
      'SEALED',
      'TLS_FILE (file:certs/tls.kse)',
      '(environment)',
    ])
  })

  it('fails a malformed envelope, and passes on what KMS says of other failures', async () => {
    // Prepare
    const value = await encrypt('s-a')
    fake.kms.on(ReEncryptCommand).rejects(awsError('AccessDeniedException'))
    const blob = 'QUJD'.repeat(24)
    const env = `          SECRET: !Ref Secret\n          SEALED: "kse1:AAAA"\n          BLOB: ${blob}\n`
    // Act
    const { code, line } = await check(templateOf(fn('A', env)), [
      '--key-id',
      KEY_ID,
      '--parameter-overrides',
      `Secret=${value}`,
    ])
    // Assess
    expect(code).toBe(1)
    expect(line('SECRET')?.reason).toMatch(/^raw KMS blob: KMS denied ReEncrypt/)
    expect(line('SEALED')?.reason).toBe('envelope: envelope is truncated or malformed')
    expect(line('BLOB')?.reason).toMatch(/^raw KMS blob: KMS denied ReEncrypt/)
    expect(fake.kms.commandCalls(ReEncryptCommand)).toHaveLength(2)
  })

  it('warns on an empty secret, fails one with no value, and skips plain settings', async () => {
    // Prepare
    const env = [
      '          EMPTY: !Ref Secret',
      '          UNSET: !Ref Unset',
      '          URL: !Ref Plain',
      '          BLANK: ""',
      '          PIN: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
      '',
    ].join('\n')
    const template = templateOf(fn('A', env)).replace(
      'Resources:',
      '  Unset: {Type: String, NoEcho: true}\nResources:',
    )
    // Act
    const { code, report, line } = await check(template)
    // Assess
    expect(code).toBe(1)
    expect(line('EMPTY')).toMatchObject({
      verdict: 'warn',
      reason:
        'empty: fine only for a first deploy, before the key exists; the function fails at its first cold start',
    })
    expect(line('UNSET')).toMatchObject({
      verdict: 'fail',
      reason: 'its parameter has no value here: pass --parameter-overrides',
    })
    expect(report?.lines.map((l) => l.variable)).toEqual(['EMPTY', 'UNSET', '(environment)'])
    expect(fake.kms.calls()).toHaveLength(0)
  })

  it("fails a function whose environment is over Lambda's 4 KB, counting what is known", async () => {
    // Prepare
    const env = `          BIG: ${'x'.repeat(4094)}\n          URL: !Ref Plain\n`
    // Act
    const over = await check(templateOf(fn('A', env)))
    const under = await check(templateOf(fn('A', '          SMALL: "1"\n')))
    const exact = await check(templateOf(fn('A', `          BIG: ${'x'.repeat(4093)}\n`)))
    // Assess
    expect(over.code).toBe(1)
    expect(over.line('(environment)')?.reason).toBe(
      "4097 bytes, over Lambda's 4096-byte limit for all environment variables (not counted: URL, whose value is unknown here): bundle the secrets (kms-secrets bundle) or ship a secrets file",
    )
    expect(under.code).toBe(0)
    expect(under.line('(environment)')?.reason).toBe('6 of 4096 bytes')
    expect(exact.code).toBe(0)
    expect(exact.line('(environment)')?.reason).toBe('4096 of 4096 bytes')
  })

  it('fails a value KMS says came from another key, even when KMS ignored SourceKeyId', async () => {
    // Prepare
    const value = await encrypt('s-a')
    fake.kms.on(ReEncryptCommand).resolves({ SourceKeyId: `${KEY_ARN}0`, KeyId: KEY_ARN })
    // Act
    const { code, line } = await check(templateOf(fn('A', '          SECRET: !Ref Secret\n')), [
      '--key-id',
      KEY_ID,
      '--parameter-overrides',
      `Secret=${value}`,
    ])
    // Assess
    expect(code).toBe(1)
    expect(line('SECRET')?.reason).toBe('raw KMS blob: encrypted under another key')
  })

  it('takes as encrypted only a strict base64 of at least 64 bytes, or a plain relative file path', async () => {
    // Prepare
    const file = await encrypt('s-a', ['--envelope', '--bind-variable', 'top.kse'])
    mkdirSync(tmp.path('code/certs'), { recursive: true })
    writeFileSync(tmp.path('code/top.kse'), file)
    writeFileSync(tmp.path('code/certs/tls.kse'), file)
    const base64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64')
    const env = [
      `          LEADING: -${'A'.repeat(95)}`,
      `          TRAILING: ${'A'.repeat(95)}-`,
      `          SHORT: ${base64(63)}`,
      `          EXACT: ${base64(64)}`,
      '          TOP_FILE: top.kse',
      '          DOUBLE_SLASH: certs//tls.kse',
      `          ABSOLUTE: ${tmp.path('code/certs/tls.kse')}`,
      '',
    ].join('\n')
    // Act
    const { report } = await check(templateOf(fn('A', env, '      CodeUri: code\n')), [
      '--key-id',
      KEY_ID,
    ])
    // Assess
    expect(report?.lines.map((l) => l.variable)).toEqual([
      `key ${KEY_ID}`,
      'EXACT',
      'TOP_FILE (file:top.kse)',
      '(environment)',
    ])
  })

  it('takes as secret only a Ref to a NoEcho parameter', async () => {
    // Prepare
    const template = templateOf(fn('A', '          BLANK: ""\n')).replace(
      'Resources:',
      '  undefined: {Type: String, NoEcho: true}\nResources:',
    )
    // Act
    const { report } = await check(template)
    // Assess
    expect(report?.lines.map((l) => l.variable)).toEqual(['(environment)'])
  })

  it('takes a Ref to a parameter declared without properties as no secret', async () => {
    // Prepare
    const template = templateOf(fn('A', '          BARE: !Ref Bare\n')).replace(
      'Resources:',
      '  Bare:\nResources:',
    )
    // Act
    const { code, report } = await check(template)
    // Assess
    expect(code).toBe(0)
    expect(report?.lines.map((l) => l.variable)).toEqual(['(environment)'])
  })

  it('fails a function whose name cannot be known', async () => {
    // Prepare
    const template = templateOf('  A:\n    Type: AWS::Serverless::Function\n    Properties: {}\n')
    // Act
    const { code, report } = await check(template)
    // Assess
    expect(code).toBe(1)
    expect(report?.lines).toEqual([
      expect.objectContaining({ function: 'A', variable: '-', verdict: 'fail' }),
    ])
    expect(report?.lines[0]?.reason).toMatch(/^A has no FunctionName/)
  })
})

describe('kms-secrets check: the key', () => {
  const oneValue = async () => {
    writeFileSync(tmp.path('values.json'), JSON.stringify({ Secret: await encrypt('s-a') }))
    return templateOf(fn('A', '          SECRET: !Ref Secret\n'))
  }
  const withValue = ['--parameter-overrides', 'file://values.json']

  it.each([
    ['disabled', { KeyState: 'Disabled' }, 'the key is Disabled: no value under it decrypts'],
    [
      'pending deletion',
      { KeyState: 'PendingDeletion', DeletionDate: new Date('2030-01-02T03:04:05Z') },
      'the key is PendingDeletion, deletion on 2030-01-02T03:04:05.000Z: no value under it decrypts',
    ],
  ] as const)('fails every value under a %s key', async (_, state, reason) => {
    // Prepare
    const template = await oneValue()
    fake.kms
      .on(DescribeKeyCommand)
      .resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, ...state } })
    // Act
    const { code, report } = await check(template, ['--key-id', KEY_ID, ...withValue])
    // Assess
    expect(code).toBe(1)
    expect(report?.lines[0]).toEqual({
      function: '-',
      variable: `key ${KEY_ID}`,
      verdict: 'fail',
      reason,
    })
    expect(report?.lines.find((l) => l.variable === 'SECRET')).toMatchObject({
      variable: 'SECRET',
      verdict: 'fail',
      reason: 'the key is not usable (see its line)',
    })
    expect(fake.kms.commandCalls(ReEncryptCommand)).toHaveLength(0)
  })

  it.each([
    [
      'AccessDeniedException',
      'KMS denied DescribeKey or GetKeyRotationStatus on the key (the check needs both)',
    ],
    [
      'NotFoundException',
      'the KMS key does not exist: check the key id or alias, the region and AWS_ENDPOINT_URL',
    ],
  ])('fails when DescribeKey answers %s', async (error, reason) => {
    // Prepare
    const template = await oneValue()
    fake.kms.on(DescribeKeyCommand).rejects(awsError(error))
    // Act
    const { code, report } = await check(template, ['--key-id', KEY_ID, ...withValue])
    // Assess
    expect(code).toBe(1)
    expect(report?.lines[0]).toMatchObject({ verdict: 'fail', reason })
  })

  it('warns when rotation is off, and asks for rotation of the key ARN', async () => {
    // Prepare
    const template = await oneValue()
    fake.kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false })
    // Act
    const { code, report } = await check(template, ['--key-id', KEY_ID, ...withValue])
    // Assess
    expect(code).toBe(0)
    expect(report?.lines[0]).toMatchObject({
      verdict: 'warn',
      reason: 'enabled, but automatic rotation is off (expected only for imported key material)',
    })
    expect(fake.kms.commandCalls(GetKeyRotationStatusCommand)[0]?.args[0].input).toEqual({
      KeyId: KEY_ARN,
    })
  })

  it("takes the template's one alias, when its Condition holds for the parameters", async () => {
    // Prepare
    const alias = `  Alias:
    Type: AWS::KMS::Alias
    Condition: CreateKey
    Properties:
      AliasName: !Sub alias/\${AWS::StackName}-secrets
`
    const template = `${await oneValue()}${alias}`.replace(
      'Resources:',
      '  KeyArn: {Type: String, Default: ""}\nConditions:\n  CreateKey: !Equals [!Ref KeyArn, ""]\nResources:',
    )
    // Act
    const created = await check(template, withValue)
    const existing = await check(template, [...withValue, '--parameter-overrides', 'KeyArn=arn:x'])
    // Assess
    expect(fake.kms.commandCalls(DescribeKeyCommand)[0]?.args[0].input).toEqual({
      KeyId: 'alias/s-secrets',
    })
    expect(created.code).toBe(0)
    expect(existing.code).toBe(2)
    expect(existing.stderr).toBe(
      'kms-secrets: Alias is not created with these parameters (its Condition): pass --key-id (the key the values are encrypted under)\n',
    )
  })

  it.each([
    ['no alias', ''],
    ['two aliases', '  A1: {Type: AWS::KMS::Alias}\n  A2: {Type: AWS::KMS::Alias}\n'],
  ])('asks for --key-id when the template has %s', async (_, aliases) => {
    // Prepare
    const template = `${await oneValue()}${aliases}`
    // Act
    const { code, stderr } = await check(template, withValue)
    // Assess
    expect(code).toBe(2)
    expect(stderr).toMatch(
      /^kms-secrets: which key\? the template has no single AWS::KMS::Alias: pass --key-id/,
    )
  })

  it('names the alias when its AliasName cannot be resolved', async () => {
    // Prepare
    const alias = '  Alias:\n    Type: AWS::KMS::Alias\n    Properties: {AliasName: !Ref Nowhere}\n'
    const template = `${await oneValue()}${alias}`
    // Act
    const { code, stderr } = await check(template, withValue)
    // Assess
    expect(code).toBe(2)
    expect(stderr).toMatch(
      /^kms-secrets: cannot work out Alias AliasName from the template: it uses Nowhere, which has no value here/,
    )
  })

  it('takes an alias without a Condition', async () => {
    // Prepare
    const alias = '  Alias:\n    Type: AWS::KMS::Alias\n    Properties: {AliasName: alias/fixed}\n'
    const template = `${await oneValue()}${alias}`
    // Act
    await check(template, withValue)
    // Assess
    expect(fake.kms.commandCalls(DescribeKeyCommand)[0]?.args[0].input).toEqual({
      KeyId: 'alias/fixed',
    })
  })
})

describe('kms-secrets check: command line and parameters', () => {
  it('prints one aligned line per value and a summary in text', async () => {
    // Prepare
    const value = await encrypt('s-a')
    writeFileSync(tmp.path('template.yaml'), templateOf(fn('A', '          SECRET: !Ref Secret\n')))
    // Act
    const result = await run(
      argv('check', { template: 'template.yaml', 'stack-name': 's', 'key-id': KEY_ID }).concat(
        '--parameter-overrides',
        `Secret=${value}`,
      ),
      {
        cwd: tmp.dir,
      },
    )
    // Assess
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      [
        `-  key ${KEY_ID}  ok    enabled, automatic rotation on`,
        `A  SECRET${' '.repeat(`key ${KEY_ID}`.length - 6)}  ok    raw KMS blob decrypts for s-a`,
        `A  (environment)${' '.repeat(`key ${KEY_ID}`.length - 13)}  ok    ${result.stdout.split('\n')[2]?.split('ok    ')[1]}`,
        '3 ok, 0 warnings, 0 failures',
        `key ${KEY_ID}: customer managed, key material generated by KMS (AWS_KMS); automatic rotation on; Enabled`,
        '  cost: the key $1.00/month (+$1/month for each of its first two rotations); KMS Decrypt calls per cold start (per million cold starts at $0.03 per 10,000): A 1 ($3.00)',
        '',
      ].join('\n'),
    )
  })

  it('reads samconfig.toml parameter_overrides, which the command line overrides', async () => {
    // Prepare
    const value = await encrypt('s-a')
    writeFileSync(
      tmp.path('samconfig.toml'),
      '[default.deploy.parameters]\nparameter_overrides = "Secret=junk Plain=p"\n',
    )
    const template = templateOf(
      fn('A', '          SECRET: !Ref Secret\n          URL: !Ref Plain\n'),
    )
    // Act
    const fromConfig = await check(template, ['--key-id', KEY_ID])
    const overridden = await check(template, [
      '--key-id',
      KEY_ID,
      '--parameter-overrides',
      `Secret=${value}`,
    ])
    const elsewhere = await check(template, ['--samconfig', 'none.toml', '--config-env', 'x'])
    // Assess
    expect(fromConfig.line('SECRET')?.verdict).toBe('fail')
    expect(fromConfig.line('(environment)')?.reason).toBe('14 of 4096 bytes')
    expect(overridden.line('SECRET')?.verdict).toBe('ok')
    expect(elsewhere.line('SECRET')?.verdict).toBe('warn')
  })

  it('reads the --config-env section of the --samconfig file', async () => {
    // Prepare
    writeFileSync(
      tmp.path('other.toml'),
      '[prod.deploy.parameters]\nparameter_overrides = "Secret=junk"\n',
    )
    const template = templateOf(fn('A', '          SECRET: !Ref Secret\n'))
    // Act
    const { line } = await check(template, [
      '--key-id',
      KEY_ID,
      '--samconfig',
      'other.toml',
      '--config-env',
      'prod',
    ])
    // Assess
    expect(line('SECRET')?.verdict).toBe('fail')
  })

  it('counts warnings and failures in the text summary', async () => {
    // Prepare
    const env = '          EMPTY: !Ref Secret\n          UNSET: !Ref Unset\n'
    const template = templateOf(fn('A', env)).replace(
      'Resources:',
      '  Unset: {Type: String, NoEcho: true}\nResources:',
    )
    writeFileSync(tmp.path('template.yaml'), template)
    // Act
    const result = await run(['check', '--template', 'template.yaml', '--stack-name', 's'], {
      cwd: tmp.dir,
    })
    // Assess
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/\n1 ok, 1 warnings, 1 failures\n$/)
  })

  it('reads file:// overrides as a JSON object of strings', async () => {
    // Prepare
    writeFileSync(tmp.path('ok.json'), JSON.stringify({ Secret: await encrypt('s-a') }))
    writeFileSync(tmp.path('bad.json'), '{"Secret": 1}')
    writeFileSync(tmp.path('list.json'), '["Secret=x"]')
    writeFileSync(tmp.path('mixed.json'), '{"Secret": "x", "Plain": 1}')
    writeFileSync(tmp.path('text.json'), 'Secret=x')
    const template = templateOf(fn('A', '          SECRET: !Ref Secret\n'))
    // Act
    const ok = await check(template, [
      '--key-id',
      KEY_ID,
      '--parameter-overrides',
      'file://ok.json',
    ])
    const bad = await check(template, ['--parameter-overrides', 'file://bad.json'])
    const text = await check(template, ['--parameter-overrides', 'file://text.json'])
    const missing = await check(template, ['--parameter-overrides', 'file://none.json'])
    const list = await check(template, ['--parameter-overrides', 'file://list.json'])
    const mixed = await check(template, ['--parameter-overrides', 'file://mixed.json'])
    // Assess
    expect(ok.line('SECRET')?.verdict).toBe('ok')
    expect(bad.stderr).toBe(
      'kms-secrets: --parameter-overrides file://bad.json must hold a JSON object of strings ({"Name": "value"})\n',
    )
    expect(text.stderr).toBe(
      'kms-secrets: cannot read --parameter-overrides file://text.json (not JSON)\n',
    )
    expect(list.stderr).toMatch(/file:\/\/list\.json must hold a JSON object of strings/)
    expect(mixed.stderr).toMatch(/file:\/\/mixed\.json must hold a JSON object of strings/)
    expect(missing.stderr).toBe(
      'kms-secrets: cannot read --parameter-overrides file://none.json (ENOENT)\n',
    )
  })

  it.each([
    [['--format', 'yaml'], 'kms-secrets: --format is one of text, json\n'],
    [
      ['--parameter-overrides', 'A=1 trailing'],
      'kms-secrets: --parameter-overrides takes Name=value pairs (Name: letters and digits)\n',
    ],
    [
      ['--parameter-overrides', 'not-a-pair=x'],
      'kms-secrets: --parameter-overrides takes Name=value pairs (Name: letters and digits)\n',
    ],
  ])('refuses %j', async (args, stderr) => {
    // Prepare
    writeFileSync(tmp.path('template.yaml'), templateOf(fn('A', '          X: "1"\n')))
    // Act
    const result = await run(['check', '--template', 'template.yaml', ...args], { cwd: tmp.dir })
    // Assess
    expect(result).toMatchObject({ code: 2, stdout: '', stderr })
  })

  it('needs --template, and has --help', async () => {
    // Prepare / Act
    const without = await run(['check'])
    const help = await run(['check', '--help'])
    // Assess
    expect(without).toMatchObject({
      code: 2,
      stderr: 'kms-secrets: check needs --template template.yaml\n',
    })
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: kms-secrets check --template FILE/)
    expect(help.stdout).toContain('kms:ReEncryptOnSameKey')
  })

  it('reports nothing but a summary for a template without functions', async () => {
    // Prepare / Act
    const result = await check('Resources:\n  T: {Type: AWS::SNS::Topic}\n')
    const text = await run(['check', '--template', 'template.yaml'], {
      cwd: tmp.dir,
      env: { AWS_DEFAULT_REGION: 'eu-west-1' },
    })
    // Assess
    expect(result.code).toBe(0)
    expect(result.report).toEqual({ ok: true, lines: [] })
    expect(text).toMatchObject({ code: 0, stdout: '0 ok, 0 warnings, 0 failures\n' })
  })

  it('parses every sam-style pair back to its value (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.stringMatching(/^[A-Za-z0-9]{1,12}$/),
          fc.stringMatching(/^[^"\s]{0,20}$/),
          { maxKeys: 5 },
        ),
        (pairs) => {
          // Prepare
          const text = Object.entries(pairs)
            .map(([k, v]) => `${k}="${v}"`)
            .join(' ')
          // Act
          const parsed = parseOverrides([text], tmp.dir)
          // Assess
          expect(parsed).toEqual({ ...pairs })
        },
      ),
    )
  })

  it('takes trailing blanks after the last pair', () => {
    // Prepare / Act
    const parsed = parseOverrides(['A=1 B="2"  '], tmp.dir)
    // Assess
    expect(parsed).toEqual({ A: '1', B: '2' })
  })

  it('never lets a parameter name reach the prototype', () => {
    // Prepare / Act
    const parsed = parseOverrides(['constructor=y toString=z'], tmp.dir)
    // Assess
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
    expect(Object.keys(parsed)).toEqual(['constructor', 'toString'])
    expect(() => parseOverrides(['__proto__=x'], tmp.dir)).toThrow(CliUsageError)
    expect(() => parseOverrides(['=x'], tmp.dir)).toThrow(CliUsageError)
  })
})
