import { defineConfig, type TestProjectConfiguration } from 'vitest/config'
import { findTool, type Tool, toolNotFoundMessage } from './scripts/local/tools.ts'
import { formatSource } from './test/support/format-source.ts'
import { sayLast } from './test/support/last-word.ts'

// The projects that run external tools, and which. The unit project needs none: it runs
// anywhere (fresh HOME, no pyenv). A project whose tools are missing is left out, and
// the one-line cause of each missing tool is the last thing the run prints (and fails it).
const NEEDS: Record<string, Tool[]> = {
  integration: ['moto_server', 'aws'],
  template: ['moto_server', 'cfn-lint'],
}

// The projects this run asked for: --project, or the test/<project>/ folders of the
// file filters; all of them otherwise.
const argv = process.argv.slice(2)
const asked = argv.flatMap((arg, i) =>
  arg === '--project' ? [argv[i + 1] ?? ''] : arg.startsWith('--project=') ? [arg.slice(10)] : [],
)
const folders = argv.filter((arg) => arg.startsWith('test/')).map((arg) => arg.split('/')[1])
const wanted = (name: string) =>
  asked.length > 0 ? asked.includes(name) : folders.length === 0 || folders.includes(name)

const missing = new Set<Tool>()
const runnable = (name: string) => {
  const lacking = (NEEDS[name] ?? []).filter((tool) => !findTool(tool))
  if (wanted(name)) for (const tool of lacking) missing.add(tool)
  return lacking.length === 0
}

const projects: TestProjectConfiguration[] = [
  {
    extends: true,
    test: {
      name: 'unit',
      include: ['test/unit/**/*.test.ts'],
      typecheck: { enabled: true, include: ['test/unit/**/*.test-d.ts'] },
    },
  },
  {
    extends: true,
    test: {
      name: 'integration',
      include: ['test/integration/**/*.test.ts'],
      globalSetup: ['test/integration/global-setup.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  },
  {
    extends: true,
    test: {
      name: 'template',
      include: ['test/template/**/*.test.ts'],
      globalSetup: ['test/template/global-setup.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  },
].filter((project) => runnable(project.test.name))

for (const tool of missing) {
  sayLast(`${toolNotFoundMessage(tool)} (the tests that need it did not run)`)
}

// The unit project typechecks test-d files (vitest calls that experimental, on every run).
process.env.VITEST_DISABLE_EXPERIMENTAL_LOG ??= 'true'

export default defineConfig({
  resolve: { alias: formatSource },
  test: {
    // What the code under test logs (Powertools' JSON lines and notices) is shown for the
    // failed tests only.
    silent: 'passed-only',
    // Every project: prints the failed tests after everything else (test/support/last-word.ts).
    globalSetup: ['test/support/last-word.ts'],
    coverage: {
      provider: 'v8',
      // The library (src/) and the CLI (cli/src/).
      include: ['src/**/*.ts', 'cli/src/**/*.ts'],
      // The table lists only the files under 100%: a full run shows the totals alone.
      reporter: ['text-summary', ['text', { skipFull: true }], 'json-summary'],
      // Middy's own bar for its middlewares.
      thresholds: { lines: 100, branches: 100, functions: 100, statements: 100 },
    },
    projects,
  },
})
