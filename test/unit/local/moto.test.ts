// startMoto's failure paths with fake binaries, and the helpers: no moto_server needed.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { awsEnv, startMoto } from '../../../scripts/local/moto.ts'
import { ToolNotFoundError, toolNotFoundMessage } from '../../../scripts/local/tools.ts'

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
    await expect(failure).rejects.toThrow(/did not answer within 400 ms/)
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
})

describe('missing moto_server', () => {
  it('throws one clear line when the binary given does not exist', async () => {
    // Act
    const failure = startMoto({ binary: '/nonexistent/moto_server' })
    // Assess
    await expect(failure).rejects.toThrowError(new ToolNotFoundError('moto_server'))
    expect(toolNotFoundMessage('moto_server')).toBe(
      'moto_server not found on PATH or in pyenv\'s shims: install it with pipx install "moto[server]"',
    )
  })

  it('throws the same error when neither PATH nor pyenv has it', async () => {
    // Prepare
    const lookupEnv = { PATH: '/nonexistent', HOME: '/nonexistent' }
    // Act
    const failure = startMoto({ lookupEnv })
    // Assess
    await expect(failure).rejects.toThrowError(new ToolNotFoundError('moto_server'))
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
