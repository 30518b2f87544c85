// startMoto against the real moto_server (the integration project needs it anyway).
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MotoServer, startMoto } from '../../scripts/local/moto.ts'
import { kmsClient } from '../support/aws.ts'
import { portAccepts } from '../support/net.ts'

/** Pids of the process group's members that are not zombies (Linux /proc). */
function liveGroupMembers(pgid: number): number[] {
  const live: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') live.push(Number(entry))
    } catch {
      // Gone meanwhile.
    }
  }
  return live
}

describe('startMoto', () => {
  let moto: MotoServer

  beforeAll(async () => {
    moto = await startMoto()
  }, 60_000)

  afterAll(async () => {
    await moto?.stop()
  })

  it('serves KMS on a 127.0.0.1 endpoint', async () => {
    // Prepare
    const client = kmsClient(moto.endpoint)

    // Act
    const created = await client.send(new CreateKeyCommand({}))
    const listed = await client.send(new ListKeysCommand({}))

    // Assess
    expect(moto.endpoint).toBe(`http://127.0.0.1:${moto.port}`)
    expect(listed.Keys?.map((key) => key.KeyId)).toContain(created.KeyMetadata?.KeyId)
  })
})

describe('stop', () => {
  it('closes the port and is idempotent', async () => {
    // Prepare
    const moto = await startMoto()
    const acceptedBefore = await portAccepts(moto.port)

    // Act
    await Promise.all([moto.stop(), moto.stop()])

    // Assess
    expect(acceptedBefore).toBe(true)
    expect(await portAccepts(moto.port)).toBe(false)
    expect(liveGroupMembers(moto.pid)).toEqual([])
  }, 60_000)
})

describe('start failures', () => {
  it('reports a fixed port that is already taken', async () => {
    // Prepare
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port

    // Act
    const failure = startMoto({ port })

    // Assess
    await expect(failure).rejects.toThrow(/exited before answering[\s\S]*[Aa]ddress already in use/)
    taken.close()
  }, 30_000)
})

describe('parent death', () => {
  it('takes moto down when the process that started it is killed', async () => {
    // Prepare
    const script = `
      import { startMoto } from ${JSON.stringify(new URL('../../scripts/local/moto.ts', import.meta.url).pathname)}
      const moto = await startMoto()
      console.log(moto.port)
      setInterval(() => {}, 1000)
    `
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const port = await new Promise<number>((resolve, reject) => {
      parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
      parent.once('exit', () => reject(new Error('parent exited early')))
    })
    const acceptedBefore = await portAccepts(port)

    // Act
    parent.kill('SIGKILL')

    // Assess
    expect(acceptedBefore).toBe(true)
    await expect.poll(() => portAccepts(port), { timeout: 10_000, interval: 100 }).toBe(false)
  }, 60_000)
})

describe("the user's AWS settings", () => {
  it('does not reach moto: it answers with AWS_PROFILE set to a profile that does not exist', async () => {
    // Prepare
    const saved = process.env.AWS_PROFILE
    process.env.AWS_PROFILE = 'no-such-profile'
    // Act
    const moto = await startMoto().finally(() => {
      if (saved === undefined) delete process.env.AWS_PROFILE
      else process.env.AWS_PROFILE = saved
    })
    // Assess
    const keys = await kmsClient(moto.endpoint).send(new ListKeysCommand({}))
    await moto.stop()
    expect(keys.Keys).toBeDefined()
  }, 60_000)
})
