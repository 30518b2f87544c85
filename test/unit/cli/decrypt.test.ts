import { writeFileSync } from 'node:fs'
import { DecryptCommand } from '@aws-sdk/client-kms'
import { describe, expect, it } from 'vitest'
import { expectNoSecrets } from '../../support/no-leak.ts'
import { argv, cliTestSetup, KEY_ARN, KEY_ID, OTHER_KEY_ID, run, runOk } from './harness.ts'

const { fake, tmp } = cliTestSetup()

const SECRET = 'pässwörd€'
const encrypt = (args: string[], stdin: string) =>
  runOk(['encrypt', '--key-id', KEY_ID, ...args], stdin)
const bundle = (args: string[], stdin: string) =>
  runOk(['bundle', '--key-id', KEY_ID, ...args], stdin)

describe('kms-secrets decrypt', () => {
  it('checks a raw blob and prints only "ok, N bytes"', async () => {
    // Prepare
    const value = await encrypt(['--function-name', 'f'], SECRET)
    fake.kms.resetHistory()
    // Act
    const result = await run(['decrypt', '--function-name', 'f'], { stdin: value })
    // Assess
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`ok, ${Buffer.byteLength(SECRET)} bytes (raw KMS blob)\n`)
    expect(result.stderr).toBe('')
    expect(fake.kms.commandCalls(DecryptCommand)).toHaveLength(1)
    expectNoSecrets(result.stdout, [SECRET])
  })

  it('takes the value of a whole Name=value line only', async () => {
    // Prepare
    const value = await encrypt(['--function-name', 'f'], SECRET)
    // Act
    const line = await run(['decrypt', '--function-name', 'f'], { stdin: `Name=${value}\n` })
    const badName = await run(['decrypt', '--function-name', 'f'], { stdin: `9Name=${value}` })
    const trailing = await run(['decrypt', '--function-name', 'f'], {
      stdin: `Name=${value} more`,
    })
    // Assess
    expect(line.code).toBe(0)
    expect(badName.code).not.toBe(0)
    expect(trailing.code).not.toBe(0)
  })

  it('--show prints the plaintext bytes as they are (a newline only on a terminal)', async () => {
    // Prepare
    const value = await encrypt(['--function-name', 'f'], SECRET)
    // Act
    const piped = await run(['decrypt', '--function-name', 'f', '--show'], { stdin: value })
    const terminal = await run(['decrypt', '--function-name', 'f', '--show'], {
      stdin: value,
      stdoutIsTTY: true,
    })
    // Assess
    expect(piped.stdout).toBe(SECRET)
    expect(terminal.stdout).toBe(`${SECRET}\n`)
  })

  it('checks an envelope read from a secrets file, bound to a variable name', async () => {
    // Prepare
    const value = await encrypt(
      ['--function-name', 'f', '--envelope', '--bind-variable', 'CERT'],
      'x'.repeat(5000),
    )
    writeFileSync(tmp.path('cert.enc'), value)
    // Act
    const bound = await run(
      argv('decrypt', { 'function-name': 'f', 'bind-variable': 'CERT', in: 'cert.enc' }),
      { cwd: tmp.dir },
    )
    const unbound = await run(argv('decrypt', { 'function-name': 'f', in: 'cert.enc' }), {
      cwd: tmp.dir,
    })
    // Assess
    expect(bound.stdout).toBe('ok, 5000 bytes (envelope)\n')
    expect(unbound.code).toBe(1)
    expect(unbound.stderr).toMatch(
      /^kms-secrets: VALUE: KMS rejected the ciphertext: .*\[CONTEXT_MISMATCH\]\n$/,
    )
  })

  it('a secrets file bound to its path (not an env var name) is still checked', async () => {
    // Prepare
    const value = await encrypt(
      ['--function-name', 'f', '--envelope', '--bind-variable', 'certs/tls.enc'],
      'pem',
    )
    // Act
    const result = await run(
      argv('decrypt', { 'function-name': 'f', 'bind-variable': 'certs/tls.enc' }),
      { stdin: value },
    )
    // Assess
    expect(result.stdout).toBe('ok, 3 bytes (envelope)\n')
  })

  it('lists the field names of a bundle, and checks or shows one field', async () => {
    // Prepare
    const value = await bundle(['--function-name', 'f'], `A=1\nB="${SECRET}"\n`)
    // Act
    const whole = await run(['decrypt', '--function-name', 'f'], { stdin: value })
    const field = await run(argv('decrypt', { 'function-name': 'f', field: 'B' }), { stdin: value })
    const shown = await run(argv('decrypt', { 'function-name': 'f', field: 'B', show: true }), {
      stdin: value,
    })
    const missing = await run(argv('decrypt', { 'function-name': 'f', field: 'C' }), {
      stdin: value,
    })
    // Assess
    expect(whole.stdout).toMatch(/^ok, \d+ bytes \(bundle: A, B\)\n$/)
    expect(field.stdout).toBe(`ok, ${Buffer.byteLength(SECRET)} bytes (field B of a bundle)\n`)
    expect(shown.stdout).toBe(SECRET)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe('kms-secrets: stdin: bundle has no field "C" [MISSING_VARIABLE]\n')
    expectNoSecrets(whole.stdout + field.stdout + missing.stderr, [SECRET])
  })

  it('--key-id pins the key: a value under another key is refused', async () => {
    // Prepare
    const value = await encrypt(['--function-name', 'f'], SECRET)
    // Act
    const same = await run(argv('decrypt', { 'function-name': 'f', 'key-id': KEY_ARN }), {
      stdin: value,
    })
    const other = await run(argv('decrypt', { 'function-name': 'f', 'key-id': OTHER_KEY_ID }), {
      stdin: value,
    })
    // Assess
    expect(same.code).toBe(0)
    expect(other.code).toBe(1)
    expect(other.stderr).toContain('[KEY_MISMATCH]')
  })

  it.each([
    [
      'altered',
      (v: string) => `${v.slice(0, 10)}${v[10] === 'A' ? 'B' : 'A'}${v.slice(11)}`,
      1,
      'CONTEXT_MISMATCH',
    ],
    ['not base64', () => 'not base64!', 2, 'MALFORMED_VALUE'],
  ])('an %s value fails with exit %i', async (_, alter, code, errorCode) => {
    // Prepare
    const value = (await encrypt(['--function-name', 'f'], SECRET)).trim()
    // Act
    const result = await run(['decrypt', '--function-name', 'f'], { stdin: alter(value) })
    // Assess
    expect(result.code).toBe(code)
    expect(result.stderr).toContain(`[${errorCode}]`)
    expect(result.stdout).toBe('')
  })

  it('refuses empty input and a missing context (exit 2)', async () => {
    // Act
    const empty = await run(['decrypt', '--function-name', 'f'], { stdin: ' \n' })
    const noContext = await run(['decrypt'], { stdin: 'AAAA' })
    // Assess
    expect(empty.code).toBe(2)
    expect(empty.stderr).toBe('kms-secrets: the input is empty\n')
    expect(noContext.code).toBe(2)
    expect(noContext.stderr).toContain('no encryption context')
  })
})
