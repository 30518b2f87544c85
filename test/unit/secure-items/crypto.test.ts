import { createCipheriv, createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  additionalData,
  DataKeyError,
  FORMAT_VERSION,
  importDataKey,
  open,
  type SealContext,
  SealedValueError,
  seal,
} from '../../../functions/secure-items/crypto.ts'
import { expectNoSecrets } from '../../support/no-leak.ts'

const KEY = Uint8Array.from(randomBytes(32))
const dataKey = importDataKey(KEY)
const context: SealContext = { table: 'items', owner: 'alice', id: 'item-1', attribute: 'secret' }
const SECRET = 'pässwörd€ 🔑 "quoted" \\ and more'

/** Fails with the SealedValueError reason, or 'no error' / the foreign error's name. */
const failure = (fn: () => unknown): string => {
  try {
    fn()
    return 'no error'
  } catch (error) {
    return error instanceof SealedValueError ? error.reason : String((error as Error).name)
  }
}

/** Replaces one base64url character of part `index` with another valid one. */
const alterPart = (stored: string, index: number, at = 5): string => {
  const parts = stored.split('.')
  const part = parts[index] as string
  const chars = [...part]
  chars[at] = chars[at] === 'A' ? 'B' : 'A'
  parts[index] = chars.join('')
  return parts.join('.')
}

describe('seal / open', () => {
  it('round-trips UTF-8 text in the v1 format, with a fresh IV each time', () => {
    // Act
    const first = seal(SECRET, dataKey, context)
    const second = seal(SECRET, dataKey, context)

    // Assess
    expect(first).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
    expect(first.split('.')[1]).toBe(dataKey.kid)
    expect(second).not.toBe(first)
    expect(second.split('.')[2]).not.toBe(first.split('.')[2])
    expect(open(first, dataKey, context)).toBe(SECRET)
    expect(open(second, dataKey, context)).toBe(SECRET)
    expectNoSecrets(first + second, [SECRET, KEY])
  })

  it('ciphertext length follows the plaintext length (no padding), plus IV and tag', () => {
    // Act
    const body = Buffer.from(
      seal('x'.repeat(100), dataKey, context).split('.')[3] as string,
      'base64url',
    )

    // Assess
    expect(body).toHaveLength(100 + 16)
  })

  it('matches the documented format: an independent AES-256-GCM encryption opens', () => {
    // Prepare: the layout from crypto.ts's header, built here without seal()
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', KEY, iv)
    cipher.setAAD(
      Buffer.from(JSON.stringify(['secure-items', 'v1', 'items', 'alice', 'item-1', 'secret'])),
    )
    const body = Buffer.concat([cipher.update(SECRET, 'utf8'), cipher.final(), cipher.getAuthTag()])
    const kid = createHmac('sha256', KEY)
      .update('secure-items/kid/v1')
      .digest()
      .subarray(0, 6)
      .toString('base64url')
    const stored = `v1.${kid}.${iv.toString('base64url')}.${body.toString('base64url')}`

    // Act
    const opened = open(stored, dataKey, context)

    // Assess
    expect(FORMAT_VERSION).toBe('v1')
    expect(kid).toBe(dataKey.kid)
    expect(opened).toBe(SECRET)
  })

  it('binds the AAD unambiguously: fields cannot be shifted into each other', () => {
    // Act
    const a = additionalData({ table: 'a.b', owner: 'c', id: 'd', attribute: 'secret' })
    const b = additionalData({ table: 'a', owner: 'b.c', id: 'd', attribute: 'secret' })

    // Assess
    expect(a.equals(b)).toBe(false)
  })

  it.each([
    ['another table', { table: 'items-copy' }],
    ['another owner', { owner: 'mallory' }],
    ['another id', { id: 'item-2' }],
    ['another attribute', { attribute: 'note' }],
  ])('does not open for %s (the value moved)', (_label, change) => {
    // Prepare
    const stored = seal(SECRET, dataKey, context)

    // Act
    const reason = failure(() => open(stored, dataKey, { ...context, ...change }))

    // Assess
    expect(reason).toBe('authentication')
  })

  it.each([
    ['the ciphertext', 3, 0],
    ['the tag', 3, -3],
    ['the IV', 2, 3],
  ])('detects a change to %s', (_label, part, at) => {
    // Prepare
    const stored = seal(SECRET, dataKey, context)
    const length = (stored.split('.')[part] as string).length
    // Change a character whose 6 bits all land in the data (the last one may carry padding bits).
    const tampered = alterPart(stored, part, at < 0 ? length + at : at)

    // Act
    const reason = failure(() => open(tampered, dataKey, context))

    // Assess
    expect(tampered).not.toBe(stored)
    expect(reason).toBe('authentication')
  })

  it('detects a truncated or extended ciphertext', () => {
    // Prepare
    const stored = seal(SECRET, dataKey, context)

    // Act
    const truncated = failure(() => open(stored.slice(0, -4), dataKey, context))
    const extended = failure(() => open(`${stored}AAAA`, dataKey, context))

    // Assess
    expect(truncated).toBe('authentication')
    expect(extended).toBe('authentication')
  })

  it('tells a value sealed under another data key apart from a tampered one', () => {
    // Prepare
    const otherKey = importDataKey(Uint8Array.from(randomBytes(32)))
    const stored = seal(SECRET, otherKey, context)
    const forgedKid = stored.replace(`.${otherKey.kid}.`, `.${dataKey.kid}.`)

    // Act
    const underOtherKey = failure(() => open(stored, dataKey, context))
    const withForgedKid = failure(() => open(forgedKid, dataKey, context))

    // Assess
    expect(otherKey.kid).not.toBe(dataKey.kid)
    expect(underOtherKey).toBe('other-key')
    expect(withForgedKid).toBe('authentication')
  })

  it('refuses other format versions and malformed values', () => {
    // Prepare
    const stored = seal(SECRET, dataKey, context)
    const [, kid, iv, body] = stored.split('.') as [string, string, string, string]

    // Act
    const reasons = {
      v2: failure(() => open(`v2.${kid}.${iv}.${body}`, dataKey, context)),
      noVersion: failure(() => open(`${kid}.${iv}.${body}`, dataKey, context)),
      plaintext: failure(() => open('just some text', dataKey, context)),
      empty: failure(() => open('', dataKey, context)),
      extraPart: failure(() => open(`${stored}.x`, dataKey, context)),
      padded: failure(() => open(`v1.${kid}.${iv}.${body}==`, dataKey, context)),
      standardBase64: failure(() =>
        open(`v1.${kid}.${iv}.${body.replace(/-/g, '+')}+`, dataKey, context),
      ),
      shortIv: failure(() => open(`v1.${kid}.${iv.slice(4)}.${body}`, dataKey, context)),
      noTag: failure(() => open(`v1.${kid}.${iv}.AAAA`, dataKey, context)),
      garbageVersion: failure(() => open(`version1.${kid}.${iv}.${body}`, dataKey, context)),
    }

    // Assess
    expect(reasons).toEqual({
      v2: 'unsupported-version',
      noVersion: 'malformed',
      plaintext: 'malformed',
      empty: 'malformed',
      extraPart: 'malformed',
      padded: 'malformed',
      standardBase64: 'malformed',
      shortIv: 'malformed',
      noTag: 'malformed',
      garbageVersion: 'malformed',
    })
  })

  it('never puts the value, the plaintext or the key into an error message', () => {
    // Prepare
    const stored = seal(SECRET, dataKey, context)
    const messages: string[] = []
    for (const attempt of [
      () => open(alterPart(stored, 3), dataKey, context),
      () => open(stored, dataKey, { ...context, id: 'x' }),
      () => open(`v9.${stored.slice(3)}`, dataKey, context),
      () => open(stored.replace(/\./g, '!'), dataKey, context),
    ]) {
      try {
        attempt()
      } catch (error) {
        messages.push(String(error), JSON.stringify(error), (error as Error).stack ?? '')
      }
    }

    // Assess
    expect(messages).toHaveLength(12)
    expectNoSecrets(messages.join('\n'), [SECRET, KEY, stored, stored.split('.')[3] as string])
  })
})

describe('importDataKey', () => {
  it('refuses anything but 32 bytes, naming only the length', () => {
    // Prepare
    const short = Uint8Array.from(randomBytes(16))

    // Act
    const attempt = () => importDataKey(short)

    // Assess
    expect(attempt).toThrow(DataKeyError)
    expect(attempt).toThrow(/32 bytes, not 16/)
    try {
      attempt()
    } catch (error) {
      expectNoSecrets(String(error), [short])
    }
  })

  it('keeps the key bytes out of anything that serializes or inspects it', async () => {
    // Prepare
    const { inspect } = await import('node:util')

    // Act
    const shown = `${JSON.stringify(dataKey)} ${inspect(dataKey, { depth: 5, showHidden: true })}`

    // Assess
    expect(dataKey.key.symmetricKeySize).toBe(32)
    expectNoSecrets(shown, [KEY])
  })

  it('derives a stable key id that differs per key', () => {
    // Act
    const again = importDataKey(Uint8Array.from(KEY))
    const other = importDataKey(Uint8Array.from(randomBytes(32)))

    // Assess
    expect(again.kid).toBe(dataKey.kid)
    expect(other.kid).not.toBe(dataKey.kid)
    expect(dataKey.kid).toMatch(/^[A-Za-z0-9_-]{8}$/)
  })
})
