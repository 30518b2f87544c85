// The bench's report (scripts/bench/report.ts) from a small set of measurements: every table
// `npm run bench` promises, and the Mermaid chart drawn from the cold starts' medians.

import { describe, expect, it } from 'vitest'
import { renderMarkdown } from '../../../scripts/bench/report.ts'
import type { Results } from '../../../scripts/bench/run.ts'

const PATTERNS = ['naive', 'per-variable', 'bundle', 'per-variable-lite', 'bundle-lite', 'esdk']
const SIZES = [1, 50]

/** Cold start `round` (0 or 1) of a cell: the first at `base` ms, the second 100 ms later. */
const sample = (base: number, round: number) => {
  const firstMs = base + 100 * round
  return { initMs: base / 2, firstMs, rssKb: 65_536, decrypts: 1 }
}

const results = (): Results => ({
  machine: {
    cpu: 'test CPU',
    cores: 2,
    node: 'v24.0.0',
    date: '2026-01-01T00:00:00Z',
    loadAverage: '0',
  },
  command: 'npm run bench -- --quick',
  quick: true,
  latencyMs: 10,
  runs: 2,
  sizes: SIZES,
  cold: [0, 1].map((round) =>
    Object.fromEntries(
      [...PATTERNS, 'bare-kms', 'bare-middy'].flatMap((p, i) =>
        SIZES.map((n) => [`${p}|${n}`, sample(100 * (i + 1) + n, round)]),
      ),
    ),
  ),
  bytes: { bundle: { bytes: 12_345, bytesBy: { library: 2_000, middy: 345 } } },
  envBytes: { 'bundle|1': 300 },
  load: {
    n: 5,
    rounds: [{ 'bare-kms': { wallMs: 40, cpuMs: 30 }, bundle: { wallMs: 44, cpuMs: 33 } }],
  },
  warm: {
    invocations: 1000,
    rounds: [{ 'per-variable': { ns: 500, overBare: 60, overFloor: 20, kms: 0 } }],
  },
  log: {
    lines: 10,
    secrets: 5,
    rounds: [
      { plain: { cleanNs: 1000, leakyNs: 1000 }, guarded: { cleanNs: 1100, leakyNs: 1500 } },
    ],
  },
  burst: { ratePerSecond: 1000, capacityPerSecond: 250, timeoutMs: 60_000, n: 20, results: [] },
  tracing: undefined,
  durationS: 1,
})

describe('renderMarkdown', () => {
  it('writes every table the bench promises', () => {
    const markdown = renderMarkdown(results())

    for (const heading of [
      '## Cold start: spawn → first response (ms)',
      '## KMS calls per cold start and KMS cost',
      '## Module load (ms)',
      '## Bundle bytes',
      '## Peak memory (MB)',
      '## Warm invocations (N = 5)',
      '## Log-leak guard (`redactLogs`) cost per log line',
      '## At scale: a burst of concurrent cold starts',
      '## Environment size',
    ]) {
      expect(markdown).toContain(`\n${heading}\n`)
    }
    expect(markdown).toMatch(/\| `bundle` +\| +\*\*12,345\*\* +\| +2,000 +\|/)
  })

  it('charts the median first response of each decrypting pattern per N', () => {
    const markdown = renderMarkdown(results())

    const chart = /```mermaid\n([\s\S]*?)```/.exec(markdown)?.[1] ?? ''
    const lines = [...chart.matchAll(/^ {2}line \[(.*)\]$/gm)].map((match) => match[1])
    // Pattern i at N: samples 100(i+1)+N and 100 more; the median is halfway.
    const expected = PATTERNS.map((_, i) => SIZES.map((n) => 100 * (i + 1) + n + 50).join(', '))
    expect(chart).toContain('xychart-beta')
    expect(lines).toEqual(expected)
  })
})
