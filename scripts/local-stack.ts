// npm run local-stack: the local AWS the README's local-invoke steps run against, and the pieces
// the demo and the bench stand theirs up with: moto (KMS, DynamoDB), behind the fault proxy if
// asked; template.yaml's key, alias and table; secure-fetch's HTTPS upstream. main() writes
// .local/env.json (values encrypted for the deployed function names) and .local/aws.env, runs
// until Ctrl-C and removes them. No value is printed. Dev tooling: never bundled.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ddb from '@aws-sdk/client-dynamodb'
import * as kms from '@aws-sdk/client-kms'
import { awsEnv, isAwsConfigVariable } from './local/aws-env.ts'
import { startFaultProxy } from './local/fault-proxy.ts'
import { startHttpsServer } from './local/https-server.ts'
import { LOCAL_REGION, startMoto } from './local/moto.ts'
import { createTestPki, type TestPki } from './local/tls.ts'
import { functionsOf, type Json, readTemplate, resolveValue, samconfigValue } from './template.ts'

export const ROOT = join(import.meta.dirname, '..')

/** Cleanup steps, registered as each piece starts. */
export type Defer = (what: string, step: () => unknown) => void

/** `defer` and `stopAll`: every step, last-in first-out, once (one deferred meanwhile too). */
export function cleanup() {
  const steps: Array<{ what: string; step: () => unknown }> = []
  let stopping: Promise<string[]> | undefined
  const stopAll = async () => {
    const failures: string[] = []
    for (let next = steps.pop(); next; next = steps.pop()) {
      const { what, step } = next
      await Promise.resolve()
        .then(step)
        .catch((error: Error) => failures.push(`${what}: ${error.message}`))
    }
    return failures
  }
  const defer: Defer = (what, step) => steps.push({ what, step })
  return { defer, stopAll: () => (stopping ??= stopAll()) }
}

/** template.yaml for a stack name and region, and its functions' resolved names. */
export function templateScope(stackName: string, region: string) {
  const template = readTemplate(join(ROOT, 'template.yaml'))
  const pseudo = { 'AWS::StackName': stackName, 'AWS::Region': region }
  const ctx = { template, pseudo, unfixed: 'placeholder' as const }
  const names = Object.fromEntries(
    functionsOf(template).map((fn) => [
      fn.logicalId,
      String(resolveValue(fn.functionName ?? '', ctx)),
    ]),
  )
  return { stackName, template, ctx, names }
}

/** moto (behind the fault proxy with `proxy`); this process's AWS SDK pointed at it only. */
export async function startLocalAws(defer: Defer, proxy = false) {
  const moto = await startMoto()
  defer('stop moto', () => moto.stop())
  const fault = proxy ? await startFaultProxy({ target: moto.endpoint }) : undefined
  if (fault) defer('stop the fault proxy', () => fault.stop())
  const env = awsEnv(fault?.endpoint ?? moto.endpoint)
  for (const name of Object.keys(process.env).filter(isAwsConfigVariable)) delete process.env[name]
  Object.assign(process.env, env)
  return { moto, proxy: fault, env }
}

/**
 * template.yaml's key, alias and table, created with the SDK from the environment (moto, or
 * real AWS). Each is handed to `created` at once, so a failure half-way still removes it.
 */
export async function createStack(
  { template, ctx }: ReturnType<typeof templateScope>,
  created: Defer,
  signal?: AbortSignal,
) {
  // `never`: whatever SDK shape the template declares it in.
  const declared = (id: string, name: string) =>
    resolveValue(template.Resources[id]?.Properties?.[name] as Json, ctx) as never
  const abort = { abortSignal: signal }
  const keys = new kms.KMSClient({})
  const dynamodb = new ddb.DynamoDBClient({})
  const { KeyMetadata } = await keys.send(
    new kms.CreateKeyCommand({
      Description: declared('SecretsKey', 'Description'),
      KeySpec: declared('SecretsKey', 'KeySpec'),
      KeyUsage: declared('SecretsKey', 'KeyUsage'),
      Tags: [{ TagKey: 'created-by', TagValue: 'middy-kms-secrets npm start' }],
    }),
    abort,
  )
  const keyArn = KeyMetadata?.Arn as string
  const KeyId = KeyMetadata?.KeyId as string
  created(`schedule the deletion of key ${KeyId}`, () =>
    keys.send(new kms.ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 })),
  )
  if (declared('SecretsKey', 'EnableKeyRotation')) {
    await keys.send(new kms.EnableKeyRotationCommand({ KeyId }), abort)
  }
  const alias: string = declared('SecretsKeyAlias', 'AliasName')
  await keys.send(new kms.CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyId }), abort)
  created(`delete alias ${alias}`, () =>
    keys.send(new kms.DeleteAliasCommand({ AliasName: alias })),
  )
  // A throwaway: no deletion protection, no point-in-time recovery.
  const TableName: string = declared('ItemsTable', 'TableName')
  await dynamodb.send(
    new ddb.CreateTableCommand({
      TableName,
      BillingMode: declared('ItemsTable', 'BillingMode'),
      AttributeDefinitions: declared('ItemsTable', 'AttributeDefinitions'),
      KeySchema: declared('ItemsTable', 'KeySchema'),
      SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
      Tags: [{ Key: 'created-by', Value: 'middy-kms-secrets npm start' }],
    }),
    abort,
  )
  created(`delete table ${TableName}`, () =>
    dynamodb.send(new ddb.DeleteTableCommand({ TableName })),
  )
  await ddb.waitUntilTableExists(
    { client: dynamodb, maxWaitTime: 120, minDelay: 1, abortSignal: signal },
    { TableName },
  )
  return { keyArn, alias, tableName: TableName }
}

/** secure-fetch's upstream: verified TLS with `pki`'s CA (in dir), the bearer token checked. */
export async function startUpstream(pki: TestPki, token: string, dir: string, mutualTls = false) {
  // Compared as digests: constant time whatever the length.
  const digest = (text: string) => createHash('sha256').update(text).digest()
  const expected = digest(`Bearer ${token}`)
  const tally = { accepted: 0, rejected: 0 }
  const server = await startHttpsServer({
    ...pki.server,
    // With `ca`: no verified client certificate, no handshake.
    ...(mutualTls && { ca: pki.ca.cert, requestCert: true }),
    minVersion: 'TLSv1.2',
    handler: ({ headers, path, tlsVersion, clientCertSubject }) => {
      if (!timingSafeEqual(digest(headers.authorization ?? ''), expected)) {
        tally.rejected++
        return { status: 401, json: { error: 'missing or wrong bearer token' } }
      }
      tally.accepted++
      return { json: { ok: true, path, tls: tlsVersion, client: clientCertSubject ?? null } }
    },
  })
  const caFile = join(dir, 'upstream-ca.pem')
  writeFileSync(caFile, pki.ca.cert)
  return { server, tally, caFile }
}

const log = (line: string) => process.stderr.write(`local-stack: ${line}\n`)

async function main(): Promise<void> {
  const stopping = new AbortController()
  // `on`, not `once`: under npm run, Ctrl-C arrives twice (terminal and npm); a second
  // default SIGINT would cut the clean-up short.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopping.abort())
  const { defer, stopAll } = cleanup()
  try {
    const { moto, env } = await startLocalAws(defer)
    const stackName = samconfigValue(join(ROOT, 'samconfig.toml'), 'stack_name') ?? 'local'
    const scope = templateScope(stackName, LOCAL_REGION)
    const stack = await createStack(scope, () => {}, stopping.signal)
    const { SecureItemsFunction: items = '', SecureFetchFunction: fetch = '' } = scope.names
    const client = new kms.KMSClient({})
    // The SDK, not the CLI's encryptValue: that imports the library's dist/, which `npm start`
    // (importing this file) builds only after it has loaded.
    const encrypt = async (plaintext: Uint8Array, functionName: string) => {
      const context = { LambdaFunctionName: functionName }
      const { CiphertextBlob } = await client.send(
        new kms.EncryptCommand({
          KeyId: stack.alias,
          Plaintext: plaintext,
          EncryptionContext: context,
        }),
      )
      return Buffer.from(CiphertextBlob ?? []).toString('base64')
    }

    const dir = join(ROOT, '.local')
    mkdirSync(dir, { recursive: true })
    defer('remove .local', () => rmSync(dir, { recursive: true, force: true }))
    const token = randomBytes(24).toString('base64url')
    const upstream = await startUpstream(await createTestPki(), token, dir)
    defer('stop the upstream', () => upstream.server.stop())
    const envJson = {
      SecureItemsFunction: {
        TABLE_NAME: stack.tableName,
        DATA_KEY: await encrypt(randomBytes(32), items),
        KMS_SECRETS_FUNCTION_NAME: items,
      },
      SecureFetchFunction: {
        API_TOKEN: await encrypt(Buffer.from(token, 'utf8'), fetch),
        UPSTREAM_URL: `${upstream.server.url}/v1`,
        UPSTREAM_CA_FILE: upstream.caFile,
        KMS_SECRETS_FUNCTION_NAME: fetch,
      },
    }
    writeFileSync(join(dir, 'env.json'), `${JSON.stringify(envJson, null, 2)}\n`, { mode: 0o600 })
    const exports = Object.entries(env).map(([name, value]) => `export ${name}=${value}\n`)
    writeFileSync(join(dir, 'aws.env'), exports.join(''))
    log(`moto on ${moto.endpoint}: key ${stack.alias}, table ${stack.tableName}`)
    log(`upstream for secure-fetch on ${upstream.server.url} (CA in .local/upstream-ca.pem)`)
    log(
      'wrote .local/env.json (values encrypted for the deployed function names) and .local/aws.env',
    )
    log(
      'ready: in another shell, `. .local/aws.env`, then npm run invoke ... --env-vars .local/env.json',
    )
    log('Ctrl-C stops it')
    await new Promise((resolve) => stopping.signal.addEventListener('abort', resolve))
  } finally {
    await stopAll()
    log('stopped')
  }
}

if (process.argv[1] === import.meta.filename) {
  await main().catch((error: Error) => {
    log(`failed: ${error.message}`)
    process.exitCode = 1
  })
}
