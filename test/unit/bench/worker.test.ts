// The bench's one worker protocol (scripts/bench/phases.ts and worker.ts), with real child
// processes: the module-load worker answers its 'result'; a worker that fails rejects with its error.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runWorker } from '../../../scripts/bench/phases.ts'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-proc-'))
  await writeFile(join(dir, 'ok.mjs'), 'export const handler = async () => ({})\n')
  await writeFile(join(dir, 'broken.mjs'), "throw new Error('module scope failed')\n")
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('runWorker', () => {
  it("resolves with the worker's result", async () => {
    const result = await runWorker(['load', join(dir, 'ok.mjs')], { PATH: process.env.PATH })

    expect(result.type).toBe('result')
    expect(result.wallMs).toBeGreaterThan(0)
    expect(typeof result.cpuMs).toBe('number')
  })

  it("rejects with the worker's error", async () => {
    const running = runWorker(['load', join(dir, 'broken.mjs')], { PATH: process.env.PATH })

    await expect(running).rejects.toThrow(
      /worker\.ts load .*broken\.mjs: Error: module scope failed/,
    )
  })
})
