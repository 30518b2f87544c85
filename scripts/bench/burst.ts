// "At scale": a burst of concurrent cold starts of one function, simulated in one
// process started by run.ts with an IPC channel:
//   node scripts/bench/burst.ts <per-variable|bundle> <cold starts> <N> <deadline ms>
// Each simulated cold start is an independent loader: loadSecrets() with its own
// cacheKey, hence its own KMSClient (own connection pool, own standard-retry state,
// SDK defaults: 3 attempts) and the given deadline, all started in the same tick once
// run.ts says 'go'.
// Timed from that start to secrets ready (or failure); module load is not included.

import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms'
import { loadSecrets } from '../../src/index.ts'
import { readyThenGo, runChild, send, startedByRun } from './ipc-child.ts'

const [mode, countText = '500', nText = '20', timeoutText = '5000'] = process.argv.slice(2)
startedByRun(
  mode === 'per-variable' || mode === 'bundle',
  'burst.ts <per-variable|bundle> [count] [N] [deadline ms]',
)
const count = Number(countText)
const n = Number(nText)
const timeout = Number(timeoutText)

let attempts = 0
let throttled = 0

/** Counts every HTTP attempt (retries included) and the throttled answers. */
class CountingKMSClient extends KMSClient {
  constructor(config: KMSClientConfig) {
    super(config)
    this.middlewareStack.add(
      (next) => async (args) => {
        attempts++
        try {
          return await next(args)
        } catch (error) {
          if ((error as Error).name === 'ThrottlingException') throttled++
          throw error
        }
      },
      { step: 'deserialize', priority: 'high', name: 'benchAttemptCounter' },
    )
  }
}

const fetchData = Object.fromEntries(
  Array.from({ length: n }, (_, i) => [
    `s${i}`,
    mode === 'bundle' ? `BUNDLE#s${i}` : `SECRET_${i}`,
  ]),
)

interface Outcome {
  ms: number
  code?: string
}

const main = async () => {
  await readyThenGo()
  const start = performance.now()
  const outcomes = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      loadSecrets({
        fetchData,
        cacheKey: `burst-${i}`,
        AwsClient: CountingKMSClient,
        timeout,
      }).then(
        (): Outcome => ({ ms: performance.now() - start }),
        (error: { code?: string; name?: string }): Outcome => ({
          ms: performance.now() - start,
          code: error.code ?? error.name ?? 'UNKNOWN',
        }),
      ),
    ),
  )
  send({ type: 'result', outcomes, attempts, throttled, wallMs: performance.now() - start })
}

runChild(main)
