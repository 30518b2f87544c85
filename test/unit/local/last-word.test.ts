import { describe, expect, it } from 'vitest'
import { lastLines } from '../../support/last-word.ts'

const MISSING =
  'moto_server not found on PATH or in pyenv\'s shims: install it with pipx install "moto[server]"'

describe('lastLines: what a test run prints last', () => {
  it('prints nothing after a passing run', () => {
    // Act
    const lines = lastLines(0, [], [])
    // Assess
    expect(lines).toEqual([])
  })

  it('ends a failed run with its failed tests (the first five)', () => {
    // Prepare
    const failed = ['a > 1', 'a > 2', 'b > 3', 'b > 4', 'c > 5', 'c > 6']
    // Act
    const lines = lastLines(1, failed, [])
    // Assess
    expect(lines).toEqual(['FAILED: 6 tests: a > 1; a > 2; b > 3; b > 4; c > 5; …'])
    expect(lastLines(1, ['a > 1'], [])).toEqual(['FAILED: 1 test: a > 1'])
  })

  it('says where to look when no test failed (thresholds, leak check, unhandled errors)', () => {
    // Act
    const lines = lastLines(1, [], [])
    // Assess
    expect(lines).toEqual([
      'FAILED (exit 1): see the errors above (unhandled errors, coverage thresholds or the leak check)',
    ])
  })

  it('puts the cause of a missing tool last, after the failed tests', () => {
    // Act
    const alone = lastLines(1, [], [MISSING])
    const withFailures = lastLines(1, ['a > 1'], [MISSING])
    // Assess
    expect(alone).toEqual([MISSING])
    expect(withFailures).toEqual(['FAILED: 1 test: a > 1', MISSING])
  })
})
