/**
 * Holds one set of secrets for the life of the container (or `cacheExpiry` ms).
 * - Single flight: concurrent callers share the one decrypt round in flight.
 * - Failures are never stored: the next call starts a new round.
 * - Past its expiry a value is never served (fail closed); a timer refreshes it in
 *   the background so warm invocations rarely wait.
 */
export class SecretsCache<V> {
  readonly #fetch: () => Promise<V>
  readonly #cacheExpiry: number
  #value: V | undefined
  #expiry = 0
  #inflight: Promise<V> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(fetch: () => Promise<V>, cacheExpiry: number) {
    this.#fetch = fetch
    this.#cacheExpiry = cacheExpiry
  }

  /** The cached value if fresh, synchronously: the warm path costs no promise. */
  peek(): V | undefined {
    if (this.#expiry === Number.POSITIVE_INFINITY || this.#expiry > Date.now()) return this.#value
    return undefined
  }

  get(): Promise<V> {
    const fresh = this.peek()
    if (fresh !== undefined) return Promise.resolve(fresh)
    this.#inflight ??= this.#refresh()
    return this.#inflight
  }

  clear(): void {
    clearTimeout(this.#timer)
    this.#value = undefined
    this.#expiry = 0
  }

  async #refresh(): Promise<V> {
    try {
      const value = await this.#fetch()
      if (this.#cacheExpiry !== 0) this.#store(value)
      return value
    } finally {
      this.#inflight = undefined
    }
  }

  #store(value: V): void {
    this.#value = value
    clearTimeout(this.#timer)
    if (this.#cacheExpiry < 0) {
      this.#expiry = Number.POSITIVE_INFINITY
      return
    }
    this.#expiry = Date.now() + this.#cacheExpiry
    // A failed background refresh leaves the value expired: the next call retries inline.
    this.#timer = setTimeout(() => {
      this.#inflight ??= this.#refresh()
      this.#inflight.catch(() => {})
    }, this.#cacheExpiry).unref()
  }
}
