// The README's local-invoke steps, as written: `npm run local-stack` in one shell; in
// another, `. .local/aws.env` and `npm run invoke ... --env-vars .local/env.json` answer
// 201 (secure-items) and 200 (secure-fetch, through the local HTTPS upstream).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../support/child.ts'

const LOCAL = join(REPO_ROOT, '.local')
let stack: ChildProcess
let stderr = ''
let exited: Promise<number | null>

beforeAll(async () => {
  stack = spawn(process.execPath, ['scripts/local-stack.ts'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  exited = new Promise((resolve) => stack.once('close', resolve))
  await new Promise<void>((resolve, reject) => {
    stack.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
      if (stderr.includes('local-stack: ready:')) resolve()
    })
    stack.once('close', () => reject(new Error(`local-stack ended:\n${stderr}`)))
  })
}, 120_000)

afterAll(async () => {
  if (stack.exitCode === null) stack.kill('SIGINT')
  await exited
})

/** The README's second shell: source .local/aws.env, then the command. */
const shell = (command: string) =>
  spawnSync('bash', ['-c', `. .local/aws.env && ${command}`], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    timeout: 120_000,
  })

describe('npm run local-stack, then npm run invoke as the README says', () => {
  it('invokes secure-items with .local/env.json: 201', () => {
    // Prepare / Act
    const run = shell(
      'npm run --silent invoke -- SecureItemsFunction -e events/secure-items-create.json --env-vars .local/env.json',
    )
    // Assess
    expect(run.status, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ statusCode: 201 })
  }, 120_000)

  it('invokes secure-fetch with .local/env.json: 200 from the local upstream', () => {
    // Prepare / Act
    const run = shell(
      'npm run --silent invoke -- SecureFetchFunction -e events/secure-fetch-get.json --env-vars .local/env.json',
    )
    // Assess
    expect(run.status, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({
      statusCode: 200,
      body: '{"ok":true,"path":"/v1"}',
    })
  }, 120_000)

  it('writes the ciphertexts only to .local/env.json (mode 600), never to its output', () => {
    // Prepare
    const env = JSON.parse(readFileSync(join(LOCAL, 'env.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >
    const values = [env.SecureItemsFunction?.DATA_KEY, env.SecureFetchFunction?.API_TOKEN]
    // Act
    const mode = spawnSync('stat', ['-c', '%a', join(LOCAL, 'env.json')], { encoding: 'utf8' })
    // Assess
    expect(values.every((v) => typeof v === 'string' && v.length > 40)).toBe(true)
    for (const value of values) expect(stderr).not.toContain(value)
    expect(mode.stdout.trim()).toBe('600')
  })

  it('stops on Ctrl-C and removes .local/', async () => {
    // Prepare / Act
    stack.kill('SIGINT')
    const code = await exited
    // Assess
    expect(code).toBe(0)
    expect(stderr).toMatch(/local-stack: stopped\n$/)
    expect(existsSync(LOCAL)).toBe(false)
  })
})
