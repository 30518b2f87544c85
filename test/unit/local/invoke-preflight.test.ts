// npm run invoke, before it runs anything: what the local stack's users get wrong, each one
// line (exit 2 in main), and a 5xx answer counted as a failure.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { checkLocalStack, serverError } from '../../../scripts/invoke.ts'

let dir: string
let server: Server | undefined
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'invoke-preflight-'))
})
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true })
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  server = undefined
})

/** A loopback port something listens on. */
const listening = async (): Promise<string> => {
  server = createServer((socket) => socket.end())
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  const address = server.address() as { port: number }
  return `http://127.0.0.1:${address.port}`
}

/** A .local/ as npm run local-stack leaves it, pointing at `endpoint`. */
const localStack = (endpoint: string) => {
  mkdirSync(join(dir, '.local'))
  writeFileSync(join(dir, '.local', 'env.json'), '{}')
  writeFileSync(join(dir, '.local', 'aws.env'), `export AWS_ENDPOINT_URL=${endpoint}\n`)
}

describe('checkLocalStack', () => {
  it('says to start the local stack when its env.json is not there', async () => {
    // Act
    const check = checkLocalStack('.local/env.json', dir, {})
    // Assess
    await expect(check).rejects.toThrow(
      '.local/env.json does not exist: start the local stack first (`npm run local-stack` in another shell writes it), then `. .local/aws.env` in this one',
    )
  })

  it('says to source .local/aws.env when the shell points elsewhere', async () => {
    // Prepare
    localStack('http://127.0.0.1:45678')
    // Act
    const unset = checkLocalStack('.local/env.json', dir, {})
    const other = checkLocalStack('.local/env.json', dir, { AWS_ENDPOINT_URL: 'http://x' })
    // Assess
    await expect(unset).rejects.toThrow(
      'this shell does not point at the local stack (it is at http://127.0.0.1:45678; AWS_ENDPOINT_URL is not set): run `. .local/aws.env` first',
    )
    await expect(other).rejects.toThrow('AWS_ENDPOINT_URL is http://x)')
  })

  it('names a loopback endpoint nothing answers on (the stack stopped)', async () => {
    // Prepare
    const endpoint = await listening()
    await new Promise((resolve) => server?.close(resolve))
    server = undefined
    localStack(endpoint)
    // Act
    const check = checkLocalStack('.local/env.json', dir, { AWS_ENDPOINT_URL: endpoint })
    // Assess
    await expect(check).rejects.toThrow(
      `nothing answers at AWS_ENDPOINT_URL ${endpoint}: is \`npm run local-stack\` still running?`,
    )
  })

  it('passes a running stack, other env-vars files, and no endpoint at all', async () => {
    // Prepare
    const endpoint = await listening()
    localStack(endpoint)
    // Act
    const checks = [
      checkLocalStack('.local/env.json', dir, { AWS_ENDPOINT_URL: endpoint }),
      checkLocalStack('env.json', dir, {}),
      checkLocalStack(undefined, dir, { AWS_ENDPOINT_URL: 'https://kms.example.com' }),
    ]
    // Assess
    expect(await Promise.all(checks)).toEqual([undefined, undefined, undefined])
  })
})

describe('serverError', () => {
  it('is the status of an API answer of 500 or more, and nothing else', () => {
    // Act
    const statuses = [{ statusCode: 503 }, { statusCode: 500 }, { statusCode: 404 }, null, 'x'].map(
      serverError,
    )
    // Assess
    expect(statuses).toEqual([503, 500, undefined, undefined, undefined])
  })
})
