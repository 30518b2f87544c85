// The lines of the report npm start prints on stdout: names only, every value masked with the
// same four stars whatever its length.

import { median } from '../bench/stats.ts'
import { DECRYPTED, type FunctionRun } from './functions.ts'

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

export function encryptedLines(alias: string, names: Record<string, string>, commands: string[]) {
  const [items, fetch] = [names.SecureItemsFunction, names.SecureFetchFunction]
  const rows = [
    ['API_TOKEN', `for ${fetch}`, '****  raw KMS value, from stdin'],
    ['DATA_KEY', `for ${items}`, '****  raw KMS value, 32 random bytes from --in FILE'],
    ['CLIENT_TLS_FILE', `for ${fetch}`, 'secrets file client-tls.kse: cert ****, key ****'],
  ]
  return [
    `Encrypted with kms-secrets under ${alias} (names only, values masked)`,
    ...columns(rows, 2),
    '  with:',
    ...commands.map((command) => `    ${command}`),
    '',
  ]
}

/** Local AWS: what the proxy saw (INIT + first call). --aws: the functions' own log lines. */
function coldDecrypts(run: FunctionRun) {
  if (run.initDecrypts !== undefined) return `${sum([run.initDecrypts, run.calls[0]?.kmsDecrypt])}`
  const logged = [...run.logs.matchAll(/"message":"secrets decrypted".*"kmsCalls":(\d+)/g)]
  return `${logged.length > 0 ? sum(logged.map((match) => Number(match[1]))) : 'n/a'}`
}

function timings(run: FunctionRun) {
  const cold = run.calls[0]
  const warm = run.calls.slice(1).map((call) => call.durationMs)
  if (cold === undefined) return { detail: 'no call completed' }
  const coldText = ms(cold.initMs + cold.durationMs)
  const first = `cold start ${coldText} (init ${ms(cold.initMs)} + first call ${ms(cold.durationMs)})`
  if (warm.length === 0) return { cold: coldText, detail: first }
  const mid = ms(median(warm))
  const range = `min ${ms(Math.min(...warm))}, max ${ms(Math.max(...warm))}`
  const detail = `${first}; warm: median ${mid} (${range}) over ${warm.length} calls`
  return { cold: coldText, warm: mid, detail }
}

/** A function's section: each call, its KMS calls and timings, then `more` lines. */
export function functionLines(run: FunctionRun, name: string | undefined, more: string[] = []) {
  const width = Math.max(12, ...run.calls.map((call) => call.request.length)) + 2
  const row = (cells: string[]) =>
    `  ${[5, 6, width, 8, 11, 5].map((w, i) => `${cells[i]}`.padEnd(w)).join('')}${cells[6]}`
  const warm = run.calls.slice(1)
  const first = run.calls[0]?.kmsDecrypt ?? 'n/a'
  const proxy = run.initDecrypts !== undefined
  const note = proxy
    ? ` (${sum(warm.map((call) => call.kmsDecrypt)) ?? 'n/a'} on ${warm.length} warm invocations) [INIT ${run.initDecrypts}, first invocation ${first}]`
    : ' (from the functions\' own "secrets decrypted" logs, warm invocations included)'
  return [
    `${run.logicalId} (${name}): decrypted ${masked(DECRYPTED[run.logicalId] ?? [])}`,
    row(['', '', 'request', 'status', 'time', 'KMS', 'result']),
    ...run.calls.map((call, i) => {
      const time = ms(i === 0 ? call.initMs + call.durationMs : call.durationMs)
      const [ok, cold] = [call.ok ? 'ok' : 'FAIL', i === 0 ? 'cold' : 'warm']
      const [status, kms] = [call.status ?? '-', call.kmsDecrypt ?? '-']
      return row([ok, cold, call.request, `${status}`, time, `${kms}`, call.summary])
    }),
    ...(run.failure ? [`  FAIL ${run.failure}`] : []),
    `  KMS Decrypt calls per cold start: ${coldDecrypts(run)}${note}`,
    `  ${timings(run).detail}`,
    ...more.map((line) => `  ${line}`),
    '',
  ]
}

export function summaryLines(runs: FunctionRun[]) {
  const rows = runs.map((run) => {
    const { cold = '-', warm = '-' } = timings(run)
    return [run.logicalId, coldDecrypts(run), cold, warm]
  })
  const head = ['', 'KMS Decrypt / cold start', 'cold start', 'warm (median)']
  return rows.length === 0 ? [] : ['Summary', ...columns([head, ...rows], 3), '']
}
