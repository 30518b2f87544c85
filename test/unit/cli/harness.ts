// In-process harness for the CLI: main(argv, io) with a fake stdin/stdout/stderr, and a
// KMS double (aws-sdk-client-mock) that behaves like KMS for Encrypt, Decrypt,
// GenerateDataKey and ReEncrypt: ciphertexts are opaque ids, bound to key and context.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'
import { mockClient } from 'aws-sdk-client-mock'
import { main } from '../../../src/cli/main.ts'
import { MIN_KMS_BLOB_BYTES } from '../../../src/core/decrypt.ts'

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

export { KEY_ARN, KEY_ID } from '../fake-kms.ts'
export const OTHER_KEY_ID = '9999ffff-2222-bbbb-3333-cccc4444dddd'
const arnOf = (keyId: string) =>
  keyId.startsWith('arn:')
    ? keyId
    : `arn:aws:kms:us-east-1:123456789012:key/${keyId.replace(/^alias\//, 'alias-')}`

const canonical = (context: Record<string, string> | undefined) =>
  JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))

const awsError = (name: string) => Object.assign(new Error(''), { name, $metadata: {} })

export const fakeKms = () => {
  const kms = mockClient(KMSClient)
  const blobs = new Map<string, { plaintext: Uint8Array; context: string; keyArn: string }>()
  let n = 0
  const store = (
    plaintext: Uint8Array,
    context: Record<string, string> | undefined,
    keyId: string,
  ) => {
    n += 1
    // As long as a real KMS blob: shorter values are refused as plaintexts before any call.
    const blob = Buffer.concat([Buffer.from(`ct:${n}:`), randomBytes(MIN_KMS_BLOB_BYTES)])
    blobs.set(blob.toString('hex'), {
      plaintext: Uint8Array.from(plaintext),
      context: canonical(context),
      keyArn: arnOf(keyId),
    })
    return blob
  }
  const find = (
    blob: Uint8Array | undefined,
    context: Record<string, string> | undefined,
    keyId?: string,
  ) => {
    const entry = blobs.get(Buffer.from(blob ?? []).toString('hex'))
    if (!entry || entry.context !== canonical(context)) throw awsError('InvalidCiphertextException')
    if (keyId !== undefined && entry.keyArn !== arnOf(keyId))
      throw awsError('IncorrectKeyException')
    return entry
  }
  kms.on(EncryptCommand).callsFake(async (input: EncryptCommand['input']) => ({
    CiphertextBlob: store(
      input.Plaintext as Uint8Array,
      input.EncryptionContext,
      input.KeyId as string,
    ),
    KeyId: arnOf(input.KeyId as string),
  }))
  kms.on(GenerateDataKeyCommand).callsFake(async (input: GenerateDataKeyCommand['input']) => {
    const key = randomBytes(32)
    return {
      Plaintext: Uint8Array.from(key),
      CiphertextBlob: store(key, input.EncryptionContext, input.KeyId as string),
      KeyId: arnOf(input.KeyId as string),
    }
  })
  kms.on(DecryptCommand).callsFake(async (input: DecryptCommand['input']) => {
    const entry = find(input.CiphertextBlob, input.EncryptionContext, input.KeyId)
    return { Plaintext: Uint8Array.from(entry.plaintext), KeyId: entry.keyArn }
  })
  kms.on(ReEncryptCommand).callsFake(async (input: ReEncryptCommand['input']) => {
    const entry = find(input.CiphertextBlob, input.SourceEncryptionContext, input.SourceKeyId)
    return {
      CiphertextBlob: store(
        entry.plaintext,
        input.DestinationEncryptionContext,
        input.DestinationKeyId as string,
      ),
      KeyId: arnOf(input.DestinationKeyId as string),
      SourceKeyId: entry.keyArn,
    }
  })
  /** What KMS would decrypt a raw blob (base64) to, under a context; throws otherwise. */
  const plaintextOf = (base64: string, context: Record<string, string>) =>
    Buffer.from(find(Buffer.from(base64, 'base64'), context).plaintext)
  const keyOf = (base64: string) => blobs.get(Buffer.from(base64, 'base64').toString('hex'))?.keyArn
  return { kms, plaintextOf, keyOf, awsError }
}

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

/** A fresh temporary directory, removed by the returned cleanup. */
export const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kms-secrets-cli-'))
  return {
    dir,
    path: (name: string) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

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
