// Renders the measurements as docs/BENCHMARKS.md: tables by markdown-table (table.ts), the chart as a
// Mermaid xychart (GitHub draws it from the Markdown; no chart file beside it).

import { atN, DEFAULTS, LOAD_VARIANTS, WARM_N, WARM_VARIANTS } from './phases.ts'
import { type ColdSample, cellKey, type Results } from './results.ts'
import { bootstrap, median } from './stats.ts'
import { table } from './table.ts'
import type { TracingCost } from './tracing.ts'

const LITE = ['per-variable-lite', 'bundle-lite']
const DECRYPTING = ['naive', 'per-variable', 'bundle', ...LITE, 'esdk']
const ALL = [...DECRYPTING, 'bare-kms', 'bare-middy']
const OURS = ['per-variable', 'bundle']
const BYTES = [...ALL, 'empty-middleware', 'ssm-like']
/** The chart's line colours, in DECRYPTING order, and their names for the legend under it. */
const COLORS =
  '#d62728 red, #1f77b4 blue, #2ca02c green, #17becf cyan, #bcbd22 olive, #9467bd purple'.split(
    ', ',
  )
const PRICE_PER_10K = 0.03
const COLD_RATE = 0.01
const QUOTAS = [5_500, 10_000, 50_000]
const LAMBDA_ENV_LIMIT = 4096

const fixed = (v: number) => (Number.isNaN(v) ? 'n/a' : v >= 100 ? v.toFixed(0) : v.toFixed(1))
const thousands = (v: number) => Math.round(v).toLocaleString('en-US')
const signed = (v: number, digits = 1) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`
const ns = (v: number) => signed(v, 0)
const times = (v: number) => `${v.toFixed(2)}×`
const code = (name: string) => `\`${name}\``

/** The median in bold, with the min–max beside it when there are several values. */
const range = (list: readonly number[], format: (v: number) => string = fixed) => {
  const sorted = list.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b)
  if (sorted.length < 2) return sorted.length ? `**${format(sorted[0] as number)}**` : 'n/a'
  const [low, high] = [format(sorted[0] as number), format(sorted.at(-1) as number)]
  return `**${format(median(sorted))}** (${/^[+−-]/.test(low) ? `${low} to ${high}` : `${low}–${high}`})`
}

type Pick = (sample: ColdSample) => number
const firstMs: Pick = (s) => s.firstMs
const decryptMs: Pick = (s) => s.firstMs - s.initMs
const coldOf = (r: Results, pattern: string, n: number, pick: Pick) =>
  (r.cold[cellKey(pattern, n)] ?? []).map(pick)
/** Paired per round: the k-th cold start of every pattern at one N ran in the same round. */
const overCold = (r: Results, pattern: string, base: string, n: number, pick: Pick) => {
  const baseline = coldOf(r, base, n, pick)
  return coldOf(r, pattern, n, pick).map((v, i) => v - (baseline[i] as number))
}
const byN = (r: Results, patterns: string[], pick: Pick, format?: (v: number) => string) =>
  table(
    ['N', ...patterns.map(code)],
    r.sizes.map((n) => [String(n), ...patterns.map((p) => range(coldOf(r, p, n, pick), format))]),
  )

const loadDiffs = (r: Results, a: string, b: string, key: 'wallMs' | 'cpuMs') =>
  r.load.rounds
    .map((round) => (round[a]?.[key] ?? Number.NaN) - (round[b]?.[key] ?? Number.NaN))
    .filter((v) => !Number.isNaN(v))
const warmOf = (r: Results, label: string, key: 'ns' | 'overBare' | 'overFloor' | 'kms') =>
  r.warm.rounds
    .map((round) => round[label]?.[key])
    .filter((v): v is number => v !== undefined && !Number.isNaN(v))

interface Check {
  value: number
  ci: [number, number]
}
const paired = (list: number[]): Check => ({ value: median(list), ci: bootstrap([list], median) })
const ratioOfMedians = (a: number[], b: number[]) => median(a) / median(b)
const ratio = (a: number[], b: number[]): Check => ({
  value: ratioOfMedians(a, b),
  ci: bootstrap([a, b], ratioOfMedians),
})

/** Met or missed when the whole 95% interval of every number says so; else within noise. */
const verdict = (checks: Check[], ok: (v: number) => boolean) => {
  if (checks.some((c) => Number.isNaN(c.value))) return 'n/a (phase not run)'
  if (checks.every((c) => ok(c.ci[0]) && ok(c.ci[1]))) return '**met**'
  if (checks.some((c) => !ok(c.ci[0]) && !ok(c.ci[1]))) return '**missed**'
  return `**within noise** (point estimate: ${checks.every((c) => ok(c.value)) ? 'met' : 'missed'})`
}

const targetRow = (
  name: string,
  checks: [string, Check][],
  ok: (v: number) => boolean,
  format: (v: number) => string,
) => [
  name,
  checks
    .map(([label, c]) => `${label} ${format(c.value)} [${format(c.ci[0])}, ${format(c.ci[1])}]`)
    .join('; '),
  verdict(
    checks.map(([, c]) => c),
    ok,
  ),
]

const targets = (r: Results): string[][] => {
  const [small, big] = [Math.min(...r.sizes), Math.max(...r.sizes)]
  const lite = LITE.map((p): [string, Check] => [
    p,
    ratio(
      overCold(r, p, 'bare-middy', small, firstMs),
      overCold(r, p.replace('-lite', ''), 'bare-middy', small, firstMs),
    ),
  ])
  const floorRow = (n: number, limit: number) =>
    targetRow(
      `Warm, N = ${n}: ours at most ${limit} ns over the empty-middleware floor, default options and \`setToContext\``,
      [`per-variable${DEFAULTS}`, 'per-variable'].map((l): [string, Check] => [
        l,
        paired(warmOf(r, atN(l, n), 'overFloor')),
      ]),
      (v) => v <= limit,
      ns,
    )
  const warmLabels = OURS.flatMap((p) => [p, `${p}${DEFAULTS}`])
  const kms = warmLabels.reduce(
    (sum, label) => sum + warmOf(r, label, 'kms').reduce((a, b) => a + b, 0),
    0,
  )
  const loads = (a: string, b: string) =>
    (['wallMs', 'cpuMs'] as const).map((k): [string, Check] => [
      `${a} ${k === 'wallMs' ? 'wall' : 'CPU'}`,
      paired(loadDiffs(r, a, b, k)),
    ])
  return [
    targetRow(
      `Lite client: what it adds to a bare handler's cold start (spawn → first response, N = ${small}) at most 0.6× what the SDK path adds`,
      lite,
      (v) => v <= 0.6,
      times,
    ),
    floorRow(small, 100),
    // Issue 20's budget: own properties in Middy's store cost O(N); at N = 20 within 1 µs.
    floorRow(20, 1000),
    targetRow(
      `Bundle: spawn → first response at N = ${big} within 1.15× of N = ${small}`,
      [['bundle', ratio(coldOf(r, 'bundle', big, firstMs), coldOf(r, 'bundle', small, firstMs))]],
      (v) => v <= 1.15,
      times,
    ),
    targetRow(
      "Per-variable, N = 20: the decrypt step at most 0.5× the naive pattern's",
      [
        [
          'per-variable',
          ratio(coldOf(r, 'per-variable', 20, decryptMs), coldOf(r, 'naive', 20, decryptMs)),
        ],
      ],
      (v) => v <= 0.5,
      times,
    ),
    targetRow(
      `Warm: at most 100 ns per invoke over bare Middy (N = ${WARM_N})`,
      warmLabels.map((l): [string, Check] => [l, paired(warmOf(r, l, 'overBare'))]),
      (v) => v <= 100,
      ns,
    ),
    [
      'Warm: 0 KMS calls',
      `${kms} KMS requests in ${thousands(r.warm.invocations * r.warm.rounds.length * warmLabels.length)} warm invocations of ours`,
      kms === 0 ? '**met**' : '**missed**',
    ],
    targetRow(
      'Module load: at most 5 ms over the same function with only @aws-sdk/client-kms (wall and main-thread CPU, ms)',
      OURS.flatMap((p) => loads(p, 'bare-kms')),
      (v) => v <= 5,
      signed,
    ),
    targetRow(
      'Envelope (bundle) loads at least 25 ms faster than the Encryption SDK (ms)',
      loads('esdk', 'bundle'),
      (v) => v >= 25,
      fixed,
    ),
  ]
}

const chart = (r: Results) => [
  '```mermaid',
  `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${COLORS.map((c) => c.split(' ')[0]).join(', ')}"}}}}%%`,
  'xychart-beta',
  `  title "Cold start: spawn → first response (median ms), ${r.latencyMs} ms KMS latency"`,
  `  x-axis "N secrets" [${r.sizes.map((n) => `"${n}"`).join(', ')}]`,
  '  y-axis "ms"',
  ...DECRYPTING.map(
    (p) =>
      `  line [${r.sizes.map((n) => Math.round(median(coldOf(r, p, n, firstMs))) || 0).join(', ')}]`,
  ),
  '```',
  '',
  `Lines: ${DECRYPTING.map((p, i) => `${COLORS[i]?.split(' ')[1]} ${code(p)}`).join(', ')}; each point the median of ${r.runs} cold starts.`,
]

/** Pattern | what its function does. */
const PATTERNS_TABLE = [
  "`naive` | The Lambda console's decryption snippet, once per variable: on first invoke, for each variable in turn, `new KMSClient()` and `Decrypt`.",
  '`per-variable` | Middy + `kmsSecrets`, one env var per secret (raw KMS blobs), `setToContext: true`. Decrypts in parallel, prefetch at module load.',
  '`bundle` | Middy + `kmsSecrets` reading N fields `BUNDLE#sK` of one kse1 bundle envelope: one KMS call.',
  '`per-variable-lite`, `bundle-lite` | The same two on `middy-kms-secrets/lite`: `LiteKmsClient` (SigV4 on node:crypto, node:http(s) with keep-alive) instead of the AWS SDK, which the function then never loads.',
  '`esdk` | The AWS Encryption SDK (`@aws-crypto/client-node`, KMS keyring, default suite with key commitment and ECDSA P-384 signature) decrypting the same bundle on first invoke, checking the encryption context.',
  '`bare-kms` | Baseline: imports `@aws-sdk/client-kms`, builds a client, decrypts nothing.',
  '`bare-middy` | Baseline: Middy with no middleware, the same handler shape as ours.',
  '`empty-middleware` | Baseline, warm invocations only: `bare-middy` plus one empty `before` middleware, the floor of any middleware.',
  '`ssm-like` | The peer, warm invocations only: the same secrets copied into `request.internal` and `context` on every invocation (`Object.assign`), the way `@middy/ssm` does.',
].map((row) => row.split(' | '))

const intro = (r: Results) => [
  '# Benchmarks',
  '',
  '<!-- Generated by `npm run bench` (scripts/bench/run.ts); edit the script, not this file. -->',
  '',
  'Decrypting N KMS-encrypted secrets at cold start, all patterns side by side in one run, with',
  `**${r.latencyMs} ms of latency injected on every KMS request** (moto behind the fault proxy, on`,
  "127.0.0.1). Every cold start is a fresh process under aws-lambda-ric (the runtime client Lambda's",
  'Node runtime is built on) behind a loopback Runtime API, so a figure holds what the runtime loads',
  `before the handler and nothing else; ${r.runs} cold starts per cell, run round-robin (pattern order`,
  'rotated each round) so background load hits all patterns alike; medians, min–max in brackets.',
  '',
  `- Command: \`${r.command}\`${r.quick ? ' (a quick smoke pass: few runs, not for conclusions)' : ''}`,
  `- Machine: ${r.machine.cpu}, ${r.machine.cores} cores (shared), Node ${r.machine.node}, ${r.machine.date}, load average at start ${r.machine.loadAverage}; the run took ${r.durationS.toFixed(0)} s${Number.parseFloat(r.machine.loadAverage) > r.machine.cores ? ' (a loaded machine: a noisy run, read the paired differences and ratios, not absolute values)' : ''}`,
  '',
  ...chart(r),
  '',
  '## Patterns',
  '',
  table(['Pattern', 'What the function does'], PATTERNS_TABLE, ['left', 'left']),
  '',
  'Each is bundled like a Lambda function: esbuild, minified ESM, platform node, target node24,',
  "everything inlined (`middy-kms-secrets` resolves to this repo's `src/`). All values use the",
  'encryption context `{ LambdaFunctionName }`; secrets are 32-character tokens.',
  '',
  '## Targets',
  '',
  table(['Target (issues 7, 14, 20)', 'Measured', 'Verdict'], targets(r), ['left', 'left', 'left']),
  '',
  'Brackets: 95% bootstrap intervals (2,000 resamples of the measurements behind each number). A',
  'target is **met** or **missed** when the whole interval of every number it is judged on says so,',
  'and **within noise** when this run on this shared machine cannot tell.',
  '',
]

const coldSections = (r: Results) => [
  '## Cold start: spawn → first response (ms)',
  '',
  "From the spawn of the runtime's process to the first invocation's answer: Node's start-up, the",
  'runtime client (which loads node:http itself), INIT (the module) and the first invoke.',
  '',
  byN(r, ALL, firstMs),
  '',
  'Of which the decrypt step (first response − INIT done, per cold start), where the patterns differ',
  `most. moto's own service time (~${(1000 / r.burst.capacityPerSecond).toFixed(1)} ms of Python per Decrypt, one at a time) comes on top of the`,
  'injected latency and makes parallel calls queue locally: against KMS, per-variable would sit closer to bundle.',
  '',
  byN(r, DECRYPTING, decryptMs),
  '',
  '## KMS calls per cold start and KMS cost',
  '',
  'Decrypt requests the proxy received from each cold-start process (median; retries would count).',
  `Cost per million invocations at a ${COLD_RATE * 100}% cold-start rate (10,000 cold starts) at $${PRICE_PER_10K} per 10,000`,
  'requests.',
  '',
  table(
    ['N', ...DECRYPTING.map(code)],
    r.sizes.map((n) => [
      String(n),
      ...DECRYPTING.map((p) => {
        const calls = median(coldOf(r, p, n, (s) => s.decrypts))
        return `${calls} · $${((calls * 1_000_000 * COLD_RATE * PRICE_PER_10K) / 10_000).toFixed(2)}`
      }),
    ]),
  ),
  '',
  '## Module load (ms)',
  '',
  "INIT under the runtime client: spawn → the runtime's first request for an event (Node, the runtime",
  `client and the function's module). \`bare-middy\` is the floor every function pays.`,
  '',
  byN(r, ALL, (s) => s.initMs),
  '',
  '### Module load only, paired',
  '',
  `Differences of a few ms are below the noise between processes, so they get their own phase: ${r.load.rounds.length}`,
  `rounds of one fresh process per variant (N = ${r.load.n}, order rotated), each timing \`await import()\` of the`,
  "function and exiting; differences paired within a round. Besides wall time, the main thread's CPU",
  'time (`process.threadCpuUsage()`), which leaves out time preempted by other work. "Over `bare-kms`"',
  'is the cost of using the library, `@middy/core` included; "disablePrefetch" is the same function',
  "without starting the decrypt at module load, i.e. the library's code alone (for the lite path,",
  "compare with `bare-middy`: it loads no SDK); prefetch adds the first Decrypt's synchronous work.",
  '',
  table(
    ['Function', 'wall ms', 'CPU ms', 'wall over `bare-kms`', 'CPU over `bare-kms`'],
    LOAD_VARIANTS.map(({ label, pattern }) => [
      `${code(pattern)}${label.slice(pattern.length)}`,
      ...(['wallMs', 'cpuMs'] as const).map((k) =>
        range(r.load.rounds.map((round) => round[label]?.[k] ?? Number.NaN)),
      ),
      ...(['wallMs', 'cpuMs'] as const).map((k) =>
        label === 'bare-kms' ? '–' : `${range(loadDiffs(r, label, 'bare-kms', k), signed)} ms`,
      ),
    ]),
  ),
  '',
  '## Bundle bytes',
  '',
  'esbuild output (minified ESM), by origin from the metafile.',
  '',
  table(
    'Pattern|Bytes|this library|AWS SDK (+ Smithy)|@aws-crypto|@middy|other deps|function'.split(
      '|',
    ),
    BYTES.filter((p) => r.bytes[p]).map((p) => {
      const { bytes, bytesBy } = r.bytes[p] as Results['bytes'][string]
      const of = (origin: string) => (bytesBy[origin] ? thousands(bytesBy[origin]) : '–')
      return [
        code(p),
        `**${thousands(bytes)}**`,
        ...['library', 'aws-sdk', 'aws-crypto', 'middy', 'other', 'function'].map(of),
      ]
    }),
  ),
  '',
  '## Peak memory (MB)',
  '',
  "Peak RSS of the runtime's process (Linux's VmHWM) at the first invocation's answer.",
  '',
  byN(r, ALL, (s) => s.rssKb / 1024),
  '',
]

const warmSection = (r: Results) => [
  `## Warm invocations (N = ${WARM_N})`,
  '',
  `One process per variant and round (${r.warm.rounds.length} round(s), variants rotated). Each imports the function,`,
  'bare Middy and `empty-middleware` side by side (same heap, same CPU), checks one cold invoke, then',
  `runs ${thousands(r.warm.invocations)} warm invocations of each in 20 tinybench batches (mean per batch; the three in`,
  'turn, order rotated every batch), each invoke with a fresh context object as Lambda gives. "Over"',
  'is the median over batches of (function − bare Middy, or − the floor, in the same batch), then the',
  'median over rounds. `empty-middleware` over bare Middy is what Middy costs to dispatch any',
  '`before` middleware, the floor of every middleware. KMS requests: what the proxy received during',
  'the timed loops, all rounds.',
  '',
  table(
    [
      'Variant',
      'ns per invoke',
      'over bare Middy',
      'over the `empty-middleware` floor',
      'KMS requests',
    ],
    WARM_VARIANTS.map(({ label, pattern }) => [
      `${code(pattern)}${label.slice(pattern.length)}`,
      range(warmOf(r, label, 'ns'), (v) => v.toFixed(0)),
      `${range(warmOf(r, label, 'overBare'), ns)} ns`,
      `${range(warmOf(r, label, 'overFloor'), ns)} ns`,
      String(warmOf(r, label, 'kms').reduce((a, b) => a + b, 0)),
    ]),
  ),
  '',
  '`per-variable` also runs at N = 1, 20 and 50 (", N = …"), beside `ssm-like` at the same N: both',
  'copy the values into `request.internal` per invocation (own properties, so `getInternal(true)`',
  'lists them); `ssm-like` copies them onto `context` too, ours hands `context` one prototype that',
  'holds them whatever N. "default options" is the same function without `setToContext` (values only',
  'in `request.internal`). `naive`, `esdk` and `bare-kms` are plain async handlers, listed for reference.',
  '',
  '## Log-leak guard (`redactLogs`) cost per log line',
  '',
  '`console.log` of a 100-character line, stdout to /dev/null (a synchronous write), after',
  `\`loadSecrets()\` of ${r.log.secrets} secrets without (\`plain\`) and with \`redactLogs: true\` (\`guarded\`), each in its`,
  `own process; ${thousands(r.log.lines)} lines of each kind timed by tinybench, median over ${r.log.rounds.length} round(s).`,
  '',
  table(
    ['Line', 'plain ns/line', 'guarded ns/line', 'guard cost'],
    (
      [
        ['no secret in it', 'cleanNs'],
        ['holds a secret (masked when guarded)', 'leakyNs'],
      ] as const
    ).map(([label, line]) => {
      const [plain, guarded] = (['plain', 'guarded'] as const).map((m) =>
        median(r.log.rounds.map((round) => round[m][line])),
      )
      return [
        label,
        fixed(plain as number),
        fixed(guarded as number),
        `${ns((guarded as number) - (plain as number))} ns (${times((guarded as number) / (plain as number))})`,
      ]
    }),
  ),
  '',
]

const burstSection = (r: Results) => {
  const { n, results, ratePerSecond: rate } = r.burst
  const count = results[0]?.count ?? 0
  const timeouts = results.some((b) => (b.failuresByCode.TIMEOUT ?? 0) > 0)
  return [
    '## At scale: a burst of concurrent cold starts',
    '',
    `${count} cold starts at once, N = ${n}, bundle and per-variable modes, the fault proxy admitting at most`,
    `**${thousands(rate)} Decrypt requests per second** (1-second windows) and answering \`ThrottlingException\``,
    `above that, plus the injected latency. ${thousands(rate)}/s stands for the account's quota: a bundle burst`,
    `(${count} requests) fits under it, a per-variable one (× ${n}) does not.`,
    '',
    '**A simulation in one process, not 500 processes** (they do not fit 2 cores): each cold start',
    'is `loadSecrets()` with its own `cacheKey`, hence its own `KMSClient` (own connection pool and',
    'standard-retry state: 3 attempts, throttling backoff), all started in the same tick; time from',
    'that start to the secrets ready or the failure. Artefacts, stated rather than hidden:',
    '',
    "- One thread signs every cold start's requests in turn (500 sandboxes would do it in parallel), so",
    `  the deadline is raised to ${thousands(r.burst.timeoutMs / 1000)} s; failures below are what the throttle causes${timeouts ? ' (a TIMEOUT is a cold start still waiting behind throttled retries and the moto queue)' : ''}.`,
    `- That spreads the requests out: "peak offered" is far less than a real fleet's ${thousands(count * n)} at once, so`,
    '  the local per-variable burst is _milder_ than the real one.',
    `- Admitted requests wait for moto (~${thousands(r.burst.capacityPerSecond)} Decrypt/s here, measured just before): the slowest`,
    '  times are mostly that queue. Real KMS answers admitted requests in milliseconds.',
    '',
    table(
      'Mode|Cold starts|Failed|Slowest|Median|p95|Decrypt requests (proxy)|of which retries|Throttled answers|First request|Peak offered'.split(
        '|',
      ),
      results.map((b) => [
        code(b.mode),
        String(b.count),
        `**${b.failed}**${b.failed ? ` (${JSON.stringify(b.failuresByCode)})` : ''}`,
        ...[b.slowestMs, b.medianMs, b.p95Ms].map((v) => `${thousands(v)} ms`),
        thousands(b.decryptRequests),
        thousands(Math.max(0, b.decryptRequests - b.count * (b.mode === 'bundle' ? 1 : n))),
        thousands(b.throttled),
        b.firstRequestMs === undefined ? 'n/a' : `${thousands(b.firstRequestMs)} ms`,
        `${thousands(b.peakPerSecond)}/s`,
      ]),
    ),
    '',
    '### Real fleets: cold starts per second × KMS calls vs the Decrypt quota',
    '',
    "KMS's quota for symmetric cryptographic operations is shared by the whole account in a region:",
    `${QUOTAS.map(thousands).join(', ')} requests per second depending on the region. A function's cold starts`,
    'need _cold starts per second × KMS calls per cold start_ of it: N for the naive and per-variable',
    'patterns, 1 for a bundle (or the ESDK). Cells: per-variable (N = 20) / bundle share of the quota;',
    'over 100% means throttling: retries, more requests, and failed cold starts once retries run out.',
    '',
    table(
      [
        'Cold starts per second',
        'per-variable, N = 20',
        'bundle',
        ...QUOTAS.map((q) => `vs ${thousands(q)}`),
      ],
      [100, 500, 1_000, 5_000].map((rate) => [
        thousands(rate),
        `${thousands(rate * 20)} rps`,
        `${thousands(rate)} rps`,
        ...QUOTAS.map(
          (q) => `${Math.round(((rate * 20) / q) * 100)}% / ${Math.round((rate / q) * 100)}%`,
        ),
      ]),
    ),
    '',
  ]
}

/** The tracing phase's table (also printed by `node scripts/bench/tracing.ts`). */
export const tracingTable = (cost: TracingCost): string => {
  const kb = (bytes: number) => (bytes / 1024).toFixed(0)
  const none = cost.loadMs['no tracing code'].wall
  return [
    `secure-items bundle: ${kb(cost.bytes.without)} KB without tracing code, ${kb(cost.bytes.withTracing)} KB with it; module load, median of ${cost.rounds} fresh processes:`,
    '',
    table(
      ['variant', 'load ms (wall)', 'load ms (CPU)', 'vs no tracing code'],
      Object.entries(cost.loadMs).map(([variant, { wall, cpu }]) => [
        variant,
        wall.toFixed(1),
        cpu.toFixed(1),
        times(wall / none),
      ]),
    ),
  ].join('\n')
}

const closing = (r: Results) => [
  '## Environment size',
  '',
  `Bytes of the encrypted variables (names + values). Lambda allows ${thousands(LAMBDA_ENV_LIMIT)} bytes for all of a function's`,
  'environment variables together.',
  '',
  table(
    ['N', 'naive / per-variable', 'bundle', 'esdk'],
    r.sizes.map((n) => [
      String(n),
      ...['per-variable', 'bundle', 'esdk'].map((p) => {
        const bytes = r.envBytes[cellKey(p, n)] ?? 0
        return `${thousands(bytes)}${bytes > LAMBDA_ENV_LIMIT ? ' (over the limit)' : ''}`
      }),
    ]),
  ),
  '',
  ...(r.tracing
    ? [
        '## X-Ray tracing at cold start',
        '',
        'secure-items as the template builds it, and once more with its tracing module stubbed out: off is',
        '`POWERTOOLS_TRACE_ENABLED=false` (the X-Ray SDK, in a chunk of its own, is never read), on is as in Lambda.',
        '',
        tracingTable(r.tracing),
        '',
      ]
    : []),
  '## What this does not measure',
  '',
  "- Lambda's sandbox: no Firecracker VM, no CPU share tied to the memory size; the runtime client",
  '  and Node are the real ones, on this machine.',
  `- Real KMS: latency is the proxy's ${r.latencyMs} ms plus moto's own service time on loopback; real`,
  '  Decrypt round trips are usually a few to tens of ms and vary.',
  '- The machine is shared (2 cores, other test runs): medians, side-by-side ratios and their',
  '  intervals are the numbers to read, not absolute values.',
  '',
]

export const renderMarkdown = (r: Results): string =>
  `${[...intro(r), ...coldSections(r), ...warmSection(r), ...burstSection(r), ...closing(r)].join('\n').trimEnd()}\n`
