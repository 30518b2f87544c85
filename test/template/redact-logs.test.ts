// redactLogs under Lambda's own runtime client: a handler that loads a secret with
// redactLogs: true and logs it (in a string, an object, a format string, an Error, a
// Powertools Logger line) runs under aws-lambda-ric behind the loopback Runtime API, with
// AWS_LAMBDA_LOG_FORMAT Text and JSON, and with the runtime's console records sent both as
// Lambda sends them (frames on the telemetry fd, past process.stdout) and to stdout (as
// `npm run invoke` shows them). Every record keeps the shape the runtime gives it, masked;
// no output holds the plaintext.

import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { format } from 'node:util'
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { awsEnv, LOCAL_REGION, type MotoServer, startMoto } from '../../scripts/local/moto.ts'
import { ricEntry } from '../../scripts/local/ric.ts'
import { startRuntimeApi } from '../../scripts/local/runtime-api.ts'
import { MASK } from '../../src/core/redact.ts'
import { kmsClient } from '../support/aws.ts'
import { TMP_DIR } from '../support/child.ts'
import { expectNoSecrets } from '../support/no-leak.ts'

const FUNCTION_NAME = 'redact-logs'
const TOKEN = `sk_live_${randomBytes(12).toString('hex')}`

// Inside the repository, so that the package resolves by name (to dist/), as in a user's project.
const HANDLER = `import { Logger } from '@aws-lambda-powertools/logger'
import { loadSecrets } from 'middy-kms-secrets'

class UpstreamError extends Error {}
const logger = new Logger({ serviceName: 'redact-logs' })

export const handler = async () => {
  const { token } = await loadSecrets({ fetchData: { token: 'API_TOKEN' }, redactLogs: true })
  console.log(\`in a string: \${token}\`)
  console.log({ token, nested: { list: [token] } })
  console.info('with a format: %s and %j', token, { token })
  console.error(new UpstreamError(\`upstream refused \${token}\`))
  console.error('request failed', new UpstreamError(\`upstream refused \${token}\`))
  logger.info('from Powertools', { token })
  return 'done'
}
`

let moto: MotoServer
let root = ''
let apiToken = ''

beforeAll(async () => {
  mkdirSync(TMP_DIR, { recursive: true })
  root = mkdtempSync(join(TMP_DIR, 'redact-logs-'))
  writeFileSync(join(root, 'handler.mjs'), HANDLER)
  moto = await startMoto()
  const kms = kmsClient(moto.endpoint)
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}))
  const { CiphertextBlob } = await kms.send(
    new EncryptCommand({
      KeyId: KeyMetadata?.KeyId,
      Plaintext: Buffer.from(TOKEN),
      EncryptionContext: { LambdaFunctionName: FUNCTION_NAME },
    }),
  )
  apiToken = Buffer.from(CiphertextBlob as Uint8Array).toString('base64')
}, 60_000)

afterAll(async () => {
  await moto?.stop()
  rmSync(root, { recursive: true, force: true })
})

const collect = (stream: Readable | null | undefined): Promise<Buffer> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = []
    stream?.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream?.on('close', () => resolve(Buffer.concat(chunks)))
  })

/** The messages of the runtime's telemetry frames: type, length, timestamp (16 bytes), message. */
const frames = (bytes: Buffer): string[] => {
  const messages: string[] = []
  for (let at = 0; at + 16 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at + 4)
    messages.push(bytes.subarray(at + 16, at + 16 + length).toString())
    at += 16 + length
  }
  return messages
}

/** One cold invocation of handler.handler under aws-lambda-ric; its outputs. */
const runUnderRic = async (logFormat: 'Text' | 'JSON', telemetry: boolean) => {
  const api = await startRuntimeApi()
  const child: ChildProcess = spawn(process.execPath, [ricEntry(() => {})], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...awsEnv(moto.endpoint),
      API_TOKEN: apiToken,
      AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${FUNCTION_NAME}`,
      AWS_LAMBDA_LOG_STREAM_NAME: 'local',
      AWS_LAMBDA_LOG_FORMAT: logFormat,
      AWS_LAMBDA_RUNTIME_API: api.address,
      LAMBDA_TASK_ROOT: root,
      _HANDLER: 'handler.handler',
      ...(telemetry && { _LAMBDA_TELEMETRY_LOG_FD: '3' }),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  })
  const outputs = Promise.all([child.stdout, child.stderr, child.stdio[3] as Readable].map(collect))
  const exited = new Promise((resolve) => child.once('close', () => resolve('exited early')))
  let outcome: unknown
  try {
    outcome = await Promise.race([
      exited,
      api.invoke({
        payload: {},
        requestId: randomUUID(),
        deadlineMs: Date.now() + 30_000,
        invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:123456789012:function:${FUNCTION_NAME}`,
        traceId: 'Root=1-00000000-000000000000000000000000;Sampled=0',
      }),
    ])
  } finally {
    child.kill('SIGKILL')
    await api.close()
  }
  const [stdout, stderr, fd3] = (await outputs) as [Buffer, Buffer, Buffer]
  expect(outcome, String(stderr)).toEqual({ ok: true, value: 'done' })
  expectNoSecrets(`${stdout}\n${stderr}\n${fd3}`, [TOKEN])
  const lines = String(stdout)
    .split('\n')
    .filter((line) => line !== '')
  const powertools = lines.filter((line) => line.includes('"service":"redact-logs"'))
  // The runtime's console records: frames on the telemetry fd, else stdout lines (\n as \r).
  const records = telemetry ? frames(fd3) : lines.filter((line) => !powertools.includes(line))
  return { records, powertools: powertools.map((line) => JSON.parse(line) as unknown) }
}

describe.each([true, false])('redactLogs under aws-lambda-ric (telemetry fd: %s)', (telemetry) => {
  it('JSON format: records keep their shape, an Error its errorType/errorMessage/stackTrace, masked', async () => {
    // Act
    const { records, powertools } = await runUnderRic('JSON', telemetry)

    // Assess
    const json = records.map((record) => JSON.parse(record) as Record<string, unknown>)
    expect(json).toContainEqual(expect.objectContaining({ message: `in a string: ${MASK}` }))
    expect(json).toContainEqual(
      expect.objectContaining({ message: { token: MASK, nested: { list: [MASK] } } }),
    )
    expect(json).toContainEqual(
      expect.objectContaining({ message: `with a format: ${MASK} and {"token":"${MASK}"}` }),
    )
    const error = {
      errorType: 'UpstreamError',
      errorMessage: `upstream refused ${MASK}`,
      stackTrace: expect.arrayContaining([`Error: upstream refused ${MASK}`]),
    }
    // console.error(err): the Error is the record's message; with a text first, its fields.
    expect(json).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: expect.objectContaining(error) }),
    )
    expect(json).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: expect.stringContaining('request failed'),
        ...error,
      }),
    )
    expect(powertools).toEqual([
      expect.objectContaining({ message: 'from Powertools', token: MASK }),
    ])
  }, 60_000)

  it('Text format: each record is the formatted line of the masked values', async () => {
    // Act
    const { records, powertools } = await runUnderRic('Text', telemetry)

    // Assess: timestamp, request id, level, message
    const messages = records.map((record) => record.split('\t').slice(3).join('\t').trimEnd())
    const text = messages.map((message) => message.replaceAll('\r', '\n'))
    expect(text).toContain(`in a string: ${MASK}`)
    expect(text).toContain(format({ token: MASK, nested: { list: [MASK] } }))
    expect(text).toContain(`with a format: ${MASK} and {"token":"${MASK}"}`)
    const errors = text.filter((message) => message.includes(`upstream refused ${MASK}`))
    expect(errors).toHaveLength(2)
    for (const message of errors) expect(message).toMatch(/upstream refused \*{4}\n\s+at /)
    expect(powertools).toEqual([
      expect.objectContaining({ message: 'from Powertools', token: MASK }),
    ])
  }, 60_000)
})
