// npm run local-stack: the local AWS the README's local-invoke steps run against. moto (KMS,
// DynamoDB) with template.yaml's key, alias and table, and an HTTPS upstream for secure-fetch;
// writes .local/env.json (values encrypted for the deployed function names) and .local/aws.env, then
// runs until Ctrl-C and removes them. No value is printed. Dev tooling: never bundled.

import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KMSClient } from '@aws-sdk/client-kms'
import { encryptValue } from '../cli/src/encrypt/values.ts'
import { createStack } from './demo/stack.ts'
import { startHttpsServer } from './local/https-server.ts'
import { awsEnv, LOCAL_REGION, startMoto } from './local/moto.ts'
import { createTestPki } from './local/tls.ts'
import {
  functionsOf,
  type ResolveScope,
  readTemplate,
  resolveValue,
  samconfigValue,
} from './template.ts'

const ROOT = join(import.meta.dirname, '..')
const LOCAL_DIR = join(ROOT, '.local')

const log = (line: string) => process.stderr.write(`local-stack: ${line}\n`)

async function main(): Promise<void> {
  const stopping = new AbortController()
  // `on`, not `once`: under npm run, Ctrl-C arrives twice (terminal and npm); a second
  // default SIGINT would cut the clean-up short.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopping.abort())
  const stops: Array<() => Promise<unknown>> = []
  try {
    const moto = await startMoto()
    stops.push(() => moto.stop())
    const aws = awsEnv(moto.endpoint)
    Object.assign(process.env, aws)

    const template = readTemplate(join(ROOT, 'template.yaml'))
    const ctx: ResolveScope = {
      template,
      parameters: { UpstreamUrl: 'https://127.0.0.1/' },
      pseudo: {
        'AWS::StackName': samconfigValue(join(ROOT, 'samconfig.toml'), 'stack_name') ?? 'local',
        'AWS::Region': LOCAL_REGION,
      },
      unfixed: 'placeholder',
    }
    const stack = await createStack(template, ctx, () => {}, stopping.signal)
    const [items, fetch] = ['SecureItemsFunction', 'SecureFetchFunction'].map((logicalId) => {
      const fn = functionsOf(template).find((f) => f.logicalId === logicalId)
      return String(resolveValue(fn?.functionName ?? logicalId, ctx))
    }) as [string, string]
    const kms = new KMSClient({})
    const encrypt = (plaintext: Uint8Array, functionName: string) =>
      encryptValue({
        client: kms,
        keyId: stack.alias,
        context: { LambdaFunctionName: functionName },
        plaintext,
      })

    // secure-fetch's upstream: verified TLS with a CA made now, the token checked.
    const token = randomBytes(24).toString('base64url')
    const pki = await createTestPki()
    const upstream = await startHttpsServer({
      ...pki.server,
      minVersion: 'TLSv1.2',
      handler: (request) =>
        request.headers.authorization === `Bearer ${token}`
          ? { json: { ok: true, path: request.path } }
          : { status: 401, json: { error: 'missing or wrong bearer token' } },
    })
    stops.push(() => upstream.stop())

    mkdirSync(LOCAL_DIR, { recursive: true })
    stops.push(async () => rmSync(LOCAL_DIR, { recursive: true, force: true }))
    const caFile = join(LOCAL_DIR, 'upstream-ca.pem')
    writeFileSync(caFile, pki.ca.cert)
    const envJson = {
      SecureItemsFunction: {
        TABLE_NAME: stack.tableName,
        DATA_KEY: await encrypt(randomBytes(32), items),
        KMS_SECRETS_FUNCTION_NAME: items,
      },
      SecureFetchFunction: {
        API_TOKEN: await encrypt(Buffer.from(token, 'utf8'), fetch),
        UPSTREAM_URL: `${upstream.url}/v1`,
        UPSTREAM_CA_FILE: caFile,
        KMS_SECRETS_FUNCTION_NAME: fetch,
      },
    }
    const envFile = join(LOCAL_DIR, 'env.json')
    writeFileSync(envFile, `${JSON.stringify(envJson, null, 2)}\n`, { mode: 0o600 })
    const exports = Object.entries(aws).map(([name, value]) => `export ${name}=${value}\n`)
    writeFileSync(join(LOCAL_DIR, 'aws.env'), exports.join(''))
    log(`moto on ${moto.endpoint}: key ${stack.alias}, table ${stack.tableName}`)
    log(`upstream for secure-fetch on ${upstream.url} (CA in .local/upstream-ca.pem)`)
    log(
      'wrote .local/env.json (values encrypted for the deployed function names) and .local/aws.env',
    )
    log(
      'ready: in another shell, `. .local/aws.env`, then npm run invoke ... --env-vars .local/env.json',
    )
    log('Ctrl-C stops it')
    await new Promise((resolve) => stopping.signal.addEventListener('abort', resolve))
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {})
    log('stopped')
  }
}

if (process.argv[1] === import.meta.filename) {
  await main().catch((error: Error) => {
    log(`failed: ${error.message}`)
    process.exitCode = 1
  })
}
