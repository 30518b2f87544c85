import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { ErrorCode, KmsSecretsError } from './errors.ts'
import type { EncryptionContext } from './kms.ts'

/**
 * Envelope format v1 (docs/FORMAT.md): `kse1:` + base64(body), where body is
 *   kind (1 byte) | encrypted data key length (u16 BE) | encrypted data key
 *   | IV (12 bytes) | AES-256-GCM ciphertext | tag (16 bytes)
 * and the AAD is `kse1:` | kind..encrypted data key | canonical encryption context.
 * A raw KMS blob is plain base64, which never contains ':', so the prefix is unambiguous.
 */
export const ENVELOPE_PREFIX = 'kse1:'

export const EnvelopeKind = { Value: 1, Bundle: 2 } as const
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind]

const IV_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = 3
/** KMS CiphertextBlob is at most 6144 bytes. */
export const MAX_KMS_BLOB_BYTES = 6144

export interface Envelope {
  kind: EnvelopeKind
  encryptedKey: Uint8Array
  /** kind | key length | encrypted key: bound into the AAD. */
  header: Uint8Array
  iv: Uint8Array
  ciphertext: Uint8Array
  tag: Uint8Array
}

const base64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Strict base64 (what KMS and `aws kms encrypt` emit); anything else is malformed. */
export const decodeBase64 = (text: string, variable: string): Buffer => {
  if (text.length === 0 || text.length % 4 !== 0 || !base64.test(text)) {
    // Another version's prefix (kse1: itself is parsed by parseEnvelope, never here).
    const version = /^kse(\d+):/.exec(text)?.[1]
    throw new KmsSecretsError(
      ErrorCode.MalformedValue,
      text.length === 0
        ? 'value is empty'
        : version === undefined || version === '1'
          ? 'value is not valid base64 (truncated or altered?)'
          : `envelope format kse${version}: is not supported by this version of middy-kms-secrets (upgrade it)`,
      { variable },
    )
  }
  return Buffer.from(text, 'base64')
}

export const parseEnvelope = (text: string, variable: string): Envelope => {
  const body = decodeBase64(text.slice(ENVELOPE_PREFIX.length), variable)
  // Stryker disable next-line EqualityOperator: a body of exactly the header is truncated either way (same error)
  const keyLength = body.length >= HEADER_BYTES ? body.readUInt16BE(1) : 0
  const headerEnd = HEADER_BYTES + keyLength
  const kind = body[0]
  if (
    (kind !== EnvelopeKind.Value && kind !== EnvelopeKind.Bundle) ||
    keyLength === 0 ||
    keyLength > MAX_KMS_BLOB_BYTES ||
    body.length < headerEnd + IV_BYTES + TAG_BYTES
  ) {
    throw new KmsSecretsError(ErrorCode.MalformedValue, 'envelope is truncated or malformed', {
      variable,
    })
  }
  return {
    kind,
    encryptedKey: body.subarray(HEADER_BYTES, headerEnd),
    header: body.subarray(0, headerEnd),
    iv: body.subarray(headerEnd, headerEnd + IV_BYTES),
    ciphertext: body.subarray(headerEnd + IV_BYTES, body.length - TAG_BYTES),
    tag: body.subarray(body.length - TAG_BYTES),
  }
}

/** An encrypted value as found in a variable or file: an envelope, or a raw KMS blob. */
export type Encrypted =
  | { envelope: Envelope; blob?: undefined }
  | { blob: Uint8Array; envelope?: undefined }

/**
 * The one place that tells the two forms apart (by the `kse1:` prefix) and checks the text
 * before any KMS call: strict base64, no blob larger than any KMS ciphertext.
 */
export const parseEncrypted = (text: string, variable: string): Encrypted => {
  if (text.startsWith(ENVELOPE_PREFIX)) return { envelope: parseEnvelope(text, variable) }
  const blob = decodeBase64(text, variable)
  if (blob.length > MAX_KMS_BLOB_BYTES) {
    throw new KmsSecretsError(
      ErrorCode.MalformedValue,
      `value is ${blob.length} bytes, larger than any KMS ciphertext (${MAX_KMS_BLOB_BYTES})`,
      { variable },
    )
  }
  return { blob }
}

/** The context as bytes in a canonical order, so the AAD does not depend on key order. */
const canonicalContext = (context: EncryptionContext): Buffer => {
  // sort() with no comparator: UTF-16 code-unit order, as docs/FORMAT.md says.
  const entries = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]])
  return Buffer.from(JSON.stringify(entries))
}

const aad = (header: Uint8Array, context: EncryptionContext): Buffer =>
  Buffer.concat([Buffer.from(ENVELOPE_PREFIX), header, canonicalContext(context)])

/** Decrypts the body with the plaintext data key; any alteration fails the GCM tag. */
export const openEnvelope = (
  envelope: Envelope,
  dataKey: Uint8Array,
  context: EncryptionContext,
  variable: string,
): Buffer => {
  try {
    // Stryker disable next-line ObjectLiteral: the tag is always cut to 16 bytes, GCM's default
    const decipher = createDecipheriv('aes-256-gcm', dataKey, envelope.iv, {
      authTagLength: TAG_BYTES,
    })
    decipher.setAAD(aad(envelope.header, context))
    decipher.setAuthTag(envelope.tag)
    return Buffer.concat([decipher.update(envelope.ciphertext), decipher.final()])
  } catch {
    throw new KmsSecretsError(
      ErrorCode.Tampered,
      'envelope failed authentication: it was altered, or its encryption context differs',
      { variable },
    )
  }
}

export interface SealRequest {
  kind: EnvelopeKind
  plaintext: Uint8Array
  /** Plaintext data key (32 bytes) and the KMS blob that encrypts it, from GenerateDataKey. */
  dataKey: Uint8Array
  encryptedKey: Uint8Array
  context: EncryptionContext
  /** Fixed only by test vectors; random otherwise. */
  iv?: Uint8Array
}

export const sealEnvelope = (request: SealRequest): string => {
  const { kind, plaintext, dataKey, encryptedKey, context } = request
  const iv = request.iv ?? randomBytes(IV_BYTES)
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt8(kind, 0)
  header.writeUInt16BE(encryptedKey.length, 1)
  const fullHeader = Buffer.concat([header, encryptedKey])
  // Stryker disable next-line ObjectLiteral: 16 bytes is GCM's default tag length
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad(fullHeader, context))
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  const body = Buffer.concat([fullHeader, iv, ciphertext, cipher.getAuthTag()])
  return ENVELOPE_PREFIX + body.toString('base64')
}
