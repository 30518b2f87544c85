// Memory and resource hygiene, measured in fresh processes with --expose-gc.
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { awsEnv } from '../../scripts/local/aws-env.ts'
import { type FaultProxy, startFaultProxy } from '../../scripts/local/fault-proxy.ts'
import { kmsClient } from '../support/aws.ts'
import { runNode } from '../support/child.ts'
import { expectNoSecrets } from '../support/no-leak.ts'

const motoEndpoint = inject('motoEndpoint')
let proxy: FaultProxy

beforeAll(async () => {
  proxy = await startFaultProxy({ target: motoEndpoint })
})
afterAll(async () => {
  await proxy.stop()
})

describe('memory', () => {
  it('100,000 warm invocations grow the heap by less than 512 KB', async () => {
    // Prepare: a KMS client double (no sockets), so only the middleware's own cost counts.
    const code = `
      import middy from '@middy/core'
      import { kmsSecrets } from 'middy-kms-secrets'
      class StubKms { async send() { return { Plaintext: new TextEncoder().encode('warm-secret-value') } } }
      const handler = middy()
        .use(kmsSecrets({ fetchData: { a: 'A', b: 'B', c: 'C' }, AwsClient: StubKms, setToContext: true }))
        .handler(async (_event, context) => context.a.length)
      const invoke = () => handler({}, { functionName: 'fn' })
      for (let i = 0; i < 1000; i++) await invoke()
      globalThis.gc(); globalThis.gc()
      const before = process.memoryUsage().heapUsed
      for (let i = 0; i < 100_000; i++) await invoke()
      globalThis.gc(); globalThis.gc()
      const after = process.memoryUsage().heapUsed
      console.log(JSON.stringify({ growth: after - before }))
    `
    const blob = Buffer.alloc(160, 7).toString('base64') // as long as a real KMS blob

    // Act
    const result = await runNode(code, {
      nodeArgs: ['--expose-gc'],
      env: { A: blob, B: blob, C: blob, AWS_LAMBDA_FUNCTION_NAME: 'fn', AWS_REGION: 'us-east-1' },
      timeoutMs: 120_000,
    })

    // Assess
    expect(result.code, result.stderr).toBe(0)
    const { growth } = result.json as { growth: number }
    console.info(`heap growth over 100,000 warm invocations: ${growth} bytes`)
    expect(growth).toBeLessThan(512 * 1024)
  })

  it('a cacheExpiry refresh loop leaks no timers and no sockets', async () => {
    // Prepare
    const kms = kmsClient(motoEndpoint)
    const key = await kms.send(new CreateKeyCommand({}))
    const secret = 'refresh-loop-secret'
    const encrypted = await kms.send(
      new EncryptCommand({
        KeyId: key.KeyMetadata?.KeyId,
        Plaintext: Buffer.from(secret),
        EncryptionContext: { LambdaFunctionName: 'fn' },
      }),
    )
    const code = `
      import middy from '@middy/core'
      import { kmsSecrets } from 'middy-kms-secrets'
      const handler = middy()
        .use(kmsSecrets({ fetchData: { token: 'API_TOKEN' }, cacheExpiry: 20, setToContext: true }))
        .handler(async (_event, context) => context.token.length)
      const resources = () => {
        const counts = {}
        for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1
        return counts
      }
      await handler({}, { functionName: 'fn' })
      // Sampled at every invocation: a refresh in flight holds its deadline timer and a
      // socket for a moment, so compare the most seen early with the most seen late.
      const max = (into, counts) => {
        for (const [name, count] of Object.entries(counts)) into[name] = Math.max(into[name] ?? 0, count)
      }
      const early = {}
      const late = {}
      const start = Date.now()
      let invocations = 0
      while (Date.now() - start < 1600) {
        await handler({}, { functionName: 'fn' })
        invocations++
        const elapsed = Date.now() - start
        if (elapsed < 400) max(early, resources())
        else if (elapsed > 1200) max(late, resources())
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      console.log(JSON.stringify({ early, late, invocations }))
    `

    // Act
    const result = await runNode(code, {
      env: {
        ...awsEnv(proxy.endpoint),
        API_TOKEN: Buffer.from(encrypted.CiphertextBlob ?? []).toString('base64'),
        AWS_LAMBDA_FUNCTION_NAME: 'fn',
      },
      timeoutMs: 60_000,
    })

    // Assess
    expect(result.code, result.stderr).toBe(0)
    expectNoSecrets(result.stdout + result.stderr, [secret])
    const { early, late, invocations } = result.json as {
      early: Record<string, number>
      late: Record<string, number>
      invocations: number
    }
    console.info('active resources early / late:', JSON.stringify(early), JSON.stringify(late))
    expect(invocations).toBeGreaterThan(50)
    expect(proxy.counts()['TrentService.Decrypt']).toBeGreaterThan(20)
    // No growth over ~75 refreshes (a leak would add one per refresh): timers and
    // keep-alive sockets seen late stay within one of those seen early.
    expect(late.Timeout ?? 0).toBeLessThanOrEqual((early.Timeout ?? 0) + 1)
    expect(late.TCPSocketWrap ?? 0).toBeLessThanOrEqual((early.TCPSocketWrap ?? 0) + 1)
  })
})
