// Vitest globalSetup of the integration project: one real moto server for the
// whole run, on a free 127.0.0.1 port. Test files get its endpoint with
// `inject('motoEndpoint')` and put their own fault proxy in front of it when
// they need faults or counts. moto's state is shared by every test file, which
// may run in parallel: create your own keys/tables, never reset the server.

import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { startMoto } from '../../scripts/local/moto.ts'
import { TMP_DIR } from '../support/child.ts'
import { assertNoLeaks, recordOutput, startLeakLog } from '../support/leak-log.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto()
  project.provide('motoEndpoint', moto.endpoint)
  // Leak check of the whole run: every child output against every registered secret;
  // a hit throws here, which fails the run (test/support/leak-log.ts).
  const leakLog = startLeakLog(join(TMP_DIR, 'leak-log'))
  project.provide('leakLogDir', leakLog)
  return async () => {
    const motoLog = { command: 'moto_server', args: [], stdout: '', stderr: moto.stderrTail() }
    recordOutput(motoLog, leakLog)
    await moto.stop()
    const report = assertNoLeaks(leakLog)
    console.log(
      `leak check: ${report.outputs} child outputs (${report.characters} characters, ${report.disclosed} --show stdout skipped) x ${report.secrets} registered secrets: no leak`,
    )
  }
}
