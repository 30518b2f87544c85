// The CLI as DEPLOY.md uses it beside sam: --parameter-overrides in sam deploy's forms, the
// region samconfig.toml deploys to, a logical id given as a function name, env.json merged.
import { readFileSync, writeFileSync } from 'node:fs'
import {
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'
import { beforeEach, describe, expect, it } from 'vitest'
import { parseOverrides } from '../../../cli/src/commands/check.ts'
import { describeError } from '../../../cli/src/errors.ts'
import { KmsSecretsError } from '../../../src/core/errors.ts'
import {
  argv,
  awsError,
  cliTestSetup,
  KEY_ARN,
  KEY_ID,
  run,
  runOk,
  SAMCONFIG,
  TEMPLATE,
} from './harness.ts'

const { fake, tmp } = cliTestSetup()

/** The region of the KMS client the CLI made for its first call. */
const regionOfFirstCall = async () => {
  const client = fake.kms.calls()[0]?.thisValue as { config: { region: () => Promise<string> } }
  return client.config.region()
}

const TWO_SECRETS = `Parameters:
  ACiphertext:
    Type: String
    NoEcho: true
  BCiphertext:
    Type: String
    NoEcho: true
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: fn
      Environment:
        Variables:
          A: !Ref ACiphertext
          B: !Ref BCiphertext
`

describe('--parameter-overrides, as sam deploy takes it', () => {
  it('parses Name=value pairs and the ParameterKey=K,ParameterValue=V form', () => {
    // Act
    const parsed = parseOverrides(
      [
        'A=1 B="two words"',
        'ParameterKey=C,ParameterValue=3',
        "ParameterKey=D,ParameterValue='x y'",
      ],
      tmp.dir,
    )
    // Assess
    expect(parsed).toEqual({ A: '1', B: 'two words', C: '3', D: 'x y' })
  })

  it('takes every argument up to the next option: "$(cat a.param)" "$(cat b.param)"', async () => {
    // Prepare
    fake.kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: 'Enabled', Enabled: true },
    })
    fake.kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true })
    const value = (
      await runOk(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'fn' }), 's')
    ).trim()
    writeFileSync(tmp.path('template.yaml'), TWO_SECRETS)
    // Act
    const result = await run(
      [
        'check',
        '--template',
        'template.yaml',
        '--parameter-overrides',
        `ACiphertext=${value}`,
        `ParameterKey=BCiphertext,ParameterValue=${value}`,
        '--key-id',
        KEY_ID,
      ],
      { cwd: tmp.dir },
    )
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/Fn +A +ok +raw KMS blob decrypts for fn/)
    expect(result.stdout).toMatch(/Fn +B +ok +raw KMS blob decrypts for fn/)
    expect(fake.kms.commandCalls(ReEncryptCommand)).toHaveLength(2)
  })

  it('still refuses a stray argument after any other option, by position only', async () => {
    // Act
    const result = await run(['check', '--template', 'template.yaml', 'A=1'])
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'kms-secrets: argument 4 is not an option: check takes options only; secrets are read from stdin or --in FILE, never from the command line (see kms-secrets check --help)\n',
    )
  })
})

/** encrypt for SecureFetchFunction of the harness's template.yaml and samconfig.toml. */
const encryptFor = (
  extra: Record<string, string | true>,
  env: Record<string, string> = { AWS_REGION: 'us-east-1' },
) => {
  writeFileSync(tmp.path('template.yaml'), TEMPLATE)
  writeFileSync(tmp.path('samconfig.toml'), SAMCONFIG)
  return run(
    argv('encrypt', {
      'key-id': KEY_ID,
      template: 'template.yaml',
      function: 'SecureFetchFunction',
      ...extra,
    }),
    { stdin: 's', env, cwd: tmp.dir },
  )
}

describe('the region', () => {
  it("is samconfig.toml's deploy region when the environment sets none (as sam deploy)", async () => {
    // Act
    const result = await encryptFor({}, {})
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(await regionOfFirstCall()).toBe('eu-west-1')
  })

  it("is the environment's, with a note when samconfig.toml deploys elsewhere", async () => {
    // Act
    const result = await encryptFor({}, { AWS_REGION: 'us-east-1' })
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(await regionOfFirstCall()).toBe('us-east-1')
    expect(result.stderr).toContain(
      `note: KMS region us-east-1 (from the environment), but ${tmp.path('samconfig.toml')} deploys to eu-west-1: pass --region eu-west-1 if the key is there\n`,
    )
  })

  it('is --region above all, without a note', async () => {
    // Act
    const result = await encryptFor({ region: 'ap-south-1' }, { AWS_REGION: 'us-east-1' })
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(await regionOfFirstCall()).toBe('ap-south-1')
    expect(result.stderr).not.toContain('note:')
  })

  it('is named when KMS finds no such key there: exit 1, not a command-line error', async () => {
    // Prepare
    fake.kms.on(EncryptCommand).rejects(awsError('NotFoundException'))
    // Act
    const result = await encryptFor({}, {})
    // Assess
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('(looked in region eu-west-1; --region picks another)')
  })

  it("is the profile's when nothing names one", () => {
    // Prepare
    const error = new KmsSecretsError('KEY_MISMATCH', 'x', { kmsError: 'NotFoundException' })
    // Act
    const described = describeError(error)
    // Assess
    expect(described).toEqual({
      line: "x (looked in the AWS profile's region; --region picks another) [NotFoundException]",
      exitCode: 1,
    })
  })
})

describe('--function-name given a logical id of the template', () => {
  beforeEach(() => {
    writeFileSync(tmp.path('template.yaml'), TEMPLATE)
  })

  it('is refused before any KMS call, with the deployed name', async () => {
    // Prepare
    writeFileSync(tmp.path('samconfig.toml'), SAMCONFIG)
    // Act
    const result = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'SecureFetchFunction' }),
      { stdin: 's', cwd: tmp.dir },
    )
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      `kms-secrets: --function-name SecureFetchFunction is a logical id of ${tmp.path('template.yaml')}, not a function name: it is deployed as my-stack-secure-fetch (--function-name my-stack-secure-fetch); or pass --template ${tmp.path('template.yaml')} --function SecureFetchFunction\n`,
    )
    expect(fake.kms.calls()).toHaveLength(0)
  })

  it('is refused for --to-function-name too, without a name when the stack is unknown', async () => {
    // Act
    const result = await run(
      argv('reencrypt', {
        'key-id': KEY_ID,
        'function-name': 'a',
        template: 'template.yaml',
        'to-function-name': 'SecureItemsFunction',
      }),
      { stdin: 's', cwd: tmp.dir },
    )
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      `kms-secrets: --to-function-name SecureItemsFunction is a logical id of ${tmp.path('template.yaml')}, not a function name; or pass --template ${tmp.path('template.yaml')} --function SecureItemsFunction\n`,
    )
  })

  it('is accepted when the function is really named so, or is not in the template', async () => {
    // Prepare
    writeFileSync(
      tmp.path('own.yaml'),
      'Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: Fn\n',
    )
    writeFileSync(tmp.path('broken.yaml'), 'Resources: [')
    // Act
    const same = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'Fn', template: 'own.yaml' }),
      { stdin: 's', cwd: tmp.dir },
    )
    const other = await run(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'x' }), {
      stdin: 's',
      cwd: tmp.dir,
    })
    const broken = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'Fn', template: 'broken.yaml' }),
      { stdin: 's', cwd: tmp.dir },
    )
    const none = await run(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'Fn' }), {
      stdin: 's',
      cwd: tmp.path('..'),
    })
    // Assess
    expect([same.code, other.code, broken.code, none.code]).toEqual([0, 0, 0, 0])
  })
})

describe('--format env-json --out env.json --force', () => {
  const envJson = {
    SecureItemsFunction: { TABLE_NAME: 't', DATA_KEY: 'old-items' },
    SecureFetchFunction: { API_TOKEN: 'old-fetch', UPSTREAM_URL: 'https://x' },
  }
  const encryptInto = (force: boolean) =>
    encryptFor({
      format: 'env-json',
      name: 'API_TOKEN',
      out: 'env.json',
      ...(force ? { force: true as const } : {}),
    })

  it("merges into the function's entry: the file's other values stay", async () => {
    // Prepare
    writeFileSync(tmp.path('env.json'), JSON.stringify(envJson))
    // Act
    const result = await encryptInto(true)
    // Assess
    expect(result.code, result.stderr).toBe(0)
    const written = JSON.parse(readFileSync(tmp.path('env.json'), 'utf8'))
    expect(written.SecureItemsFunction).toEqual(envJson.SecureItemsFunction)
    expect(written.SecureFetchFunction.UPSTREAM_URL).toBe('https://x')
    expect(written.SecureFetchFunction.API_TOKEN).toMatch(/^[A-Za-z0-9+/]{40,}={0,2}$/)
  })

  it('says --force merges, and refuses a file that is no env.json before any KMS call', async () => {
    // Prepare
    writeFileSync(tmp.path('env.json'), JSON.stringify(envJson))
    const unforced = await encryptInto(false)
    writeFileSync(tmp.path('env.json'), '{"SecureFetchFunction": "x"}')
    const notEnvJson = await encryptInto(true)
    writeFileSync(tmp.path('env.json'), 'API_TOKEN=x')
    // Act
    const notJson = await encryptInto(true)
    // Assess
    expect(unforced.stderr).toBe(
      'kms-secrets: --out env.json exists: pass --force to merge into it\n',
    )
    expect(notEnvJson.stderr).toBe(
      'kms-secrets: --out env.json is not an env.json ({"LogicalId": {"VAR": "value"}}): cannot merge the value into it\n',
    )
    expect(notJson.stderr).toBe(
      'kms-secrets: --out env.json is not JSON: cannot merge the value into it\n',
    )
    expect([unforced.code, notEnvJson.code, notJson.code]).toEqual([2, 2, 2])
    expect(fake.kms.calls()).toHaveLength(0)
  })
})
