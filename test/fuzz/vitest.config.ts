import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { formatSource } from '../support/format-source.ts'

// The fuzz tests: a project of their own, outside `npm test`. `npm run fuzz:ci` runs the
// short pass (FUZZ_RUNS unset: 200 runs per property), `npm run fuzz` the long one.
export default defineConfig({
  resolve: { alias: formatSource },
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    name: 'fuzz',
    include: ['test/fuzz/**/*.fuzz.test.ts'],
    // Each property sets its own timeout from FUZZ_RUNS (test/fuzz/fuzz.ts).
    testTimeout: 120_000,
  },
})
