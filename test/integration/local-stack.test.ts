// Smoke test of the local stack itself: the shared moto from the global setup,
// a fault proxy in front of it, the real SDK, and a fresh Node process that
// imports the built package by its name.

import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms'
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest'
import { awsEnv } from '../../scripts/local/aws-env.ts'
import { type FaultProxy, startFaultProxy } from '../../scripts/local/fault-proxy.ts'
import { kmsClient } from '../support/aws.ts'
import { runNode } from '../support/child.ts'
import { expectNoSecrets } from '../support/no-leak.ts'

const motoEndpoint = inject('motoEndpoint')
let proxy: FaultProxy

beforeEach(async () => {
  proxy = await startFaultProxy({ target: motoEndpoint })
})

afterEach(async () => {
  await proxy.stop()
})

describe('local stack', () => {
  it('runs CreateKey / Encrypt / Decrypt through the fault proxy with the real SDK', async () => {
    // Prepare
    const client = kmsClient(proxy.endpoint)
    const plaintext = new TextEncoder().encode('pässwörd€')

    // Act
    const key = await client.send(new CreateKeyCommand({}))
    const encrypted = await client.send(
      new EncryptCommand({ KeyId: key.KeyMetadata?.KeyId, Plaintext: plaintext }),
    )
    const decrypted = await client.send(
      new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }),
    )

    // Assess
    expect(motoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(decrypted.Plaintext).toEqual(plaintext)
    expect(decrypted.KeyId).toContain(key.KeyMetadata?.KeyId)
    expect(proxy.counts()).toEqual({
      'TrentService.CreateKey': 1,
      'TrentService.Encrypt': 1,
      'TrentService.Decrypt': 1,
    })
  })

  it('cold-starts a fresh Node process that imports the built package and decrypts through the proxy', async () => {
    // Prepare
    const secret = 'tök€n-"quoted"-0123456789'
    const client = kmsClient(proxy.endpoint)
    const key = await client.send(new CreateKeyCommand({}))
    const encrypted = await client.send(
      new EncryptCommand({
        KeyId: key.KeyMetadata?.KeyId,
        Plaintext: new TextEncoder().encode(secret),
        EncryptionContext: { LambdaFunctionName: 'smoke-fn' },
      }),
    )
    proxy.resetCounts()
    const code = `
      import { createHash } from 'node:crypto'
      import { loadSecrets } from 'middy-kms-secrets'
      const { apiToken } = await loadSecrets({ fetchData: { apiToken: 'API_TOKEN' } })
      console.log(JSON.stringify({
        sha256: createHash('sha256').update(apiToken).digest('hex'),
        inheritedCredentials: process.env.AWS_PROFILE ?? null,
        maxAttempts: process.env.AWS_MAX_ATTEMPTS ?? null,
      }))
    `

    // Act
    const run = await runNode(code, {
      env: {
        ...awsEnv(proxy.endpoint),
        AWS_LAMBDA_FUNCTION_NAME: 'smoke-fn',
        API_TOKEN: Buffer.from(encrypted.CiphertextBlob as Uint8Array).toString('base64'),
      },
      timeoutMs: 20_000,
    })

    // Assess
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const { createHash } = await import('node:crypto')
    expect(run.json).toEqual({
      sha256: createHash('sha256').update(secret).digest('hex'),
      inheritedCredentials: null,
      maxAttempts: null,
    })
    expect(proxy.counts()).toEqual({ 'TrentService.Decrypt': 1 })
    expectNoSecrets(run.stdout + run.stderr, [secret])
  })
})
