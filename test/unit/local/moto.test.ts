import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  awsEnv,
  findMotoServer,
  freePort,
  MOTO_NOT_FOUND_MESSAGE,
  MotoNotFoundError,
  type MotoServer,
  resetMoto,
  startMoto,
} from '../../../scripts/local/moto.ts'
import { kmsClient } from '../../support/aws.ts'

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

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

  it('resetMoto wipes the keys', async () => {
    // Prepare
    const client = kmsClient(moto.endpoint)
    await client.send(new CreateKeyCommand({}))

    // Act
    await resetMoto(moto.endpoint)
    const listed = await client.send(new ListKeysCommand({}))

    // Assess
    expect(listed.Keys).toEqual([])
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
  let dir: string

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fake-moto-'))
  })

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  function fakeBinary(name: string, body: string): string {
    const path = join(dir, name)
    writeFileSync(path, `#!/bin/sh\n${body}\n`)
    chmodSync(path, 0o755)
    return path
  }

  it('times out with the last stderr lines when the server never answers', async () => {
    // Prepare
    const binary = fakeBinary('silent', 'echo "warming up" >&2; exec sleep 30')

    // Act
    const failure = startMoto({ binary, startTimeoutMs: 400 })

    // Assess
    await expect(failure).rejects.toThrow(
      /did not answer on http:\/\/127\.0\.0\.1:\d+ within 400 ms/,
    )
    await expect(failure).rejects.toThrow(/warming up/)
  })

  it('reports an early exit with its code and stderr', async () => {
    // Prepare
    const binary = fakeBinary('crashing', 'echo "Traceback: boom" >&2; exit 3')

    // Act
    const failure = startMoto({ binary })

    // Assess
    await expect(failure).rejects.toThrow(
      /exited before answering \(code 3\)[\s\S]*Traceback: boom/,
    )
  })

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
      import { startMoto } from ${JSON.stringify(new URL('../../../scripts/local/moto.ts', import.meta.url).pathname)}
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

describe('missing moto_server', () => {
  it('throws one clear line when the binary does not exist', async () => {
    // Prepare
    const options = { binary: '/nonexistent/moto_server' }

    // Act
    const failure = startMoto(options)

    // Assess
    await expect(failure).rejects.toThrow(MotoNotFoundError)
    await expect(failure).rejects.toThrow(MOTO_NOT_FOUND_MESSAGE)
    expect(MOTO_NOT_FOUND_MESSAGE).toBe(
      'moto_server not found: install it with pipx install "moto[server]"',
    )
  })

  it('throws the same error when neither PATH nor pyenv has it', async () => {
    // Prepare
    const lookupEnv = { PATH: '/nonexistent', HOME: '/nonexistent' }

    // Act
    const failure = startMoto({ lookupEnv })

    // Assess
    await expect(failure).rejects.toThrowError(new MotoNotFoundError())
  })
})

describe('findMotoServer', () => {
  it('finds the pyenv shim when PATH lacks the shims', () => {
    // Prepare
    const found = findMotoServer()
    const lookupEnv = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' }

    // Act
    const withoutShims = findMotoServer({ lookupEnv })

    // Assess
    expect(found).toBeDefined()
    expect(withoutShims).toMatch(/\/shims\/moto_server$/)
  })
})

describe('awsEnv', () => {
  it('gives endpoint, region and dummy credentials, and no retry setting', () => {
    // Act
    const env = awsEnv('http://127.0.0.1:1234')

    // Assess
    expect(env).toEqual({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1234',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: expect.any(String),
      AWS_SECRET_ACCESS_KEY: expect.any(String),
    })
    expect(env).not.toHaveProperty('AWS_MAX_ATTEMPTS')
  })
})

describe('freePort', () => {
  it('returns a port nobody listens on', async () => {
    // Act
    const port = await freePort()

    // Assess
    expect(port).toBeGreaterThan(0)
    expect(await portAccepts(port)).toBe(false)
  })
})
