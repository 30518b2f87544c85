import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { openEnvelope, parseEnvelope, sealEnvelope } from '../../src/core/envelope.ts'
import { aadOf, inputs, sealBySpec } from '../vectors/generate.ts'

interface Vector {
  description: string
  kind: 1 | 2
  dataKey: string
  encryptedKey: string
  iv: string
  context: Record<string, string>
  canonicalContext: string
  aad: string
  plaintext: string
  text: string
}

const file = new URL('../vectors/envelope-v1.json', import.meta.url)
const { format, vectors } = JSON.parse(readFileSync(file, 'utf8')) as {
  format: string
  vectors: Vector[]
}
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))

describe('envelope v1 test vectors (test/vectors/envelope-v1.json)', () => {
  it('covers both kinds, the empty plaintext and the empty context', () => {
    // Prepare / Act
    const kinds = new Set(vectors.map((v) => v.kind))
    // Assess
    expect(format).toBe('kse1')
    expect(vectors.length).toBeGreaterThanOrEqual(7)
    expect(kinds).toEqual(new Set([1, 2]))
    expect(vectors.some((v) => v.plaintext === '')).toBe(true)
    expect(vectors.some((v) => Object.keys(v.context).length === 0)).toBe(true)
  })

  describe.each(vectors.map((v) => [v.description, v] as const))('%s', (_, vector) => {
    it('sealEnvelope produces exactly the committed text', () => {
      // Prepare
      const request = {
        kind: vector.kind,
        plaintext: bytes(vector.plaintext),
        dataKey: bytes(vector.dataKey),
        encryptedKey: bytes(vector.encryptedKey),
        context: vector.context,
        iv: bytes(vector.iv),
      }
      // Act
      const text = sealEnvelope(request)
      // Assess
      expect(text).toBe(vector.text)
    })

    it('parseEnvelope splits the body as the spec says', () => {
      // Act
      const envelope = parseEnvelope(vector.text, 'VECTOR')
      // Assess
      expect(envelope.kind).toBe(vector.kind)
      expect(Buffer.from(envelope.encryptedKey).toString('hex')).toBe(vector.encryptedKey)
      expect(Buffer.from(envelope.iv).toString('hex')).toBe(vector.iv)
      expect(envelope.ciphertext.length).toBe(vector.plaintext.length / 2)
      expect(envelope.tag.length).toBe(16)
      expect(Buffer.from(envelope.header).toString('hex')).toBe(
        vector.aad.slice(10, 10 + envelope.header.length * 2),
      )
    })

    it('openEnvelope opens the committed text to the plaintext', () => {
      // Prepare
      const envelope = parseEnvelope(vector.text, 'VECTOR')
      // Act
      const plaintext = openEnvelope(envelope, bytes(vector.dataKey), vector.context, 'VECTOR')
      // Assess
      expect(plaintext.toString('hex')).toBe(vector.plaintext)
    })

    it('opens only under the same context, whatever the key order given', () => {
      // Prepare
      const envelope = parseEnvelope(vector.text, 'VECTOR')
      const reversed = Object.fromEntries(Object.entries(vector.context).reverse())
      const other = { ...vector.context, Extra: 'x' }
      // Act
      const opened = openEnvelope(envelope, bytes(vector.dataKey), reversed, 'VECTOR')
      // Assess
      expect(opened.toString('hex')).toBe(vector.plaintext)
      expect(() => openEnvelope(envelope, bytes(vector.dataKey), other, 'VECTOR')).toThrow(
        expect.objectContaining({ code: 'TAMPERED' }),
      )
    })

    it('an independent WebCrypto reading of docs/FORMAT.md gives the same AAD and text', async () => {
      // Prepare
      const input = {
        kind: vector.kind,
        dataKey: bytes(vector.dataKey),
        encryptedKey: bytes(vector.encryptedKey),
        iv: bytes(vector.iv),
        context: vector.context,
        plaintext: bytes(vector.plaintext),
      }
      // Act
      const aad = aadOf(input.kind, input.encryptedKey, input.context)
      const text = await sealBySpec(input)
      // Assess
      expect(Buffer.from(aad).toString('hex')).toBe(vector.aad)
      expect(Buffer.from(aad).toString('utf8')).toContain(vector.canonicalContext)
      expect(text).toBe(vector.text)
    })
  })

  it('the generator still describes every committed vector (none edited by hand)', async () => {
    // Act
    const regenerated = await Promise.all(inputs.map((input) => sealBySpec(input)))
    // Assess
    expect(regenerated).toEqual(vectors.map((v) => v.text))
  })
})
