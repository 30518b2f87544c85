// Vitest globalSetup of the integration project: one real moto server for the
// whole run, on a free 127.0.0.1 port. Test files get its endpoint with
// `inject('motoEndpoint')` and put their own fault proxy in front of it when
// they need faults or counts. moto's state is shared by every test file, which
// may run in parallel: create your own keys/tables, never reset the server.

import type { TestProject } from 'vitest/node'
import { startMoto } from '../../scripts/local/moto.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto()
  project.provide('motoEndpoint', moto.endpoint)
  return async () => {
    await moto.stop()
  }
}
