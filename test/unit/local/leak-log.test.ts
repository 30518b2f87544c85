// The whole-run leak check (test/support/leak-log.ts): what the integration project's
// globalSetup teardown runs over every child output of the run.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  assertNoLeaks,
  checkLeakLog,
  recordOutput,
  registerSecret,
  registerSecrets,
  startLeakLog,
} from '../../support/leak-log.ts'
import { expectNoSecrets } from '../../support/no-leak.ts'

let root: string
let dir: string
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'leak-log-'))
  dir = startLeakLog(join(root, 'leak-log'))
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

const SECRET = 'tok_live_Zx81qPw3'
const child = (stdout: string, stderr = '', args: string[] = []) => ({
  command: 'cli/dist/kms-secrets.js',
  args,
  stdout,
  stderr,
})

describe('checkLeakLog', () => {
  it('finds a registered secret in any child output, in any form, whenever it was registered', () => {
    // Prepare: the leaking output comes first, the secret is registered later
    recordOutput(child('{"level":"INFO","message":"ok"}'), dir)
    recordOutput(
      child(`Authorization: Basic ${Buffer.from(`u:${SECRET}`).toString('base64')}`),
      dir,
    )
    registerSecrets(['unrelated-secret-1', SECRET], dir)
    // Act
    const report = checkLeakLog(dir)
    // Assess
    expect(report).toMatchObject({ outputs: 2, secrets: 2, disclosed: 0 })
    expect(report.hits).toHaveLength(1)
    // The output is named by its test and command line.
    expect(report.hits[0]).toMatch(
      /^test\/unit\/local\/leak-log\.test\.ts > checkLeakLog > finds .*: cli\/dist\/kms-secrets\.js \(stdout\): secret #1 leaked \(base64 \(offset 2\)\) at offset \d+ of a \d+-character output$/,
    )
    expect(report.hits.join('\n')).not.toContain(SECRET)
  })

  it('finds binary secrets by their hex and base64, on stderr too', () => {
    // Prepare
    const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff)
    registerSecret(key, dir)
    recordOutput(child('', `debug key=${Buffer.from(key).toString('hex')}`), dir)
    // Act
    const report = checkLeakLog(dir)
    // Assess
    expect(report.hits).toEqual([expect.stringMatching(/\(stderr\): secret #0 leaked \(hex\)/)])
  })

  it('skips the stdout of --show (printed by request), never its stderr', () => {
    // Prepare
    registerSecret(SECRET, dir)
    recordOutput(child(SECRET, '', ['decrypt', '--show']), dir)
    recordOutput(child('', `oops ${SECRET}`, ['decrypt', '--show']), dir)
    // Act
    const report = checkLeakLog(dir)
    // Assess
    expect(report.disclosed).toBe(1)
    expect(report.hits).toEqual([expect.stringContaining('(stderr): secret #0 leaked (raw)')])
  })

  it('counts a secret registered many times once', () => {
    // Prepare
    registerSecrets([SECRET, SECRET], dir)
    registerSecret(SECRET, dir)
    // Act / Assess
    expect(checkLeakLog(dir).secrets).toBe(1)
  })
})

describe('assertNoLeaks', () => {
  it('passes a clean log and removes it (it holds test secrets in clear)', () => {
    // Prepare
    registerSecret(SECRET, dir)
    recordOutput(
      child('ok, 17 bytes (raw KMS blob)\n', 'encrypted with encryption context {}\n'),
      dir,
    )
    // Act
    const report = assertNoLeaks(dir)
    // Assess
    expect(report).toMatchObject({ outputs: 2, secrets: 1, hits: [] })
    expect(report.characters).toBeGreaterThan(0)
    expect(existsSync(dir)).toBe(false)
  })

  it('fails on a hit, naming the output but not the secret, and keeps the log', () => {
    // Prepare
    registerSecret(SECRET, dir)
    recordOutput(child(JSON.stringify({ message: JSON.stringify({ token: SECRET }) })), dir)
    // Act
    let message = ''
    try {
      assertNoLeaks(dir)
    } catch (error) {
      message = (error as Error).message
    }
    // Assess
    expect(message).toMatch(
      /^leak check: 1 secret\(s\) found in child process output \(log kept in /,
    )
    expect(message).toContain('secret #0 leaked (raw)')
    expect(message).not.toContain(SECRET)
    expect(existsSync(dir)).toBe(true)
  })
})

describe('outside the integration project', () => {
  it('records and registers nothing: only the integration workers get a log folder', () => {
    // Act: the default folder comes from inject('leakLogDir'), unset in this project
    recordOutput(child(SECRET))
    registerSecret(SECRET)
    expectNoSecrets('clean output', [SECRET])
    // Assess
    expect(readdirSync(dir)).toEqual([])
  })

  it('startLeakLog makes a fresh folder and removes the runs before it', () => {
    // Prepare
    registerSecret(SECRET, dir)
    // Act
    const next = startLeakLog(join(root, 'leak-log'))
    // Assess
    expect(existsSync(dir)).toBe(false)
    expect(readdirSync(next)).toEqual([])
  })
})
