// Cost of the redactLogs guard per log line, in its own process started by run.ts
// with an IPC channel and stdout going to /dev/null (a synchronous write, as a file):
//   node scripts/bench/log-cost.ts <plain|guarded> <lines> <batches>
// Both modes first load the same 5 secrets with loadSecrets() (guarded: with
// redactLogs on), then time console.log of a 100-character line that holds no secret,
// and of one that holds a secret (masked when guarded), in alternating batches.
// <lines> of each; ns per line per batch.

import { performance } from 'node:perf_hooks'
import { loadSecrets } from '../../src/index.ts'
import { runChild, send, startedByRun } from './ipc-child.ts'

const [mode, linesText = '100000', batchesText = '10'] = process.argv.slice(2)
startedByRun(
  mode === 'plain' || mode === 'guarded',
  'log-cost.ts <plain|guarded> [lines] [batches]',
)
const lines = Number(linesText)
const batches = Number(batchesText)
const perBatch = Math.max(1, Math.floor(lines / batches))

const line100 = (text: string) => text.padEnd(100, '.').slice(0, 100)

const timeLines = (line: string, count: number): number => {
  const start = performance.now()
  for (let i = 0; i < count; i++) console.log(line)
  return ((performance.now() - start) * 1e6) / count
}

const main = async () => {
  const fetchData = Object.fromEntries(
    Array.from({ length: 5 }, (_, i) => [`s${i}`, `SECRET_${i}`]),
  )
  const secrets = (await loadSecrets({ fetchData, redactLogs: mode === 'guarded' })) as Record<
    string,
    string
  >
  const clean = line100(
    'INFO request handled: GET /items/12345 status=200 duration=12.3ms user=u-789 region=us-east-1',
  )
  const leaky = line100(`DEBUG calling upstream with token=${secrets.s0} attempt=1`)
  for (let i = 0; i < 4; i++) {
    timeLines(clean, Math.min(5_000, perBatch))
    timeLines(leaky, Math.min(5_000, perBatch))
  }
  // Batches alternate between the two lines (order flipped each batch).
  const cleanNs: number[] = []
  const leakyNs: number[] = []
  for (let b = 0; b < batches; b++) {
    if (b % 2 === 0) {
      cleanNs.push(timeLines(clean, perBatch))
      leakyNs.push(timeLines(leaky, perBatch))
    } else {
      leakyNs.push(timeLines(leaky, perBatch))
      cleanNs.push(timeLines(clean, perBatch))
    }
  }
  send({ type: 'result', cleanNs, leakyNs })
}

runChild(main)
