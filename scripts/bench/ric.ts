// Cold starts as Lambda runs them: each bundled function started under aws-lambda-ric (the
// runtime client of Lambda's Node runtime) behind a loopback Runtime API, timed from the
// process's spawn to its first invocation's response (INIT + first invoke, Node's own
// start-up included). What `/lite` and the SDK path add to a bare handler is the figure
// toward the physical limit: a bare handler + loading node:https + one KMS round trip.

import { spawn } from 'node:child_process'
import { basename, dirname } from 'node:path'
import { performance } from 'node:perf_hooks'
import { ricEntry } from '../local/ric.ts'
import { type RuntimeOutcome, startRuntimeApi } from '../local/runtime-api.ts'
import type { BuiltFunction, Pattern } from './build.ts'
import { type Bench, functionEnv, progress, rotate } from './phases.ts'
import { track } from './proc.ts'
import { digest } from './stack.ts'
import { bootstrap, median } from './stats.ts'
import { table } from './table.ts'

/** The bare handler and the two ways to decrypt one secret (one KMS call each). */
export const RIC_PATTERNS = ['bare-middy', 'per-variable-lite', 'per-variable'] as const
export type RicPattern = (typeof RIC_PATTERNS)[number]
export const RIC_N = 1

/** ms from spawn to the first response, per pattern, in one round. */
export type RicRound = Record<RicPattern, number>

const ricColdStart = async (bench: Bench, pattern: Pattern, entry: string): Promise<number> => {
  const { file } = bench.functions.get(pattern) as BuiltFunction
  const api = await startRuntimeApi()
  const started = performance.now()
  const child = track(
    spawn(process.execPath, [entry], {
      cwd: dirname(file),
      env: {
        PATH: process.env.PATH,
        ...functionEnv(bench, pattern, RIC_N),
        // What Lambda's runtime sets besides: the runtime client refuses to start without it.
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/bench-fn',
        AWS_LAMBDA_LOG_STREAM_NAME: 'bench',
        AWS_LAMBDA_RUNTIME_API: api.address,
        LAMBDA_TASK_ROOT: dirname(file),
        _HANDLER: `${basename(file, '.mjs')}.handler`,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  )
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<RuntimeOutcome>((resolve) =>
    child.once('exit', (code) =>
      resolve({
        ok: false,
        error: { errorType: 'Runtime.ExitError', errorMessage: `exit ${code}` },
      }),
    ),
  )
  try {
    const outcome = await Promise.race([
      exited,
      api.invoke({
        payload: { verify: true },
        requestId: 'ric-cold-start',
        deadlineMs: Date.now() + 60_000,
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench-fn',
        traceId: 'Root=1-00000000-000000000000000000000000;Sampled=0',
      }),
    ])
    const answeredMs = performance.now() - started
    const expected = pattern === 'bare-middy' ? undefined : digest(bench.secrets.slice(0, RIC_N))
    const value = outcome.ok ? (outcome.value as { digest?: string }) : undefined
    if (!outcome.ok || value?.digest !== expected) {
      throw new Error(
        `${pattern} under aws-lambda-ric: ${JSON.stringify(outcome.ok ? 'wrong values' : outcome.error)}\n${stderr.slice(-2000)}`,
      )
    }
    return answeredMs
  } finally {
    child.kill('SIGKILL')
    await api.close()
  }
}

/** Rounds of one cold start per pattern under aws-lambda-ric, order rotated each round. */
export const ricRounds = async (bench: Bench): Promise<RicRound[]> => {
  const entry = ricEntry(progress)
  const rounds: RicRound[] = []
  for (let round = 0; round < bench.options.runs; round++) {
    const times: Partial<RicRound> = {}
    for (const pattern of rotate(RIC_PATTERNS, round)) {
      times[pattern] = await ricColdStart(bench, pattern, entry)
    }
    rounds.push(times as RicRound)
  }
  return rounds
}

/** The report's section: each pattern's cold start, and what the two decrypting ones add. */
export const ricSection = (rounds: readonly RicRound[]): string[] => {
  const over = (pattern: RicPattern) => rounds.map((round) => round[pattern] - round['bare-middy'])
  const lite = over('per-variable-lite')
  const sdk = over('per-variable')
  const ratio = (a: number[], b: number[]) => median(a) / median(b)
  const [low, high] = bootstrap([lite, sdk], ratio)
  const ms = (value: number) => `${value.toFixed(0)} ms`
  return [
    '## Under aws-lambda-ric: what decrypting adds to a bare handler',
    '',
    `Each function started as Lambda starts it: aws-lambda-ric (the runtime client of Lambda's`,
    'Node runtime) behind a loopback Runtime API, timed from the spawn of its process to the',
    `answer of its first invocation (N = ${RIC_N}, one KMS call; ${rounds.length} rounds, order rotated).`,
    'The bare handler is `bare-middy`; the rest of each cold start is what decrypting adds:',
    'toward the physical limit of a bare handler + loading node:https + one KMS round trip.',
    '',
    table(
      ['Pattern', 'spawn → first response', 'over the bare handler (paired per round)'],
      RIC_PATTERNS.map((pattern) => [
        `\`${pattern}\``,
        `**${ms(median(rounds.map((round) => round[pattern])))}**`,
        pattern === 'bare-middy' ? '–' : `**${ms(median(over(pattern)))}**`,
      ]),
    ),
    '',
    `\`/lite\` adds **${ratio(lite, sdk).toFixed(2)}×** [${low.toFixed(2)}×, ${high.toFixed(2)}×] what the SDK path adds.`,
    '',
  ]
}
