import { request } from 'node:http'
import { ListTablesCommand } from '@aws-sdk/client-dynamodb'
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  type KMSClient,
  ListKeysCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../scripts/local/fault-proxy.ts'
import { type MotoServer, startMoto } from '../../scripts/local/moto.ts'
import { dynamoClient, kmsClient } from '../support/aws.ts'

let moto: MotoServer
let keyId: string
let ciphertext: Uint8Array
let proxy: FaultProxy

const plaintext = new TextEncoder().encode('pässwörd€')

beforeAll(async () => {
  moto = await startMoto()
  const direct = kmsClient(moto.endpoint)
  const created = await direct.send(new CreateKeyCommand({}))
  keyId = created.KeyMetadata?.KeyId as string
  const encrypted = await direct.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }))
  ciphertext = encrypted.CiphertextBlob as Uint8Array
}, 60_000)

afterAll(async () => {
  await moto?.stop()
})

beforeEach(async () => {
  proxy = await startFaultProxy({ target: moto.endpoint })
})

afterEach(async () => {
  await proxy.stop()
})

function decrypt(client: KMSClient, abortSignal?: AbortSignal) {
  return client.send(new DecryptCommand({ CiphertextBlob: ciphertext }), { abortSignal })
}

/** Raw POST through the proxy, to look at exactly what goes over the wire. */
function rawPost(
  endpoint: string,
  target: string,
  body: string,
  agent?: import('node:http').Agent,
): Promise<{ status: number; headers: Record<string, unknown>; body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${endpoint}/`,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': target,
          Authorization:
            'AWS4-HMAC-SHA256 Credential=testing/20200101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0',
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            reused: req.reusedSocket,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('pass-through', () => {
  it('forwards real KMS calls to moto and counts them by X-Amz-Target', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint)

    // Act
    const created = await client.send(new CreateKeyCommand({}))
    const encrypted = await client.send(
      new EncryptCommand({ KeyId: created.KeyMetadata?.KeyId, Plaintext: plaintext }),
    )
    const decrypted = await client.send(
      new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }),
    )

    // Assess
    expect(decrypted.Plaintext).toEqual(plaintext)
    expect(proxy.counts()).toEqual({
      'TrentService.CreateKey': 1,
      'TrentService.Encrypt': 1,
      'TrentService.Decrypt': 1,
    })
    expect(proxy.total()).toBe(3)
  })

  it('forwards DynamoDB calls too', async () => {
    // Prepare
    const client = dynamoClient(proxy.endpoint)

    // Act
    const tables = await client.send(new ListTablesCommand({}))

    // Assess
    expect(tables.TableNames).toBeInstanceOf(Array)
    expect(proxy.counts()).toEqual({ 'DynamoDB_20120810.ListTables': 1 })
  })

  it('keeps client connections alive across requests', async () => {
    // Prepare
    const { Agent } = await import('node:http')
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })

    // Act
    const first = await rawPost(proxy.endpoint, 'TrentService.ListKeys', '{}', agent)
    const second = await rawPost(proxy.endpoint, 'TrentService.ListKeys', '{}', agent)
    agent.destroy()

    // Assess
    expect(first.status).toBe(200)
    expect(second.status).toBe(200)
    expect(second.reused).toBe(true)
    expect(first.headers.connection).not.toBe('close')
  })

  it('resetCounts starts counting afresh', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint)
    await client.send(new ListKeysCommand({}))

    // Act
    proxy.resetCounts()
    await decrypt(client)

    // Assess
    expect(proxy.counts()).toEqual({ 'TrentService.Decrypt': 1 })
  })
})

describe('kms-error', () => {
  it.each([
    'DisabledException',
    'KMSInvalidStateException',
    'IncorrectKeyException',
    'ThrottlingException',
    'AccessDeniedException',
    'InvalidCiphertextException',
  ])('the SDK sees %s by name, once', async (type) => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 1 })
    proxy.inject({
      times: 1,
      match: 'TrentService.Decrypt',
      fault: { kind: 'kms-error', type },
    })

    // Act
    const failed = await decrypt(client).catch((error: unknown) => error)
    const next = await decrypt(client)

    // Assess
    expect(failed).toMatchObject({ name: type, $metadata: { httpStatusCode: 400 } })
    expect(next.Plaintext).toEqual(plaintext)
    expect(proxy.counts()).toEqual({ 'TrentService.Decrypt': 2 })
    expect(proxy.pending()).toBe(0)
  })

  it('answers exactly what KMS answers on the wire', async () => {
    // Prepare
    proxy.inject({
      match: 'TrentService.Decrypt',
      fault: { kind: 'kms-error', type: 'DisabledException', message: 'key is disabled.' },
    })

    // Act
    const answer = await rawPost(
      proxy.endpoint,
      'TrentService.Decrypt',
      '{"CiphertextBlob":"AA=="}',
    )

    // Assess
    expect(answer.status).toBe(400)
    expect(answer.headers['content-type']).toBe('application/x-amz-json-1.1')
    expect(answer.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/)
    expect(answer.body).toBe('{"__type":"DisabledException","message":"key is disabled."}')
  })

  it('sends no message with InvalidCiphertextException, as KMS does', async () => {
    // Prepare
    proxy.inject({ fault: { kind: 'kms-error', type: 'InvalidCiphertextException' } })

    // Act
    const answer = await rawPost(proxy.endpoint, 'TrentService.Decrypt', '{}')

    // Assess
    expect(answer.body).toBe('{"__type":"InvalidCiphertextException"}')
  })

  it('only hits matching targets (string or RegExp)', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 1 })
    proxy.inject({
      times: 2,
      match: /Decrypt$/,
      fault: { kind: 'kms-error', type: 'DisabledException' },
    })

    // Act
    const listed = await client.send(new ListKeysCommand({}))
    const failed = await decrypt(client).catch((error: unknown) => error)

    // Assess
    expect(listed.Keys?.length).toBeGreaterThan(0)
    expect(failed).toMatchObject({ name: 'DisabledException' })
    expect(proxy.pending()).toBe(1)
  })

  it('answers DynamoDB in its own JSON dialect', async () => {
    // Prepare
    const client = dynamoClient(proxy.endpoint, { maxAttempts: 1 })
    proxy.inject({
      fault: { kind: 'kms-error', type: 'ResourceNotFoundException', message: 'no table' },
    })

    // Act
    const failed = await client.send(new ListTablesCommand({})).catch((error: unknown) => error)

    // Assess
    expect(failed).toMatchObject({ name: 'ResourceNotFoundException', message: 'no table' })
  })
})

describe('http-500', () => {
  it('is retried by the SDK standard retry, which succeeds once the fault clears', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint) // default: standard retry, 3 attempts
    proxy.inject({ times: 2, match: 'TrentService.Decrypt', fault: { kind: 'http-500' } })

    // Act
    const decrypted = await decrypt(client)

    // Assess
    expect(decrypted.Plaintext).toEqual(plaintext)
    expect(decrypted.$metadata.attempts).toBe(3)
    expect(proxy.counts()).toEqual({ 'TrentService.Decrypt': 3 })
  })

  it('fails with status 500 when it outlasts the retries', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 2 })
    proxy.inject({ times: 5, fault: { kind: 'http-500' } })

    // Act
    const failed = await decrypt(client).catch((error: unknown) => error)

    // Assess
    expect(failed).toMatchObject({ $metadata: { httpStatusCode: 500, attempts: 2 } })
    expect(proxy.pending()).toBe(3)
  })
})

describe('reset', () => {
  it('resets the connection (ECONNRESET)', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 1 })
    proxy.inject({ fault: { kind: 'reset' } })

    // Act
    const failed = await decrypt(client).catch((error: unknown) => error)

    // Assess
    expect(failed).toMatchObject({ code: 'ECONNRESET' })
    expect(proxy.counts()).toEqual({ 'TrentService.Decrypt': 1 })
  })

  it('is retried by the SDK', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint)
    proxy.inject({ fault: { kind: 'reset' } })

    // Act
    const decrypted = await decrypt(client)

    // Assess
    expect(decrypted.Plaintext).toEqual(plaintext)
    expect(proxy.counts()).toEqual({ 'TrentService.Decrypt': 2 })
  })
})

describe('hang', () => {
  it('never answers; an AbortSignal gets the caller out', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 1 })
    proxy.inject({ fault: { kind: 'hang' } })
    const started = performance.now()

    // Act
    const failed = await decrypt(client, AbortSignal.timeout(300)).catch((error: unknown) => error)

    // Assess
    expect(failed).toMatchObject({ name: 'AbortError' })
    expect(performance.now() - started).toBeGreaterThanOrEqual(250)
    expect(proxy.counts()).toEqual({ 'TrentService.Decrypt': 1 })
    await expect.poll(() => proxy.hungCount()).toBe(0)
  })

  it('is released by stop()', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 1 })
    proxy.inject({ fault: { kind: 'hang' } })
    const pending = decrypt(client).catch((error: unknown) => error)
    await expect.poll(() => proxy.hungCount()).toBe(1)

    // Act
    await proxy.stop()
    const failed = await pending

    // Assess
    expect(failed).toBeInstanceOf(Error)
    expect(proxy.hungCount()).toBe(0)
  })
})

describe('latency', () => {
  it('adds base latency to every request and injected latency to the next ones', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint)
    await decrypt(client) // warm the connection
    proxy.setLatency(100)
    proxy.inject({ fault: { kind: 'latency', ms: 200 } })

    // Act
    const t0 = performance.now()
    await decrypt(client)
    const t1 = performance.now()
    await decrypt(client)
    const t2 = performance.now()

    // Assess
    expect(t1 - t0).toBeGreaterThanOrEqual(295)
    expect(t2 - t1).toBeGreaterThanOrEqual(95)
    expect(t2 - t1).toBeLessThan(t1 - t0)
  })
})

describe('throttleAbove', () => {
  it('answers ThrottlingException beyond the rate within a 1-second window', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 1 })
    proxy.throttleAbove({ ratePerSecond: 2, match: 'TrentService.Decrypt' })

    // Act
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => decrypt(client)))
    const listed = await client.send(new ListKeysCommand({}))

    // Assess
    const rejected = results.filter((r) => r.status === 'rejected')
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2)
    expect(rejected).toHaveLength(3)
    for (const r of rejected) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        name: 'ThrottlingException',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      })
    }
    expect(listed.Keys).toBeDefined()
    expect(proxy.counts()).toEqual({ 'TrentService.Decrypt': 5, 'TrentService.ListKeys': 1 })
  })

  it('admits requests again in the next window, and all of them once cleared', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 1 })
    proxy.throttleAbove({ ratePerSecond: 1 })
    await decrypt(client)
    const throttled = await decrypt(client).catch((error: unknown) => error)

    // Act
    await new Promise((resolve) => setTimeout(resolve, 1_050))
    const nextWindow = await decrypt(client)
    proxy.clearFaults()
    const afterClear = await Promise.all([decrypt(client), decrypt(client), decrypt(client)])

    // Assess
    expect(throttled).toMatchObject({ name: 'ThrottlingException' })
    expect(nextWindow.Plaintext).toEqual(plaintext)
    expect(afterClear).toHaveLength(3)
  })
})

describe('clearFaults', () => {
  it('drops pending faults', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 1 })
    proxy.inject({ times: Number.POSITIVE_INFINITY, fault: { kind: 'http-500' } })

    // Act
    proxy.clearFaults()
    const decrypted = await decrypt(client)

    // Assess
    expect(decrypted.Plaintext).toEqual(plaintext)
    expect(proxy.pending()).toBe(0)
  })
})

describe('key state', () => {
  const keyCall = (client: KMSClient, command: 'disable' | 'enable' | 'schedule' | 'cancel') =>
    client.send(
      {
        disable: new DisableKeyCommand({ KeyId: keyId }),
        enable: new EnableKeyCommand({ KeyId: keyId }),
        schedule: new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }),
        cancel: new CancelKeyDeletionCommand({ KeyId: keyId }),
      }[command] as DisableKeyCommand,
    )

  it('answers DisabledException once DisableKey went through, as KMS does; EnableKey ends it', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 1 })
    const arn = `arn:aws:kms:us-east-1:123456789012:key/${keyId}`

    // Act
    await keyCall(client, 'disable')
    const onWire = await rawPost(
      proxy.endpoint,
      'TrentService.Decrypt',
      JSON.stringify({ CiphertextBlob: Buffer.from(ciphertext).toString('base64') }),
    )
    const reEncrypt = await client
      .send(new ReEncryptCommand({ CiphertextBlob: ciphertext, DestinationKeyId: keyId }))
      .catch((error: unknown) => error)
    const states = proxy.keyStates()
    await keyCall(client, 'enable')
    const decrypted = await decrypt(client)

    // Assess
    expect(onWire.status).toBe(400)
    expect(onWire.headers['content-type']).toBe('application/x-amz-json-1.1')
    expect(JSON.parse(onWire.body)).toEqual({
      __type: 'DisabledException',
      message: `${arn} is disabled.`,
    })
    expect(reEncrypt).toMatchObject({ name: 'DisabledException' })
    expect(states).toEqual({ [keyId]: 'Disabled' })
    expect(decrypted.Plaintext).toEqual(plaintext)
    expect(proxy.keyStates()).toEqual({})
  })

  it('answers KMSInvalidStateException while deletion is pending; a cancelled deletion leaves the key disabled', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint, { maxAttempts: 1 })

    // Act
    await keyCall(client, 'schedule')
    const pending = await decrypt(client).catch((error: unknown) => error)
    await keyCall(client, 'cancel')
    const cancelled = await decrypt(client).catch((error: unknown) => error)
    await keyCall(client, 'enable')
    const decrypted = await decrypt(client)

    // Assess
    expect(pending).toMatchObject({
      name: 'KMSInvalidStateException',
      message: expect.stringMatching(new RegExp(`key/${keyId} is pending deletion\\.$`)),
    })
    expect(cancelled).toMatchObject({ name: 'DisabledException' })
    expect(decrypted.Plaintext).toEqual(plaintext)
  })
})
