// What a test run prints last, after the summary, the coverage table and every teardown:
// on failure the failed tests, then the one-line cause of anything that could not run
// (a missing moto_server, aws or cfn-lint). Printed from the process's 'exit' event, so
// nothing vitest prints can come after it. State lives on globalThis: vitest.config.ts and
// the global setups load this file as separate module instances of one process.

import { writeSync } from 'node:fs'
import type { TestProject } from 'vitest/node'

interface LastWord {
  notes: string[]
  failedTests: () => string[]
}

const KEY = Symbol.for('middy-kms-secrets.last-word')

function state(): LastWord {
  const holder = globalThis as { [KEY]?: LastWord }
  if (!holder[KEY]) {
    const created: LastWord = { notes: [], failedTests: () => [] }
    holder[KEY] = created
    process.once('exit', (code) => {
      const lines = lastLines(code, created.failedTests(), created.notes)
      if (lines.length > 0) writeSync(2, `\n${lines.join('\n')}\n`)
    })
  }
  return holder[KEY]
}

/** A line printed at the very end of the run (it fails the run). */
export function sayLast(line: string): void {
  state().notes.push(line)
  process.exitCode = 1
}

/** The lines printed at exit: the failure summary of a failed run, then the notes. */
export function lastLines(exitCode: number, failedTests: string[], notes: string[]): string[] {
  const lines: string[] = []
  // A missing tool's note is the cause already: no generic line above it.
  if (exitCode !== 0 && (failedTests.length > 0 || notes.length === 0)) {
    const shown = failedTests.slice(0, 5)
    lines.push(
      failedTests.length === 0
        ? `FAILED (exit ${exitCode}): see the errors above (unhandled errors, coverage thresholds or the leak check)`
        : `FAILED: ${failedTests.length} test${failedTests.length === 1 ? '' : 's'}: ${shown.join('; ')}${failedTests.length > shown.length ? '; …' : ''}`,
    )
  }
  return [...lines, ...notes]
}

/** Global setup (every project): the failed tests, read from vitest's state at exit. */
export default function setup(project: TestProject): void {
  state().failedTests = () =>
    project.vitest.state
      .getTestModules()
      .flatMap((module) =>
        [...module.children.allTests('failed')].map(
          (test) =>
            `${module.moduleId.slice(project.vitest.config.root.length + 1)} > ${test.fullName}`,
        ),
      )
}
