// The log-leak guard at its edges, each test on a fresh copy of the module and with the
// console and streams restored after it: nothing happens before a guardable secret
// arrives, non-text values add nothing, the length floor is inclusive, longer secrets
// win over their own prefixes, and the guard is installed once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const
type Saved = { console: Record<string, unknown>; stdout: unknown; stderr: unknown }
let saved: Saved
const written: string[] = []

beforeEach(() => {
  saved = {
    console: Object.fromEntries(METHODS.map((m) => [m, console[m]])),
    stdout: process.stdout.write,
    stderr: process.stderr.write,
  }
  written.length = 0
  // What reaches "the real console", underneath the guard.
  console.log = (...args: unknown[]) => {
    written.push(args.join(' '))
  }
})
afterEach(() => {
  for (const m of METHODS) console[m] = saved.console[m] as never
  process.stdout.write = saved.stdout as never
  process.stderr.write = saved.stderr as never
})

const freshRedact = async () => {
  vi.resetModules()
  return import('../../src/core/redact.ts')
}

describe('guardSecrets', () => {
  it('before any secret, masks nothing (not even the word "undefined")', async () => {
    // Prepare
    const { mask } = await freshRedact()
    // Act / Assess
    expect(mask('undefined and null')).toBe('undefined and null')
  })

  it('non-text values (numbers, booleans, null) add nothing and install nothing', async () => {
    // Prepare
    const { guardSecrets, mask } = await freshRedact()
    const log = console.log
    // Act
    guardSecrets([42, true, null, undefined])
    guardSecrets([])
    // Assess
    expect(console.log).toBe(log)
    expect(mask('abc 42 true null')).toBe('abc 42 true null')
  })

  it('guards a secret of exactly 4 characters, not one of 3', async () => {
    // Prepare
    const { guardSecrets, mask, MASK } = await freshRedact()
    // Act
    guardSecrets(['abcd', 'xyz'])
    // Assess
    expect(mask('abcd xyz')).toBe(`${MASK} xyz`)
  })

  it('masks a long secret whole even when a shorter secret is its prefix', async () => {
    // Prepare
    const { guardSecrets, mask, MASK } = await freshRedact()
    // Act: shortest first
    guardSecrets(['abcdefgh'])
    guardSecrets(['abcdefghijkl'])
    guardSecrets(['abcdefghijklmnop'])
    // Assess
    expect(mask('abcdefghijklmnop')).toBe(MASK)
    expect(mask('abcdefghijkl!')).toBe(`${MASK}!`)
  })

  it('installs the guard once, however many secrets come', async () => {
    // Prepare
    const { guardSecrets } = await freshRedact()
    guardSecrets(['first-secret'])
    const guarded = { log: console.log, stdout: process.stdout.write }
    // Act
    guardSecrets(['second-secret'])
    // Assess: not wrapped a second time, and masking both
    expect(console.log).toBe(guarded.log)
    expect(process.stdout.write).toBe(guarded.stdout)
    console.log('first-secret %s', 'second-secret')
    expect(written).toEqual(['**** ****'])
  })
})
