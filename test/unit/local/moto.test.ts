import { connect } from 'node:net'
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
    expect(() => process.kill(-moto.pid, 0)).toThrow()
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
