// What the demo started, stopped in reverse order at the end, on failure and on Ctrl-C.

export interface Teardown {
  /** Registers a stop/remove step (run last-in, first-out). */
  defer(what: string, step: () => unknown): void
  /** Runs every registered step once, never throws; returns the failures, one line each. */
  run(): Promise<string[]>
}

export function createTeardown(timeoutMs = 15_000): Teardown {
  const steps: Array<{ what: string; step: () => unknown }> = []
  let running: Promise<string[]> | undefined
  const runAll = async () => {
    const failures: string[] = []
    // Last in, first out; a step deferred meanwhile (Ctrl-C mid-start) still runs.
    for (let next = steps.pop(); next !== undefined; next = steps.pop()) {
      const { what, step } = next
      let timer: NodeJS.Timeout | undefined
      const late = new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`did not finish within ${timeoutMs} ms`)),
          timeoutMs,
        )
      })
      await Promise.race([Promise.resolve().then(step), late]).catch((error: Error) => {
        failures.push(`${what}: ${error.message}`)
      })
      clearTimeout(timer)
    }
    return failures
  }
  return {
    defer: (what, step) => steps.push({ what, step }),
    run: () => {
      running ??= runAll()
      return running
    },
  }
}

/**
 * SIGINT / SIGTERM / SIGHUP (terminal closed): aborts `controller` (children are killed, the
 * steps stop), runs the teardown, then exits 130 / 143 / 129. A second signal exits at once (moto's own exit hook still
 * kills its process group). Returns a function that removes the handlers.
 */
export function onInterrupt(
  controller: AbortController,
  teardown: Teardown,
  log: (line: string) => void,
): () => void {
  let interrupted = false
  const handler = (signal: NodeJS.Signals) => {
    const code = 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15)
    if (interrupted) process.exit(code)
    interrupted = true
    log(`interrupted (${signal}): stopping everything the demo started`)
    controller.abort(new Error(`interrupted (${signal})`))
    teardown.run().then(
      (failures) => {
        for (const failure of failures) log(`cleanup: ${failure}`)
        process.stderr.write(
          `npm start interrupted (${signal}): ${failures.length === 0 ? 'everything it started is stopped' : 'some cleanup failed, see above'}\n`,
        )
        process.exit(code)
      },
      () => process.exit(code),
    )
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of signals) process.on(signal, handler)
  return () => {
    for (const signal of signals) process.off(signal, handler)
  }
}
