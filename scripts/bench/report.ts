// docs/BENCHMARKS.md from the measurements: tables by markdown-table (table.ts), the chart a
// Mermaid xychart (GitHub draws it from the Markdown).

import { DEFAULTS, LOAD_N, LOAD_VARIANTS, TRACING, WARM_N, WARM_VARIANTS } from './phases.ts'
import type { Results } from './run.ts'
import { bootstrap, median } from './stats.ts'
import { table } from './table.ts'

const DECRYPTING = ['naive', 'per-variable', 'bundle', 'per-variable-lite', 'bundle-lite', 'esdk']
const ALL = [...DECRYPTING, 'bare-kms', 'bare-middy']
const OURS = ['per-variable', 'bundle']
const COLORS = 'red #d62728,blue #1f77b4,green #2ca02c,cyan #17becf,olive #bcbd22,purple #9467bd'
const QUOTAS = [5_500, 10_000, 50_000]
const ENV_LIMIT = 4096

const fixed = (v: number) => (Number.isNaN(v) ? 'n/a' : v >= 100 ? v.toFixed(0) : v.toFixed(1))
const thousands = (v: number) => Math.round(v).toLocaleString('en-US')
const signed = (v: number, digits = 1) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`
const ns = (v: number) => signed(v, 0)
const times = (v: number) => `${v.toFixed(2)}×`
const code = (name: string) => `\`${name}\``
/** `pattern, option` with the pattern as code. */
const variant = (label: string) => label.replace(/^[\w-]+/, code)
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
/** A section: one line of prose, then its table. */
const section = (heading: string, prose: string, body: string) => [heading, '', prose, '', body, '']

/** The median in bold, the min–max beside it when there are several values. */
const range = (list: readonly number[], format: (v: number) => string = fixed) => {
  const sorted = list.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b)
  if (sorted.length < 2) return sorted.length ? `**${format(sorted[0] as number)}**` : 'n/a'
  const [low, high] = [format(sorted[0] as number), format(sorted.at(-1) as number)]
  return `**${format(median(sorted))}** (${/^[+−-]/.test(low) ? `${low} to ${high}` : `${low}–${high}`})`
}

/** One label's values over the rounds; with `base`, paired per round: label − base. */
const of = <T>(rounds: Record<string, T>[], label: string, pick: (v: T) => number, base?: string) =>
  rounds.flatMap((round) => {
    const [v, b] = [round[label], base === undefined ? undefined : round[base]]
    if (v === undefined || (base !== undefined && b === undefined)) return []
    return [pick(v) - (b === undefined ? 0 : pick(b))]
  })

type Cold = Results['cold'][number][string]
const first = (s: Cold) => s.firstMs
const decrypt = (s: Cold) => s.firstMs - s.initMs
const cold = (r: Results, p: string, n: number, pick: (s: Cold) => number, base?: string) =>
  of(r.cold, `${p}|${n}`, pick, base && `${base}|${n}`)
/** A row per N, a column per pattern. */
const byN = (r: Results, patterns: string[], cell: (p: string, n: number) => string) =>
  table(
    ['N', ...patterns.map(code)],
    r.sizes.map((n) => [String(n), ...patterns.map((p) => cell(p, n))]),
  )
const coldByN = (r: Results, patterns: string[], pick: (s: Cold) => number) =>
  byN(r, patterns, (p, n) => range(cold(r, p, n, pick)))
type Warm = Results['warm']['rounds'][number][string]
const warm = (r: Results, label: string, key: keyof Warm) => of(r.warm.rounds, label, (v) => v[key])
type Load = Results['load']['rounds'][number][string]
const load = (r: Results, label: string, key: keyof Load, base?: string) =>
  of(r.load.rounds, label, (v) => v[key], base)

/** Met or missed when the whole 95% interval of every number says so; else within noise. */
const target = (
  name: string,
  checks: [string, number[], number[]?][],
  ok: (v: number) => boolean,
  format: (v: number) => string,
) => {
  const stat = (a: number[], b?: number[]) => (b ? median(a) / median(b) : median(a))
  const found = checks.map(([label, a, b]) => {
    const [low, high] = bootstrap(b ? [a, b] : [a], stat)
    return { label, value: stat(a, b), low, high }
  })
  const verdict = found.some((c) => Number.isNaN(c.value))
    ? 'n/a (phase not run)'
    : found.every((c) => ok(c.low) && ok(c.high))
      ? '**met**'
      : found.some((c) => !ok(c.low) && !ok(c.high))
        ? '**missed**'
        : `**within noise** (point estimate: ${found.every((c) => ok(c.value)) ? 'met' : 'missed'})`
  const shown = found.map(
    (c) => `${c.label} ${format(c.value)} [${format(c.low)}, ${format(c.high)}]`,
  )
  return [name, shown.join('; '), verdict]
}

const targets = (r: Results) => {
  const [small, big] = [Math.min(...r.sizes), Math.max(...r.sizes)]
  const warmOurs = OURS.flatMap((p) => [p, `${p}${DEFAULTS}`])
  const kms = sum(warmOurs.flatMap((l) => warm(r, l, 'kms')))
  const loads = (a: string, b: string) =>
    (['wallMs', 'cpuMs'] as const).map((k): [string, number[]] => [
      `${a} ${k === 'wallMs' ? 'wall' : 'CPU'}`,
      load(r, a, k, b),
    ])
  const floor = (n: number, limit: number) =>
    target(
      `Warm, N = ${n}: ours at most ${limit} ns over the empty-middleware floor, default options and \`setToContext\``,
      [`per-variable${DEFAULTS}`, 'per-variable'].map((l) => [
        l,
        warm(r, n === WARM_N ? l : `${l}, N = ${n}`, 'overFloor'),
      ]),
      (v) => v <= limit,
      ns,
    )
  const ratio = (name: string, checks: [string, number[], number[]][], limit: number) =>
    target(name, checks, (v) => v <= limit, times)
  return [
    ratio(
      `Lite client: what it adds to a bare handler's cold start (spawn → first response, N = ${small}) at most 0.6× what the SDK path adds`,
      ['per-variable-lite', 'bundle-lite'].map((p) => [
        p,
        cold(r, p, small, first, 'bare-middy'),
        cold(r, p.replace('-lite', ''), small, first, 'bare-middy'),
      ]),
      0.6,
    ),
    floor(small, 100),
    floor(20, 1000), // issue 20: own properties in Middy's store cost O(N)
    ratio(
      `Bundle: spawn → first response at N = ${big} within 1.15× of N = ${small}`,
      [['bundle', cold(r, 'bundle', big, first), cold(r, 'bundle', small, first)]],
      1.15,
    ),
    ratio(
      "Per-variable, N = 20: the decrypt step at most 0.5× the naive pattern's",
      [['per-variable', cold(r, 'per-variable', 20, decrypt), cold(r, 'naive', 20, decrypt)]],
      0.5,
    ),
    target(
      `Warm: at most 100 ns per invoke over bare Middy (N = ${WARM_N})`,
      warmOurs.map((l) => [l, warm(r, l, 'overBare')]),
      (v) => v <= 100,
      ns,
    ),
    [
      'Warm: 0 KMS calls',
      `${kms} KMS requests in ${thousands(r.warm.invocations * r.warm.rounds.length * warmOurs.length)} warm invocations of ours`,
      kms === 0 ? '**met**' : '**missed**',
    ],
    target(
      'Module load: at most 5 ms over the same function with only @aws-sdk/client-kms (wall and main-thread CPU, ms)',
      OURS.flatMap((p) => loads(p, 'bare-kms')),
      (v) => v <= 5,
      signed,
    ),
    target(
      'Envelope (bundle) loads at least 25 ms faster than the Encryption SDK (ms)',
      loads('esdk', 'bundle'),
      (v) => v >= 25,
      fixed,
    ),
  ]
}

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

const head = (r: Results) => {
  const colors = COLORS.split(',').map((c) => c.split(' '))
  const loaded = Number.parseFloat(r.machine.loadAverage) > r.machine.cores
  const chartLine = (p: string) => r.sizes.map((n) => Math.round(median(cold(r, p, n, first))) || 0)
  return [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (scripts/bench/run.ts); edit the script, not this file. -->',
    '',
    `Decrypting N KMS-encrypted secrets at cold start, all patterns side by side in one run, **${r.latencyMs} ms of latency injected on every KMS request** (moto behind the fault proxy, on 127.0.0.1). Each cold start is a fresh process under aws-lambda-ric (Lambda's Node runtime client) behind a loopback Runtime API. Every phase runs round-robin, the order rotated each round, so background load hits all alike; cells show the median (min–max); differences are paired within a round.`,
    '',
    `- Command: \`${r.command}\`${r.quick ? ' (a quick smoke pass: few runs, not for conclusions)' : ''}`,
    `- Machine: ${r.machine.cpu}, ${r.machine.cores} cores (shared), Node ${r.machine.node}, ${r.machine.date}, load average at start ${r.machine.loadAverage}; the run took ${r.durationS.toFixed(0)} s${loaded ? ' (a loaded machine: read the paired differences and ratios, not absolute values)' : ''}`,
    '',
    '```mermaid',
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${colors.map((c) => c[1]).join(', ')}"}}}}%%`,
    'xychart-beta',
    `  title "Cold start: spawn → first response (median ms), ${r.latencyMs} ms KMS latency"`,
    `  x-axis "N secrets" [${r.sizes.map((n) => `"${n}"`).join(', ')}]`,
    '  y-axis "ms"',
    ...DECRYPTING.map((p) => `  line [${chartLine(p).join(', ')}]`),
    '```',
    '',
    `Lines: ${DECRYPTING.map((p, i) => `${colors[i]?.[0]} ${code(p)}`).join(', ')}; each point the median of ${r.runs} cold starts.`,
    '',
    ...section(
      '## Patterns',
      'Each bundled as a Lambda function (esbuild, minified ESM, node24, all inlined); encryption context `{ LambdaFunctionName }`; secrets are 32-character tokens.',
      table(['Pattern', 'What the function does'], PATTERNS_TABLE, ['left', 'left']),
    ),
    ...section(
      '## Targets',
      'Brackets: 95% bootstrap intervals; **met** or **missed** when the whole interval says so, else **within noise**.',
      table(
        ['Target (issues 7, 14, 20)', 'Measured', 'Verdict'],
        targets(r),
        Array(3).fill('left'),
      ),
    ),
  ]
}

const coldSections = (r: Results) => [
  ...section(
    '## Cold start: spawn → first response (ms)',
    "Node's start-up, the runtime client (which loads node:http itself), INIT and the first invoke.",
    coldByN(r, ALL, first),
  ),
  `Of which the decrypt step (first response − INIT done). moto serves one Decrypt at a time (~${(1000 / r.burst.capacityPerSecond).toFixed(1)} ms each), so parallel calls queue here: against KMS, per-variable would sit closer to bundle.`,
  '',
  coldByN(r, DECRYPTING, decrypt),
  '',
  ...section(
    '## KMS calls per cold start and KMS cost',
    'Decrypt requests the proxy received per cold start · cost per million invocations at a 1% cold-start rate, $0.03 per 10,000 requests.',
    byN(r, DECRYPTING, (p, n) => {
      const calls = median(cold(r, p, n, (s) => s.decrypts))
      return `${calls} · $${(calls * 0.03).toFixed(2)}`
    }),
  ),
  ...section(
    '## Module load (ms)',
    `INIT: spawn → the runtime's first request for an event, N = ${LOAD_N}. Import: \`await import()\` alone in a fresh process, ${r.load.rounds.length} rounds (N = ${r.load.n}), wall and main-thread CPU (\`process.threadCpuUsage()\`); over \`bare-kms\` is the cost of the library with \`@middy/core\`; disablePrefetch is its code alone.`,
    table(
      'Function|INIT|import wall|import CPU|wall over `bare-kms`|CPU over `bare-kms`'.split('|'),
      LOAD_VARIANTS.map(({ label, pattern }) => [
        variant(label),
        label === pattern ? range(cold(r, pattern, LOAD_N, (s) => s.initMs)) : '–',
        range(load(r, label, 'wallMs')),
        range(load(r, label, 'cpuMs')),
        ...(['wallMs', 'cpuMs'] as const).map((k) =>
          label === 'bare-kms' ? '–' : `${range(load(r, label, k, 'bare-kms'), signed)} ms`,
        ),
      ]),
    ),
  ),
  ...section(
    '## Bundle bytes',
    'esbuild output (minified ESM), by origin from the metafile.',
    table(
      'Pattern|Bytes|this library|AWS SDK (+ Smithy)|@aws-crypto|@middy|other deps|function'.split(
        '|',
      ),
      Object.entries(r.bytes).map(([p, { bytes, bytesBy }]) => [
        code(p),
        `**${thousands(bytes)}**`,
        ...['library', 'aws-sdk', 'aws-crypto', 'middy', 'other', 'function'].map((origin) =>
          bytesBy[origin] ? thousands(bytesBy[origin]) : '–',
        ),
      ]),
    ),
  ),
  ...section(
    '## Peak memory (MB)',
    "Peak RSS of the runtime's process (VmHWM) at the first invocation's answer.",
    coldByN(r, ALL, (s) => s.rssKb / 1024),
  ),
]

const warmSections = (r: Results) => [
  ...section(
    `## Warm invocations (N = ${WARM_N})`,
    `One process per variant and round (${r.warm.rounds.length} rounds): the function, bare Middy and \`empty-middleware\` (the floor of any middleware) on one heap, ${thousands(r.warm.invocations)} invocations each in 20 tinybench batches; "over" is the median per-batch difference. "default options": without \`setToContext\`. \`ssm-like\` copies per invocation as \`@middy/ssm\` does. KMS requests: during the timed loops, all rounds.`,
    table(
      'Variant|ns per invoke|over bare Middy|over the `empty-middleware` floor|KMS requests'.split(
        '|',
      ),
      WARM_VARIANTS.map(({ label }) => [
        variant(label),
        range(warm(r, label, 'ns'), (v) => v.toFixed(0)),
        `${range(warm(r, label, 'overBare'), ns)} ns`,
        `${range(warm(r, label, 'overFloor'), ns)} ns`,
        String(sum(warm(r, label, 'kms'))),
      ]),
    ),
  ),
  ...section(
    '## Log-leak guard (`redactLogs`) cost per log line',
    `\`console.log\` of a 100-character line to /dev/null after \`loadSecrets()\` of ${r.log.secrets} secrets, without and with \`redactLogs\`; ${thousands(r.log.lines)} lines each, median over ${r.log.rounds.length} rounds.`,
    table(
      ['Line', 'plain ns/line', 'guarded ns/line', 'guard cost'],
      (
        [
          ['no secret in it', 'cleanNs'],
          ['holds a secret (masked when guarded)', 'leakyNs'],
        ] as const
      ).map(([label, line]) => {
        const [plain, guarded] = ['plain', 'guarded'].map((m) =>
          median(of(r.log.rounds, m, (v) => v[line])),
        ) as [number, number]
        const cost = `${ns(guarded - plain)} ns (${times(guarded / plain)})`
        return [label, fixed(plain), fixed(guarded), cost]
      }),
    ),
  ),
]

const burstSections = (r: Results) => {
  const { n, results, ratePerSecond: rate, timeoutMs, capacityPerSecond } = r.burst
  const count = results[0]?.count ?? 0
  return [
    ...section(
      '## At scale: a burst of concurrent cold starts',
      `${count} cold starts at once (N = ${n}), the proxy answering \`ThrottlingException\` above **${thousands(rate)} Decrypt requests per second**, the account's quota here. Simulated in one process: each cold start is \`loadSecrets()\` with its own \`KMSClient\` (standard retries). One thread signs every request, so the deadline is ${thousands(timeoutMs / 1000)} s and the requests spread out: milder than a real fleet's ${thousands(count * n)} at once. Admitted requests queue for moto (~${thousands(capacityPerSecond)} Decrypt/s): real KMS answers in milliseconds.`,
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
    ),
    ...section(
      '### Real fleets: cold starts per second × KMS calls vs the Decrypt quota',
      `The account's shared quota is ${QUOTAS.map(thousands).join(', ')} requests per second by region. Cells: per-variable (N = 20) / bundle share of it; over 100% means throttling, retries and failed cold starts.`,
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
            (q) => `${Math.round((rate * 2000) / q)}% / ${Math.round((rate * 100) / q)}%`,
          ),
        ]),
      ),
    ),
  ]
}

const closing = (r: Results) => [
  ...section(
    '## Environment size',
    `Bytes of the encrypted variables (names + values); Lambda allows ${thousands(ENV_LIMIT)} for all of them.`,
    table(
      ['N', 'naive / per-variable', 'bundle', 'esdk'],
      r.sizes.map((n) => [
        String(n),
        ...['per-variable', 'bundle', 'esdk'].map((p) => {
          const bytes = r.envBytes[`${p}|${n}`] ?? 0
          return `${thousands(bytes)}${bytes > ENV_LIMIT ? ' (over the limit)' : ''}`
        }),
      ]),
    ),
  ),
  ...(r.tracing
    ? section(
        '## X-Ray tracing at cold start',
        `secure-items' module load, median of ${r.tracing.rounds} fresh processes: tracing on (as in Lambda), off (\`POWERTOOLS_TRACE_ENABLED=false\`) and with the tracing module stubbed out; bundle ${thousands(r.tracing.bytes.withTracing / 1024)} KB, ${thousands(r.tracing.bytes.without / 1024)} KB without tracing code.`,
        table(
          ['variant', 'load ms (wall)', 'load ms (CPU)', 'vs no tracing code'],
          TRACING.map((v) => {
            const { wall, cpu } = r.tracing?.loadMs[v] ?? { wall: Number.NaN, cpu: Number.NaN }
            const none = r.tracing?.loadMs[TRACING[0] as string]?.wall ?? Number.NaN
            return [v, wall.toFixed(1), cpu.toFixed(1), times(wall / none)]
          }),
        ),
      )
    : []),
  '## What this does not measure',
  '',
  "- Lambda's sandbox (Firecracker, CPU share by memory size): the runtime client and Node are real.",
  `- Real KMS: here ${r.latencyMs} ms injected plus moto's service time on loopback.`,
  '- A quiet machine: this one is shared; read medians, paired differences and ratios.',
  '',
]

export const renderMarkdown = (r: Results): string =>
  `${[...head(r), ...coldSections(r), ...warmSections(r), ...burstSections(r), ...closing(r)].join('\n').trimEnd()}\n`
