// Cold starts as Lambda runs them: each bundled function started under aws-lambda-ric (the
// runtime client Lambda's Node runtime is built on) behind the loopback Runtime API, so that a
// figure holds what Lambda's runtime loads before the handler (node:http among it) and nothing
// else. Timed from the spawn of the process to INIT done (the runtime's first GET /next: Node,
// the runtime client and the function's module loaded) and to the first invocation's answer.

import { readFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { performance } from 'node:perf_hooks'
import { ricEntry } from '../local/ric.ts'
import { type RuntimeOutcome, startRuntimeApi } from '../local/runtime-api.ts'
import { type BuiltFunction, PATTERNS } from './build.ts'
import { type Bench, functionEnv, progress, SIZES } from './phases.ts'
import { spawnNode } from './proc.ts'
import { type ColdSample, cellKey } from './results.ts'
import { DECRYPT, FUNCTION_NAME } from './stack.ts'
import { rotate } from './stats.ts'

/** Peak RSS of a live process in KB (Linux's VmHWM), NaN where there is no /proc. */
const peakRssKb = (pid: number | undefined): number => {
  try {
    return Number(/^VmHWM:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1])
  } catch {
    return Number.NaN
  }
}

const check = (file: string, outcome: RuntimeOutcome, stderr: string): void => {
  if (outcome.ok) return
  throw new Error(
    `${basename(file)} under aws-lambda-ric: ${JSON.stringify(outcome.error)}\n${stderr}`,
  )
}

/** Starts `file` (a bundled .mjs exporting `handler`) under aws-lambda-ric and invokes it once. */
export const ricStart = async (file: string, env: NodeJS.ProcessEnv, payload: unknown) => {
  const entry = ricEntry(progress)
  const api = await startRuntimeApi()
  const started = performance.now()
  const { child, stderr, exited } = spawnNode(
    [entry],
    {
      PATH: process.env.PATH,
      ...env,
      // What Lambda's runtime sets besides: the runtime client refuses to start without them.
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${FUNCTION_NAME}`,
      AWS_LAMBDA_LOG_STREAM_NAME: 'bench',
      AWS_LAMBDA_RUNTIME_API: api.address,
      LAMBDA_TASK_ROOT: dirname(file),
      _HANDLER: `${basename(file, '.mjs')}.handler`,
    },
    { cwd: dirname(file) },
  )
  const died = exited.then(
    (code): RuntimeOutcome => ({
      ok: false,
      error: { errorType: 'Runtime.ExitError', errorMessage: `exit ${code}` },
    }),
  )
  try {
    const init = await Promise.race([died, api.init])
    const initMs = performance.now() - started
    check(file, init, stderr())
    const outcome = await Promise.race([
      died,
      api.invoke({
        payload,
        requestId: 'bench-cold-start',
        deadlineMs: Date.now() + 60_000,
        invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION_NAME}`,
        traceId: 'Root=1-00000000-000000000000000000000000;Sampled=0',
      }),
    ])
    const firstMs = performance.now() - started
    const rssKb = peakRssKb(child.pid)
    check(file, outcome, stderr())
    return { initMs, firstMs, rssKb, value: (outcome as { value: unknown }).value }
  } finally {
    child.kill('SIGKILL')
    await api.close()
  }
}

/** Fresh runtime per cold start, one at a time, round-robin over N and the patterns. */
export const coldStarts = async (bench: Bench): Promise<Record<string, ColdSample[]>> => {
  const { proxy } = bench.stack
  const cold: Record<string, ColdSample[]> = {}
  for (let run = 0; run < bench.options.runs; run++) {
    for (const [i, n] of SIZES.entries()) {
      for (const pattern of rotate(PATTERNS, run + i)) {
        const what = `cold start ${pattern} N=${n}`
        const env = functionEnv(bench, pattern, n)
        const { file } = bench.functions.get(pattern) as BuiltFunction
        proxy.resetCounts()
        const { value, ...times } = await ricStart(file, env, { verify: true })
        const decrypts = proxy.counts()[DECRYPT] ?? 0
        // The bare functions answer no digest and expect none.
        if ((value as { digest?: string } | null)?.digest !== env.BENCH_EXPECT) {
          throw new Error(`${what} decrypted wrong values`)
        }
        if (env.BENCH_EXPECT && decrypts === 0)
          throw new Error(`${what}: no Decrypt reached the proxy`)
        cold[cellKey(pattern, n)] = [...(cold[cellKey(pattern, n)] ?? []), { ...times, decrypts }]
      }
      const last = (p: string) => cold[cellKey(p, n)]?.at(-1)?.firstMs.toFixed(0)
      progress(
        `cold starts, run ${run + 1}/${bench.options.runs}, N=${n} (spawn → first response, ms): ${PATTERNS.map((p) => `${p} ${last(p)}`).join(', ')}`,
      )
    }
  }
  return cold
}
