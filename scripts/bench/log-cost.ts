// Cost of the redactLogs guard per log line, one process per mode (a proc.ts worker), stdout
// to /dev/null (a synchronous write, as to a file): node scripts/bench/log-cost.ts <plain|guarded> <lines>
// Both modes load the same 5 secrets with loadSecrets() (guarded: redactLogs on), then
// tinybench times console.log of a 100-character line without a secret and of one with a
// secret (masked when guarded), <lines> of each.

import { Bench } from 'tinybench'
import { loadSecrets } from '../../src/index.ts'
import { worker } from './proc.ts'

const [mode, lines = '100000'] = process.argv.slice(2)
const line100 = (text: string) => text.padEnd(100, '.').slice(0, 100)

worker('log-cost.ts <plain|guarded> [lines]', mode === 'plain' || mode === 'guarded', async () => {
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
  const bench = new Bench({ iterations: Number(lines), time: 0, throws: true })
  bench.add('clean', () => console.log(clean)).add('leaky', () => console.log(leaky))
  await bench.run()
  const ns = (name: string) => {
    const { result } = bench.getTask(name) ?? {}
    if (result?.state !== 'completed') throw new Error(`tinybench: ${result?.state}`)
    return result.latency.mean * 1e6
  }
  return { cleanNs: ns('clean'), leakyNs: ns('leaky') }
})
