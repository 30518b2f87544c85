import { readFileSync, writeFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CliIo, writeOutput } from '../../../cli/src/io.ts'
import { tempDir } from './harness.ts'

describe('writeOutput', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  it('never replaces a file created after the check, without --force', async () => {
    // Prepare: out.txt appears between the check before KMS and the write
    writeFileSync(tmp.path('out.txt'), 'keep me')
    const io = { cwd: tmp.dir } as CliIo
    // Act
    const error = await writeOutput(io, 'new', 'out.txt', false).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    // Assess
    expect(error?.name).toBe('CliUsageError')
    expect(error?.message).toBe('cannot write --out out.txt (EEXIST)')
    expect(readFileSync(tmp.path('out.txt'), 'utf8')).toBe('keep me')
  })
})
