// The report npm start prints on stdout. Pure formatting: names only, every value masked
// with the same four stars whatever its length.

import type { FunctionRun } from './functions.ts'

export const MASK = '****'

export interface EncryptedEntry {
  /** Variable (or file variable) name. */
  name: string
  /** What kind of value, e.g. 'raw KMS value'. */
  kind: string
  /** Encryption context's function name. */
  functionName: string
  /** Bundle / secrets file fields. */
  fields?: string[]
}

/** What the demo encrypts, for which function (by the names it is deployed with). */
export function encryptedEntries(names: {
  SecureItemsFunction: string
  SecureFetchFunction: string
}): EncryptedEntry[] {
  const { SecureItemsFunction: items, SecureFetchFunction: fetch } = names
  return [
    { name: 'API_TOKEN', kind: 'raw KMS value, from stdin', functionName: fetch },
    {
      name: 'DATA_KEY',
      kind: 'raw KMS value, 32 random bytes from --in FILE',
      functionName: items,
    },
    {
      name: 'CLIENT_TLS_FILE',
      kind: 'secrets file client-tls.kse',
      functionName: fetch,
      fields: ['cert', 'key'],
    },
  ]
}

export interface DemoReport {
  mode: 'local' | 'aws'
  /** Where AWS is: 'moto on 127.0.0.1:1234, behind the fault proxy on 127.0.0.1:1235'. */
  where: string
  stackName: string
  keyAlias: string
  tableName: string
  encrypted: EncryptedEntry[]
  commands: string[]
  functions: Array<FunctionRun & { functionName: string }>
  upstream:
    | { url: string; accepted: number; rejected: number; handshakes: number; tls: string[] }
    | undefined
  totalMs: number
  /** Why the demo failed, one line each (empty: success). */
  failures: string[]
}

export const ms = (value: number): string =>
  value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const masked = (names: string[]) => names.map((name) => `${name} ${MASK}`).join(', ')

const pad = (text: string, width: number) => text.padEnd(width)

/** KMS Decrypt calls of a function's cold start, as shown (with where the count comes from). */
export function coldStartDecrypts(run: FunctionRun, mode: 'local' | 'aws'): string {
  if (mode === 'local') {
    if (run.proxyDecrypts === undefined) return 'n/a'
    const own =
      run.processDecrypts !== undefined && run.processDecrypts !== run.proxyDecrypts
        ? ` (the function's own count: ${run.processDecrypts})`
        : ''
    return `${run.proxyDecrypts}${own}`
  }
  return run.processDecrypts === undefined ? 'n/a' : String(run.processDecrypts)
}

export function timings(run: FunctionRun): { cold?: string; warm?: string; detail: string } {
  const cold = run.calls.find((call) => call.cold)
  const warm = run.calls.filter((call) => !call.cold).map((call) => call.durationMs)
  if (cold === undefined) return { detail: 'no call completed' }
  const coldText = ms(cold.initMs + cold.durationMs)
  const coldDetail = `cold start ${coldText} (init ${ms(cold.initMs)} + first call ${ms(cold.durationMs)})`
  if (warm.length === 0) return { cold: coldText, detail: coldDetail }
  const warmText = ms(median(warm))
  return {
    cold: coldText,
    warm: warmText,
    detail: `${coldDetail}; warm: median ${warmText} (min ${ms(Math.min(...warm))}, max ${ms(Math.max(...warm))}) over ${warm.length} calls`,
  }
}

export function formatReport(report: DemoReport): string {
  const lines: string[] = []
  const out = (line = '') => lines.push(line)
  out(
    `middy-kms-secrets demo: ${report.mode === 'local' ? 'local AWS' : 'real AWS'}, ${report.where}`,
  )
  out(
    `stack ${report.stackName}: KMS key ${report.keyAlias}, DynamoDB table ${report.tableName} (from template.yaml)`,
  )
  out()

  if (report.encrypted.length > 0) {
    out(`Encrypted with kms-secrets under ${report.keyAlias} (names only, values masked)`)
    const width = Math.max(...report.encrypted.map((entry) => entry.name.length)) + 2
    const contextWidth = Math.max(...report.encrypted.map((entry) => entry.functionName.length)) + 6
    for (const entry of report.encrypted) {
      const value = entry.fields
        ? `${entry.kind}: ${masked(entry.fields)}`
        : `${MASK}  ${entry.kind}`
      out(`  ${pad(entry.name, width)}${pad(`for ${entry.functionName}`, contextWidth)}${value}`)
    }
    out('  with:')
    for (const command of report.commands) out(`    ${command}`)
    out()
  }

  for (const run of report.functions) {
    out(`${run.logicalId} (${run.functionName}): decrypted ${masked(run.decrypted)}`)
    const requestWidth = Math.max(12, ...run.calls.map((call) => call.request.length)) + 2
    out(
      `       ${pad('', 5)} ${pad('request', requestWidth)}${pad('status', 8)}${pad('time', 11)}${pad('KMS', 5)}result`,
    )
    for (const call of run.calls) {
      const time = call.cold ? call.initMs + call.durationMs : call.durationMs
      out(
        `  ${call.ok ? 'ok  ' : 'FAIL'} ${pad(call.cold ? 'cold' : 'warm', 5)} ${pad(call.request, requestWidth)}${pad(String(call.status ?? '-'), 8)}${pad(ms(time), 11)}${pad(call.kmsDecrypt === undefined ? '-' : String(call.kmsDecrypt), 5)}${call.summary}`,
      )
    }
    if (run.failure) out(`  FAIL ${run.failure}`)
    const warmCalls = run.calls.filter((call) => !call.cold)
    const warmDecrypts = warmCalls.reduce<number | undefined>(
      (sum, call) =>
        sum === undefined || call.kmsDecrypt === undefined ? undefined : sum + call.kmsDecrypt,
      0,
    )
    const warmNote =
      report.mode === 'local' && warmCalls.length > 0
        ? ` (${warmDecrypts ?? 'n/a'} on ${warmCalls.length} warm invocations)`
        : report.mode === 'aws'
          ? ' (counted in the function process, warm invocations included)'
          : ''
    const split =
      run.initDecrypts === undefined
        ? ''
        : ` [INIT ${run.initDecrypts}, first invocation ${run.calls[0]?.kmsDecrypt ?? 'n/a'}]`
    out(
      `  KMS Decrypt calls per cold start: ${coldStartDecrypts(run, report.mode)}${warmNote}${split}`,
    )
    out(`  ${timings(run).detail}`)
    if (run.logicalId === 'SecureFetchFunction' && report.upstream) {
      const u = report.upstream
      out(
        `  upstream ${u.url}: ${u.accepted} requests with the right bearer token, ${u.rejected} rejected; mutual TLS (${[...new Set(u.tls)].join(', ') || 'no handshake'}), ${u.handshakes} TLS handshake${u.handshakes === 1 ? '' : 's'} (keep-alive)`,
      )
    }
    out()
  }

  if (report.functions.length > 0) {
    out('Summary')
    const rows: string[][] = [
      ['', 'KMS Decrypt / cold start', 'cold start', 'warm (median)'],
      ...report.functions.map((run) => {
        const t = timings(run)
        return [run.logicalId, coldStartDecrypts(run, report.mode), t.cold ?? '-', t.warm ?? '-']
      }),
    ]
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => (row[i] ?? '').length)))
    for (const row of rows) {
      out(
        `  ${row
          .map((cell, i) => pad(cell, (widths[i] ?? 0) + 3))
          .join('')
          .trimEnd()}`,
      )
    }
    out()
  }

  const calls = report.functions.reduce((sum, run) => sum + run.calls.length, 0)
  const seconds = (report.totalMs / 1000).toFixed(1)
  if (report.failures.length === 0) {
    out(`OK: ${calls} calls, all as expected, in ${seconds} s`)
  } else {
    for (const failure of report.failures) out(`FAILED: ${failure}`)
  }
  return `${lines.join('\n')}\n`
}
