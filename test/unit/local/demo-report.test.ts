// The demo's report lines for one function: where its KMS Decrypt count comes from (the fault
// proxy on the local AWS; with --aws, the functions' own "secrets decrypted" log lines).

import { describe, expect, it } from 'vitest'
import type { CallResult, FunctionRun } from '../../../scripts/demo/functions.ts'
import { functionLines } from '../../../scripts/demo/report.ts'

const call = (cold: boolean, kmsDecrypt?: number): CallResult => ({
  request: 'GET /fetch',
  ok: true,
  status: 200,
  summary: 'upstream /v1: bearer token accepted',
  initMs: cold ? 400 : 0,
  durationMs: cold ? 50 : 10,
  ...(kmsDecrypt !== undefined && { kmsDecrypt }),
})

const decrypted = (kmsCalls: number) =>
  `{"level":"INFO","message":"secrets decrypted","service":"secure-fetch","durationMs":55,"kmsCalls":${kmsCalls}}`

describe('the demo report: KMS Decrypt calls per cold start', () => {
  it('local AWS: what the proxy saw during INIT and the first call, and on the warm ones', () => {
    // Prepare
    const run: FunctionRun = {
      logicalId: 'SecureFetchFunction',
      calls: [call(true, 1), call(false, 0), call(false, 1)],
      initDecrypts: 2,
      logs: decrypted(99),
    }
    // Act
    const lines = functionLines(run, 'demo-secure-fetch', ['upstream line'])
    // Assess
    expect(lines[0]).toBe(
      'SecureFetchFunction (demo-secure-fetch): decrypted API_TOKEN ****, CLIENT_TLS_FILE#cert ****, CLIENT_TLS_FILE#key ****',
    )
    expect(lines).toContain(
      '  KMS Decrypt calls per cold start: 3 (1 on 2 warm invocations) [INIT 2, first invocation 1]',
    )
    expect(lines).toContain(
      '  cold start 450 ms (init 400 ms + first call 50.0 ms); warm: median 10.0 ms (min 10.0 ms, max 10.0 ms) over 2 calls',
    )
    expect(lines.at(-2)).toBe('  upstream line')
  })

  it("--aws (no proxy): the sum of the functions' own log lines, else n/a", () => {
    // Prepare
    const run: FunctionRun = {
      logicalId: 'SecureItemsFunction',
      calls: [call(true), call(false)],
      logs: `START\n${decrypted(1)}\nother line\n${decrypted(2)}\n`,
    }
    // Act
    const counted = functionLines(run, 'name')
    const none = functionLines({ ...run, logs: 'no decrypt line' }, 'name')
    // Assess
    const note = ' (from the functions\' own "secrets decrypted" logs, warm invocations included)'
    expect(counted).toContain(`  KMS Decrypt calls per cold start: 3${note}`)
    expect(none).toContain(`  KMS Decrypt calls per cold start: n/a${note}`)
  })
})
