import { describe, expect, it } from 'vitest'
import { childEnv } from '../../../scripts/local/aws-env.ts'
import { runNode } from '../../support/child.ts'
import { expectNoSecrets, secretForms } from '../../support/no-leak.ts'

describe('runNode', () => {
  it('runs ES module code in a fresh Node 24 process and parses JSON output', async () => {
    // Prepare
    const code = `console.log('noise'); console.log(JSON.stringify({ major: process.versions.node.split('.')[0], argv: process.argv.slice(2) }))`

    // Act
    const run = await runNode(code, { args: ['a'] })

    // Assess
    expect(run.code).toBe(0)
    expect(run.timedOut).toBe(false)
    expect(run.json).toEqual({ major: process.versions.node.split('.')[0], argv: ['a'] })
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24)
  })

  it('does not inherit AWS settings from the parent, only what is passed', async () => {
    // Prepare
    const parent = {
      AWS_ACCESS_KEY_ID: 'AKIAPARENT',
      AWS_PROFILE: 'parent-profile',
      AWS_MAX_ATTEMPTS: '7',
      NODE_OPTIONS: '--no-warnings',
    }
    const saved = Object.fromEntries(Object.keys(parent).map((name) => [name, process.env[name]]))
    Object.assign(process.env, parent)
    const code = `console.log(JSON.stringify(Object.keys(process.env).filter((k) => k.startsWith('AWS_') || k === 'NODE_OPTIONS').sort()))`

    // Act
    const run = await runNode(code, { env: { AWS_REGION: 'us-east-1' } }).finally(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    })

    // Assess
    expect(run.json).toEqual(['AWS_REGION'])
  })

  it('reports exit code and stderr without rejecting', async () => {
    // Act
    const run = await runNode(`process.stderr.write('boom'); process.exit(3)`)

    // Assess
    expect(run.code).toBe(3)
    expect(run.stderr).toBe('boom')
    expect(run.json).toBeUndefined()
  })

  it('kills a child that outlives timeoutMs', async () => {
    // Act
    const run = await runNode('setInterval(() => {}, 1000)', { timeoutMs: 300 })

    // Assess
    expect(run.timedOut).toBe(true)
    expect(run.signal).toBe('SIGKILL')
    expect(run.code).toBeNull()
  })

  it('kills with killSignal when given: SIGINT lets the child clean up first', async () => {
    // Act
    const run = await runNode(
      `process.on('SIGINT', () => { console.log('cleaned up'); process.exit(130) }); setInterval(() => {}, 1000); console.log('ready')`,
      { timeoutMs: 2000, killSignal: 'SIGINT' }, // time for the child to set its handler
    )

    // Assess
    expect(run.timedOut).toBe(true)
    expect(run.stdout).toBe('ready\ncleaned up\n')
    expect(run.code).toBe(130)
  })
})

describe('childEnv', () => {
  it('keeps of a base all but AWS_*, AMAZON_* and NODE_OPTIONS, then adds or removes what is passed', () => {
    // Prepare
    const base = {
      PATH: '/bin',
      PYENV_ROOT: '/p',
      AWS_PROFILE: 'parent',
      amazon_thing: 'x',
      NODE_OPTIONS: '--inspect',
      UNSET: undefined,
    }

    // Act
    const env = childEnv({ AWS_REGION: 'us-east-1', PYENV_ROOT: undefined, TMPDIR: '/t' }, base)

    // Assess
    expect(env).toEqual({ PATH: '/bin', AWS_REGION: 'us-east-1', TMPDIR: '/t' })
  })
})

describe('expectNoSecrets', () => {
  const secret = 'pässwörd€"\\x'

  it('passes on clean output', () => {
    // Assess
    expect(() =>
      expectNoSecrets('{"level":"INFO","message":"decrypted 1 secret"}', [secret]),
    ).not.toThrow()
  })

  it.each([
    ['raw', `token=${secret}`],
    ['JSON-escaped', JSON.stringify({ token: secret })],
    ['JSON-escaped twice', JSON.stringify({ message: JSON.stringify({ token: secret }) })],
    ['base64', `Authorization: Basic ${Buffer.from(secret).toString('base64')}`],
    ['base64 inside a longer base64', Buffer.from(`user:${secret}:more`).toString('base64')],
    ['hex', Buffer.from(secret).toString('hex')],
  ])('catches the %s form, without printing the secret', (_form, output) => {
    // Act
    let message = ''
    try {
      expectNoSecrets(output, ['unrelated-secret', secret])
    } catch (error) {
      message = (error as Error).message
    }

    // Assess
    expect(message).toMatch(/^secret #1 leaked/)
    expect(message).not.toContain(secret)
  })

  it('catches binary secrets by their base64 and hex', () => {
    // Prepare
    const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff)

    // Act
    const forms = secretForms(key).map(([form]) => form)

    // Assess
    expect(forms).toEqual(expect.arrayContaining(['base64', 'base64url', 'hex']))
    expect(() => expectNoSecrets(`key=${Buffer.from(key).toString('base64')}`, [key])).toThrow(
      /secret #0/,
    )
  })
})
