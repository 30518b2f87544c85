import { defineConfig } from 'vitest/config'

// Mutation testing runs the unit tests of src/ only: integration tests exercise the
// built package in child processes, which Stryker's instrumentation cannot see.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: ['test/unit/local/**', 'test/unit/secure-*/**'],
  },
})
