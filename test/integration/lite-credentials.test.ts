// /lite with container credentials (as an ECS task or EKS pod gets them) against moto: a
// real local credentials endpoint on 127.0.0.1 (AWS_CONTAINER_CREDENTIALS_FULL_URI) and
// a real Decrypt of a value KMS encrypted.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, expect, inject, it } from 'vitest'
import { LOCAL_REGION } from '../../scripts/local/aws-env.ts'
import { kmsDecrypt } from '../../src/core/decrypt.ts'
import { DecryptCommand, LiteKmsClient } from '../../src/core/lite-client.ts'
import { kmsClient } from '../support/aws.ts'

const motoEndpoint = inject('motoEndpoint')
let endpoint: Server
let credentialsUrl: string
const requests: IncomingMessage[] = []

beforeAll(async () => {
  endpoint = createServer((req, res) => {
    requests.push(req)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        AccessKeyId: 'ASIACONTAINERTEST',
        SecretAccessKey: 'container-secret',
        Token: 'container-session-token',
        Expiration: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    )
  })
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
  credentialsUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/v2/credentials/task`
})
afterAll(async () => {
  endpoint.closeAllConnections()
  await new Promise((resolve) => endpoint.close(resolve))
})

it('decrypts on moto with credentials from AWS_CONTAINER_CREDENTIALS_FULL_URI and its token', async () => {
  // Prepare
  const kms = kmsClient(motoEndpoint)
  const key = await kms.send(new CreateKeyCommand({ Description: 'lite container credentials' }))
  const context = { LambdaFunctionName: 'ecs-task' }
  const { CiphertextBlob } = await kms.send(
    new EncryptCommand({
      KeyId: key.KeyMetadata?.KeyId,
      Plaintext: Buffer.from('pässwörd'),
      EncryptionContext: context,
    }),
  )
  const client = new LiteKmsClient(
    {},
    {
      AWS_REGION: LOCAL_REGION,
      AWS_ENDPOINT_URL: motoEndpoint,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: credentialsUrl,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'task-auth-token',
    },
  )

  // Act
  const plaintext = await kmsDecrypt({
    client,
    DecryptCommand,
    blob: CiphertextBlob as Uint8Array,
    encryptionContext: context,
    keyId: undefined,
    abortSignal: new AbortController().signal,
    variable: 'DB_PASSWORD',
  })
  client.destroy()

  // Assess
  expect(Buffer.from(plaintext).toString()).toBe('pässwörd')
  expect(requests.map((r) => [r.url, r.headers.authorization])).toEqual([
    ['/v2/credentials/task', 'task-auth-token'],
  ])
})
