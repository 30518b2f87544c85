// The samples' use of kmsSecrets' onRound: each successful round becomes one latency metric
// and one log line, in the invocation that follows it; a failed round is left to the
// invocation that answers it.
import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'
import type { RoundReport } from 'middy-kms-secrets'
import { describe, expect, it, vi } from 'vitest'
import { decryptRounds } from '../../../functions/shared/decrypt-rounds.ts'

const round = (durationMs: number, error?: Error): RoundReport => ({
  startedAt: Date.now(),
  durationMs,
  secrets: 3,
  kmsCalls: 2,
  error,
})

const setup = () => {
  const metrics = new Metrics({ namespace: 'Unit', serviceName: 'unit' })
  const logger = new Logger({ serviceName: 'unit' })
  const addMetric = vi.spyOn(metrics, 'addMetric').mockReturnValue(metrics)
  const info = vi.spyOn(logger, 'info').mockImplementation(() => {})
  const { onRound, reportRound } = decryptRounds(metrics, logger, 'DecryptLatency')
  const invoke = () => reportRound.before?.({} as never)
  return { addMetric, info, onRound, invoke }
}

describe('decryptRounds', () => {
  it('reports a round once, rounded, in the next invocation', () => {
    // Prepare
    const { addMetric, info, onRound, invoke } = setup()
    onRound(round(12.6))

    // Act
    invoke()
    invoke()

    // Assess
    expect(addMetric.mock.calls).toEqual([['DecryptLatency', 'Milliseconds', 13]])
    expect(info.mock.calls).toEqual([['secrets decrypted', { durationMs: 13, kmsCalls: 2 }]])
  })

  it('reports nothing for a failed round, then the round that succeeds', () => {
    // Prepare
    const { addMetric, onRound, invoke } = setup()

    // Act
    onRound(round(5, new Error('throttled')))
    invoke()
    onRound(round(7))
    invoke()

    // Assess
    expect(addMetric.mock.calls).toEqual([['DecryptLatency', 'Milliseconds', 7]])
  })
})
