// The child's side of runNodeIpc (proc.ts): a benchmark process started by run.ts with an
// IPC channel says 'ready', waits for 'go', and answers with one 'result' or 'error'.

import type { IpcMessage } from './proc.ts'

/** Exits 2 with the usage line unless the arguments are right and run.ts started us. */
export function startedByRun(argsOk: unknown, usage: string): asserts argsOk {
  if (!argsOk || !process.send) {
    process.stderr.write(`usage: started by run.ts with IPC: ${usage}\n`)
    process.exit(2)
  }
}

/** Sends one message to run.ts. */
export const send = (message: IpcMessage): void => {
  process.send?.(message)
}

/** Says 'ready'; resolves on run.ts's 'go'. */
export const readyThenGo = (): Promise<void> => {
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()))
  send({ type: 'ready' })
  return go
}

/** Runs main; a failure goes back as 'error' (exit code 1). Disconnects either way. */
export const runChild = (main: () => Promise<void>): void => {
  main().then(
    () => process.disconnect(),
    (error: Error) => {
      send({ type: 'error', message: `${error.name}: ${error.message}` })
      process.disconnect()
      process.exitCode = 1
    },
  )
}
