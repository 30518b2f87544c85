import { defineConfig } from 'vitest/config'
import { formatSource } from './test/support/format-source.ts'

// Mutation testing runs the unit tests of src/ only: integration tests exercise the
// built package in child processes, which Stryker's instrumentation cannot see.
// security-rules.test.ts is left out too: it lints the git work tree (git ls-files),
// which is empty inside Stryker's gitignored sandbox, and it tests no code of src/.
export default defineConfig({
  resolve: { alias: formatSource },
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: ['test/unit/local/**', 'test/unit/secure-*/**', 'test/unit/security-rules.test.ts'],
  },
})
