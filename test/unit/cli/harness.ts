// In-process harness for the CLI: main(argv, io) with a fake stdin/stdout/stderr, temporary
// directories, and the KMS double of ../fake-kms.ts for the CLI tests.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect } from 'vitest'
import { main } from '../../../cli/src/main.ts'
import { fakeKmsEachTest } from '../fake-kms.ts'

/** A command's argv, its options from an object in the order written (`true`: a bare flag). */
export const argv = (
  command: string,
  options: Readonly<Record<string, string | true>>,
): string[] => [
  command,
  ...Object.entries(options).flatMap(([name, value]) =>
    value === true ? [`--${name}`] : [`--${name}`, value],
  ),
]

export { awsError, fakeKms, KEY_ARN, KEY_ID, OTHER_KEY_ID } from '../fake-kms.ts'

export interface RunOptions {
  stdin?: string | Uint8Array | Array<string | Uint8Array>
  stdinIsTTY?: boolean
  stdoutIsTTY?: boolean
  env?: Record<string, string | undefined>
  cwd?: string
}

export interface RunResult {
  code: number
  stdout: string
  stdoutBytes: Buffer
  stderr: string
}

/** Runs the CLI in process. */
export const run = async (argv: string[], options: RunOptions = {}): Promise<RunResult> => {
  const out: Buffer[] = []
  const err: Buffer[] = []
  const chunks = Array.isArray(options.stdin)
    ? options.stdin
    : options.stdin === undefined
      ? []
      : [options.stdin]
  const stdin = Object.assign(
    (async function* () {
      for (const chunk of chunks) yield chunk
    })(),
    { isTTY: options.stdinIsTTY },
  )
  const copy = (chunk: string | Uint8Array) =>
    typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk)
  const code = await main(argv, {
    stdin,
    stdout: { write: (chunk) => out.push(copy(chunk)), isTTY: options.stdoutIsTTY },
    stderr: { write: (chunk) => err.push(copy(chunk)) },
    env: options.env ?? { AWS_REGION: 'us-east-1' },
    cwd: options.cwd ?? process.cwd(),
  })
  const stdoutBytes = Buffer.concat(out)
  return {
    code,
    stdout: stdoutBytes.toString('utf8'),
    stdoutBytes,
    stderr: Buffer.concat(err).toString('utf8'),
  }
}

/** Runs the CLI, which must succeed (exit 0); its stdout. */
export const runOk = async (argv: string[], stdin: string) => {
  const result = await run(argv, { stdin })
  expect(result.code).toBe(0)
  return result.stdout
}

/** A fresh temporary directory, removed by the returned cleanup. */
export const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kms-secrets-cli-'))
  return {
    dir,
    path: (name: string) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** One object for the whole file, a fresh temporary directory in it for each test. */
const tempDirEachTest = () => {
  const tmp = {} as ReturnType<typeof tempDir>
  beforeEach(() => {
    Object.assign(tmp, tempDir())
  })
  afterEach(() => tmp.cleanup())
  return tmp
}

/** What a CLI test file has for each test: a fresh KMS double and temporary directory. */
export const cliTestSetup = () => ({ fake: fakeKmsEachTest(), tmp: tempDirEachTest() })

export const TEMPLATE = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  ApiTokenCiphertext:
    Type: String
    NoEcho: true
    Default: ""
    MaxLength: 3000
  Suffix:
    Type: String
    Default: api
Globals:
  Function:
    Runtime: nodejs24.x
    Environment:
      Variables:
        NODE_OPTIONS: --enable-source-maps
        LOG_LEVEL: !Ref LogLevel
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  SecureItemsFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub \${AWS::StackName}-secure-items
      Environment:
        Variables:
          TABLE_NAME: !Ref Table
          DATA_KEY: !Ref DataKeyCiphertext
  SecureFetchFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub \${AWS::StackName}-secure-fetch
      Environment:
        Variables:
          API_TOKEN: !Ref ApiTokenCiphertext
          UPSTREAM_URL: https://example.com/status
`

export const SAMCONFIG = `version = 0.1
[default.global.parameters]
stack_name = "from-global"

[default.deploy.parameters]
stack_name = "my-stack" # the deployed stack
region = "eu-west-1"

[prod.global.parameters]
stack_name = 'prod-stack'
`
