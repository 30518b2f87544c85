// "At scale": a burst of concurrent cold starts of one function, simulated in one process (a
// proc.ts worker): node scripts/bench/burst.ts <per-variable|bundle> <cold starts> <N> <deadline ms>
// Each simulated cold start is an independent loader: loadSecrets() with its own cacheKey,
// hence its own KMSClient (own connection pool and standard-retry state, SDK defaults: 3
// attempts) and the given deadline, all started in the same tick on the parent's 'go'.
// Timed from that start to the secrets ready (or the failure); module load not included.

import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms'
import { loadSecrets } from '../../src/index.ts'
import { worker } from './proc.ts'

const [mode, count = '500', n = '20', timeout = '5000'] = process.argv.slice(2)
let throttled = 0

/** Counts the throttled answers (retries included). */
class CountingKMSClient extends KMSClient {
  constructor(config: KMSClientConfig) {
    super(config)
    this.middlewareStack.add(
      (next) => (args) =>
        next(args).catch((error: Error) => {
          if (error.name === 'ThrottlingException') throttled++
          throw error
        }),
      { step: 'deserialize', priority: 'high', name: 'benchThrottleCounter' },
    )
  }
}

const usage = 'burst.ts <per-variable|bundle> [count] [N] [deadline ms]'
worker(usage, mode === 'per-variable' || mode === 'bundle', async (go) => {
  const fetchData = Object.fromEntries(
    Array.from({ length: Number(n) }, (_, i) => [
      `s${i}`,
      mode === 'bundle' ? `BUNDLE#s${i}` : `SECRET_${i}`,
    ]),
  )
  await go()
  const start = performance.now()
  const outcomes = await Promise.all(
    Array.from({ length: Number(count) }, (_, i) =>
      loadSecrets({
        fetchData,
        cacheKey: `burst-${i}`,
        AwsClient: CountingKMSClient,
        timeout: Number(timeout),
      }).then(
        () => ({ ms: performance.now() - start }),
        (error: { code?: string; name?: string }) => ({
          ms: performance.now() - start,
          code: error.code ?? error.name ?? 'UNKNOWN',
        }),
      ),
    ),
  )
  return { outcomes, throttled }
})
