// The README's local-invoke steps, read from the README and run as written: `npm run
// local-stack` in one shell; in another, `. .local/aws.env` and `npm run invoke ...
// --env-vars .local/env.json` answer 201 (secure-items) and 200 (secure-fetch, through the
// local HTTPS upstream).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../support/child.ts'
import { readmeBlocks } from '../support/readme.ts'

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

/** The README's first shell block under "Local invoke, deploy, pipeline", comments left out. */
const readmeBlock = (): string[] => {
  const code = readmeBlocks('sh', 'Local invoke, deploy, pipeline')[0]?.code ?? ''
  return code.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'))
}

describe("the README's local invoke, as written", () => {
  it('starts with npm run local-stack (the process this test started), then sources .local/aws.env', () => {
    // Prepare
    const scripts = (
      JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>
      }
    ).scripts
    // Act
    const [first, second] = readmeBlock()
    // Assess
    expect(first).toBe('npm run local-stack')
    expect(scripts['local-stack']).toBe('node scripts/local-stack.ts')
    expect(second).toBe('. .local/aws.env')
  })

  it('answers 201 (secure-items) and 200 (secure-fetch, through the local upstream)', () => {
    // Prepare: the README's second shell, every line after npm run local-stack.
    const commands = readmeBlock().slice(1)
    // Act
    const run = spawnSync('bash', ['-c', commands.join(' && ')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      timeout: 240_000,
    })
    const answers = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { statusCode: number; body: string })
    // Assess
    expect(run.status, run.stderr).toBe(0)
    expect(commands.filter((c) => c.startsWith('npm run invoke'))).toHaveLength(2)
    expect(answers.map((a) => a.statusCode)).toEqual([201, 200])
    expect(answers[1]?.body).toBe('{"ok":true,"path":"/v1"}')
  }, 240_000)

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
