// The report npm start prints on stdout: names only, every value masked with the same four
// stars whatever its length.

import { DECRYPTED, type FunctionRun } from './functions.ts'

export interface DemoReport {
  mode: 'local' | 'aws'
  where: string // 'moto on 127.0.0.1:1234, behind the fault proxy on 127.0.0.1:1235 (...)'
  stackName: string
  keyAlias: string
  tableName: string
  names: Record<string, string> // function names (encryption contexts) by logical id
  commands: string[]
  functions: FunctionRun[]
  upstream: string
  totalMs: number
  failures: string[] // why the demo failed, one line each (none: success)
}

const ms = (value: number) => (value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`)
const masked = (names: string[]) => names.map((name) => `${name} ****`).join(', ')
const sum = (values: Array<number | undefined>) =>
  values.reduce((a, b) => (a === undefined || b === undefined ? undefined : a + b), 0)

/** Lines of cells, each column padded to its widest cell plus `gap`. */
function columns(rows: string[][], gap: number): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((row) => `${row[i]}`.length)))
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd((widths[i] ?? 0) + gap))
  return rows.map((row) => `  ${line(row).join('')}`.trimEnd())
}

/** Local AWS: what the proxy saw (INIT + first call). --aws: the functions' own log lines. */
const coldDecrypts = (run: FunctionRun, mode: DemoReport['mode']) => {
  const logged = [...run.logs.matchAll(/"message":"secrets decrypted".*"kmsCalls":(\d+)/g)]
  const aws = logged.length > 0 ? sum(logged.map((match) => Number(match[1]))) : undefined
  return String(
    (mode === 'local' ? sum([run.initDecrypts, run.calls[0]?.kmsDecrypt]) : aws) ?? 'n/a',
  )
}

function timings(run: FunctionRun) {
  const cold = run.calls[0]
  const warm = run.calls.slice(1).map((call) => call.durationMs)
  if (cold === undefined) return { detail: 'no call completed' }
  const coldText = ms(cold.initMs + cold.durationMs)
  const detail = `cold start ${coldText} (init ${ms(cold.initMs)} + first call ${ms(cold.durationMs)})`
  if (warm.length === 0) return { cold: coldText, detail }
  const sorted = warm.sort((a, b) => a - b)
  const [low = 0, high = 0] = [sorted[(sorted.length - 1) >> 1], sorted[sorted.length >> 1]]
  const median = ms((low + high) / 2)
  const range = `min ${ms(sorted[0] ?? 0)}, max ${ms(sorted.at(-1) ?? 0)}`
  return {
    cold: coldText,
    warm: median,
    detail: `${detail}; warm: median ${median} (${range}) over ${warm.length} calls`,
  }
}

function functionLines(run: FunctionRun, report: DemoReport): string[] {
  const width = Math.max(12, ...run.calls.map((call) => call.request.length)) + 2
  const row = (cells: string[]) =>
    `  ${[5, 6, width, 8, 11, 5].map((w, i) => `${cells[i]}`.padEnd(w)).join('')}${cells[6]}`
  const warm = run.calls.slice(1)
  const note =
    report.mode === 'aws'
      ? ' (from the functions\' own "secrets decrypted" logs, warm invocations included)'
      : ` (${sum(warm.map((call) => call.kmsDecrypt)) ?? 'n/a'} on ${warm.length} warm invocations)`
  const first = run.calls[0]?.kmsDecrypt ?? 'n/a'
  const split =
    run.initDecrypts === undefined ? '' : ` [INIT ${run.initDecrypts}, first invocation ${first}]`
  return [
    `${run.logicalId} (${report.names[run.logicalId]}): decrypted ${masked(DECRYPTED[run.logicalId] ?? [])}`,
    row(['', '', 'request', 'status', 'time', 'KMS', 'result']),
    ...run.calls.map((call) => {
      const time = ms(call.cold ? call.initMs + call.durationMs : call.durationMs)
      const [ok, cold, status] = [
        call.ok ? 'ok' : 'FAIL',
        call.cold ? 'cold' : 'warm',
        call.status ?? '-',
      ]
      return row([
        ok,
        cold,
        call.request,
        `${status}`,
        time,
        `${call.kmsDecrypt ?? '-'}`,
        call.summary,
      ])
    }),
    ...(run.failure ? [`  FAIL ${run.failure}`] : []),
    `  KMS Decrypt calls per cold start: ${coldDecrypts(run, report.mode)}${warm.length > 0 ? note : ''}${split}`,
    `  ${timings(run).detail}`,
    ...(run.logicalId === 'SecureFetchFunction' && report.upstream ? [`  ${report.upstream}`] : []),
    '',
  ]
}

export function formatReport(report: DemoReport): string {
  const { names, keyAlias, functions, failures } = report
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
  const summary = functions.map((run) => {
    const { cold = '-', warm = '-' } = timings(run)
    return [run.logicalId, coldDecrypts(run, report.mode), cold, warm]
  })
  const calls = functions.reduce((n, run) => n + run.calls.length, 0)
  const seconds = (report.totalMs / 1000).toFixed(1)
  return `${[
    `middy-kms-secrets demo: ${report.mode === 'local' ? 'local AWS' : 'real AWS'}, ${report.where}`,
    `stack ${report.stackName}: KMS key ${keyAlias}, DynamoDB table ${report.tableName} (from template.yaml)`,
    '',
    ...(report.commands.length === 0
      ? []
      : [
          `Encrypted with kms-secrets under ${keyAlias} (names only, values masked)`,
          ...columns(encrypted, 2),
          '  with:',
          ...report.commands.map((command) => `    ${command}`),
          '',
        ]),
    ...functions.flatMap((run) => functionLines(run, report)),
    ...(functions.length === 0
      ? []
      : [
          'Summary',
          ...columns(
            [['', 'KMS Decrypt / cold start', 'cold start', 'warm (median)'], ...summary],
            3,
          ),
          '',
        ]),
    ...(failures.length === 0
      ? [`OK: ${calls} calls, all as expected, in ${seconds} s`]
      : failures.map((failure) => `FAILED: ${failure}`)),
  ].join('\n')}\n`
}
