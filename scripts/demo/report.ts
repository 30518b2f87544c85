// The report npm start prints on stdout: names only, every value masked with the same four
// stars whatever its length.

import type { FunctionRun } from './functions.ts'

export interface DemoReport {
  mode: 'local' | 'aws'
  /** Where AWS is: 'moto on 127.0.0.1:1234, behind the fault proxy on 127.0.0.1:1235'. */
  where: string
  stackName: string
  keyAlias: string
  tableName: string
  /** Function names by logical id (the encryption contexts). */
  names: Record<string, string>
  commands: string[]
  functions: FunctionRun[]
  /** The HTTPS upstream's line. */
  upstream: string
  totalMs: number
  /** Why the demo failed, one line each (empty: success). */
  failures: string[]
}

const ms = (value: number) => (value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`)
const masked = (names: string[]) => names.map((name) => `${name} ****`).join(', ')
const sum = (values: Array<number | undefined>) =>
  values.reduce((a, b) => (a === undefined || b === undefined ? undefined : a + b), 0)

/** Lines of cells, each column padded to its widest cell plus `gap`. */
function columns(rows: string[][], gap: number, indent = '  '): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)))
  return rows.map((row) =>
    `${indent}${row.map((cell, i) => cell.padEnd((widths[i] ?? 0) + gap)).join('')}`.trimEnd(),
  )
}

/** KMS Decrypt calls of a cold start: the proxy's (INIT + first call), else the process's. */
const coldDecrypts = (run: FunctionRun, mode: DemoReport['mode']) =>
  String(
    (mode === 'local' ? sum([run.initDecrypts, run.calls[0]?.kmsDecrypt]) : run.processDecrypts) ??
      'n/a',
  )

function timings(run: FunctionRun) {
  const cold = run.calls[0]
  const warm = run.calls.slice(1).map((call) => call.durationMs)
  if (cold === undefined) return { detail: 'no call completed' }
  const coldText = ms(cold.initMs + cold.durationMs)
  const detail = `cold start ${coldText} (init ${ms(cold.initMs)} + first call ${ms(cold.durationMs)})`
  if (warm.length === 0) return { cold: coldText, detail }
  const sorted = warm.sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = ms(
    sorted.length % 2
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2,
  )
  return {
    cold: coldText,
    warm: median,
    detail: `${detail}; warm: median ${median} (min ${ms(sorted[0] as number)}, max ${ms(sorted.at(-1) as number)}) over ${warm.length} calls`,
  }
}

export function formatReport(report: DemoReport): string {
  const { names, keyAlias } = report
  const lines = [
    `middy-kms-secrets demo: ${report.mode === 'local' ? 'local AWS' : 'real AWS'}, ${report.where}`,
    `stack ${report.stackName}: KMS key ${keyAlias}, DynamoDB table ${report.tableName} (from template.yaml)`,
    '',
  ]
  if (report.commands.length > 0) {
    lines.push(`Encrypted with kms-secrets under ${keyAlias} (names only, values masked)`)
    const encrypted = [
      ['API_TOKEN', `for ${names.SecureFetchFunction}`, '****  raw KMS value, from stdin'],
      [
        'DATA_KEY',
        `for ${names.SecureItemsFunction}`,
        '****  raw KMS value, 32 random bytes from --in FILE',
      ],
      [
        'CLIENT_TLS_FILE',
        `for ${names.SecureFetchFunction}`,
        'secrets file client-tls.kse: cert ****, key ****',
      ],
    ]
    lines.push(
      ...columns(encrypted, 2),
      '  with:',
      ...report.commands.map((command) => `    ${command}`),
      '',
    )
  }
  for (const run of report.functions) {
    lines.push(`${run.logicalId} (${names[run.logicalId]}): decrypted ${masked(run.decrypted)}`)
    const requestWidth = Math.max(12, ...run.calls.map((call) => call.request.length)) + 2
    const row = (cells: string[]) =>
      [5, 6, requestWidth, 8, 11, 5].map((width, i) => (cells[i] ?? '').padEnd(width)).join('') +
      (cells[6] ?? '')
    lines.push(`  ${row(['', '', 'request', 'status', 'time', 'KMS', 'result'])}`)
    for (const call of run.calls) {
      const time = call.cold ? call.initMs + call.durationMs : call.durationMs
      const cells = [
        call.ok ? 'ok' : 'FAIL',
        call.cold ? 'cold' : 'warm',
        call.request,
        String(call.status ?? '-'),
      ]
      lines.push(`  ${row([...cells, ms(time), String(call.kmsDecrypt ?? '-'), call.summary])}`)
    }
    if (run.failure) lines.push(`  FAIL ${run.failure}`)
    const warm = run.calls.slice(1)
    const note =
      report.mode === 'aws'
        ? ' (counted in the function process, warm invocations included)'
        : warm.length > 0
          ? ` (${sum(warm.map((call) => call.kmsDecrypt)) ?? 'n/a'} on ${warm.length} warm invocations)`
          : ''
    const split =
      run.initDecrypts === undefined
        ? ''
        : ` [INIT ${run.initDecrypts}, first invocation ${run.calls[0]?.kmsDecrypt ?? 'n/a'}]`
    lines.push(
      `  KMS Decrypt calls per cold start: ${coldDecrypts(run, report.mode)}${note}${split}`,
    )
    lines.push(`  ${timings(run).detail}`)
    if (run.logicalId === 'SecureFetchFunction' && report.upstream)
      lines.push(`  ${report.upstream}`)
    lines.push('')
  }
  if (report.functions.length > 0) {
    const summary = report.functions.map((run) => {
      const t = timings(run)
      return [run.logicalId, coldDecrypts(run, report.mode), t.cold ?? '-', t.warm ?? '-']
    })
    lines.push(
      'Summary',
      ...columns([['', 'KMS Decrypt / cold start', 'cold start', 'warm (median)'], ...summary], 3),
      '',
    )
  }
  const calls = report.functions.reduce((n, run) => n + run.calls.length, 0)
  if (report.failures.length === 0) {
    lines.push(`OK: ${calls} calls, all as expected, in ${(report.totalMs / 1000).toFixed(1)} s`)
  } else {
    lines.push(...report.failures.map((failure) => `FAILED: ${failure}`))
  }
  return `${lines.join('\n')}\n`
}
