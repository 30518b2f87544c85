// SecretsCache timers: a cleared cache is not refilled behind the caller's back, and a
// value stored inline cancels the refresh the previous one scheduled.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SecretsCache } from '../../src/core/loader.ts'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

const counter = () => {
  let n = 0
  const fetch = vi.fn(async () => {
    n += 1
    return `v${n}`
  })
  return fetch
}

/** A cache of `fetch` expiring after 1 s, filled, then peeked 1 ms before its expiry and at it. */
const peekAroundExpiry = async (fetch: () => Promise<string>) => {
  const cache = new SecretsCache(fetch, 1000)
  await cache.get()
  await vi.advanceTimersByTimeAsync(999)
  const before = cache.peek()
  await vi.advanceTimersByTimeAsync(1)
  return { before, at: cache.peek() }
}

describe('SecretsCache with cacheExpiry > 0', () => {
  it('clear() cancels the background refresh: nothing is fetched until asked', async () => {
    // Prepare
    const fetch = counter()
    const cache = new SecretsCache(fetch, 1000)
    await cache.get()
    // Act
    cache.clear()
    await vi.advanceTimersByTimeAsync(5000)
    // Assess
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(cache.peek()).toBeUndefined()
  })

  it('a value fetched inline at expiry cancels the refresh scheduled for the old one', async () => {
    // Prepare: timers are fake, the clock is real (and jumps, as after a Lambda freeze)
    vi.useRealTimers()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const fetch = counter()
    const cache = new SecretsCache(fetch, 1000)
    await cache.get()
    await vi.advanceTimersByTimeAsync(500)
    // Act: the clock is past the expiry while the refresh timer is still 500 ms away
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 1000)
    const inline = await cache.get()
    await vi.advanceTimersByTimeAsync(500)
    // Assess: one inline fetch, and the old timer did not fetch again
    expect(inline).toBe('v2')
    expect(fetch).toHaveBeenCalledTimes(2)
  })

  it('refreshes ahead of expiry: the call at the expiry finds the new value ready', async () => {
    // Prepare
    const fetch = counter()
    // Act: just before the old value's expiry, then at it
    const { before, at } = await peekAroundExpiry(fetch)
    // Assess: the refresh ran in the background, before anyone asked
    expect(fetch).toHaveBeenCalledTimes(2)
    expect(before).toBe('v2')
    expect(at).toBe('v2')
  })

  it('a failed early refresh serves the old value until its own expiry, never past it', async () => {
    // Prepare: the refresh fails (a key disabled meanwhile)
    const fetch = vi.fn<() => Promise<string>>().mockResolvedValueOnce('v1')
    fetch.mockRejectedValue(new Error('DisabledException'))
    // Act
    const { before, at: after } = await peekAroundExpiry(fetch)
    // Assess
    expect(fetch).toHaveBeenCalledTimes(2)
    expect(before).toBe('v1')
    expect(after).toBeUndefined()
  })
})
