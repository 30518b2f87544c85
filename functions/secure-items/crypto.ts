// Field encryption of an item's sensitive attribute: AES-256-GCM (node:crypto) under
// the 32-byte data key the middleware decrypted from DATA_KEY, with the table name,
// the item key and the attribute name bound as additional authenticated data, so a
// ciphertext copied to another item, table or attribute does not open.
//
// Stored format (one DynamoDB string, all parts base64url without padding):
//   v1.<kid>.<iv>.<ciphertext || tag>
//   kid  6 bytes of HMAC-SHA256(dataKey, "secure-items/kid/v1"): tells a value sealed
//        under another data key (rotation) apart from a tampered one; reveals nothing
//        usable about the key
//   iv   12 random bytes; tag 16 bytes
// AAD: UTF-8 of JSON ["secure-items","v1",table,owner,id,attribute] (JSON: unambiguous).
// A random 96-bit IV per value keeps one data key safe for far more than this table
// will ever hold (NIST SP 800-38D: up to 2^32 values per key); rotate the key long before.

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto'

export const FORMAT_VERSION = 'v1'
export const DATA_KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const KID_BYTES = 6
const ALGORITHM = 'aes-256-gcm'

/** The data key, ready to use: its bytes live only inside a KeyObject (never serialized). */
export interface DataKey {
  readonly key: KeyObject
  /** Key identifier written into every value (not secret). */
  readonly kid: string
}

/** Where a value belongs: all of it is authenticated, none of it is stored in the value. */
export interface SealContext {
  table: string
  owner: string
  id: string
  attribute: string
}

export type OpenFailure =
  /** Not `v1.<kid>.<iv>.<ciphertext>` with valid base64url parts. */
  | 'malformed'
  /** A format version this code does not know. */
  | 'unsupported-version'
  /** Sealed under another data key (e.g. before a key rotation). */
  | 'other-key'
  /** The tag does not verify: the value was altered, or belongs to another item/table/attribute. */
  | 'authentication'

/** Opening a stored value failed. The message never holds the value or the key. */
export class SealedValueError extends Error {
  override readonly name = 'SealedValueError'
  readonly reason: OpenFailure
  constructor(reason: OpenFailure, message: string) {
    super(message)
    this.reason = reason
  }
}

/** The decrypted DATA_KEY is not a usable AES-256 key. */
export class DataKeyError extends Error {
  override readonly name = 'DataKeyError'
}

/** Wraps the 32 decrypted bytes in a KeyObject (a copy) and derives the key id. */
export const importDataKey = (bytes: Uint8Array): DataKey => {
  if (bytes.byteLength !== DATA_KEY_BYTES) {
    throw new DataKeyError(
      `DATA_KEY must decrypt to ${DATA_KEY_BYTES} bytes, not ${bytes.byteLength}: encrypt 32 random bytes (aws kms generate-data-key --number-of-bytes 32)`,
    )
  }
  const key = createSecretKey(bytes)
  const kid = createHmac('sha256', key)
    .update('secure-items/kid/v1')
    .digest()
    .subarray(0, KID_BYTES)
    .toString('base64url')
  return { key, kid }
}

export const additionalData = (context: SealContext): Buffer =>
  Buffer.from(
    JSON.stringify([
      'secure-items',
      FORMAT_VERSION,
      context.table,
      context.owner,
      context.id,
      context.attribute,
    ]),
    'utf8',
  )

/** Encrypts `plaintext` (UTF-8) for one attribute of one item. */
export const seal = (plaintext: string, dataKey: DataKey, context: SealContext): string => {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv(ALGORITHM, dataKey.key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(additionalData(context))
  const clear = Buffer.from(plaintext, 'utf8')
  try {
    const body = Buffer.concat([cipher.update(clear), cipher.final(), cipher.getAuthTag()])
    return [FORMAT_VERSION, dataKey.kid, iv.toString('base64url'), body.toString('base64url')].join(
      '.',
    )
  } finally {
    clear.fill(0)
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/

/** Strict base64url: only canonical text (what toString('base64url') writes) is accepted. */
const fromBase64url = (text: string): Buffer | undefined => {
  if (!BASE64URL.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64url')
  return bytes.toString('base64url') === text ? bytes : undefined
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Decrypts a value written by seal() for the same item; throws SealedValueError otherwise. */
export const open = (stored: string, dataKey: DataKey, context: SealContext): string => {
  const parts = stored.split('.')
  if (parts.length !== 4) {
    throw new SealedValueError('malformed', 'stored value is not in the sealed format')
  }
  const [version, kid, ivText, bodyText] = parts as [string, string, string, string]
  if (version !== FORMAT_VERSION) {
    throw new SealedValueError(
      /^v\d{1,3}$/.test(version) ? 'unsupported-version' : 'malformed',
      /^v\d{1,3}$/.test(version)
        ? `stored value has format ${version}; this code reads ${FORMAT_VERSION}`
        : 'stored value is not in the sealed format',
    )
  }
  const iv = fromBase64url(ivText)
  const body = fromBase64url(bodyText)
  if (!iv || iv.length !== IV_BYTES || !body || body.length < TAG_BYTES) {
    throw new SealedValueError('malformed', 'stored value is not in the sealed format')
  }
  if (kid !== dataKey.kid) {
    throw new SealedValueError('other-key', 'stored value was sealed under another data key')
  }
  const decipher = createDecipheriv(ALGORITHM, dataKey.key, iv, { authTagLength: TAG_BYTES })
  decipher.setAAD(additionalData(context))
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES))
  let clear: Buffer
  try {
    clear = Buffer.concat([
      decipher.update(body.subarray(0, body.length - TAG_BYTES)),
      decipher.final(),
    ])
  } catch {
    throw new SealedValueError(
      'authentication',
      'stored value failed authentication: altered, or copied from another item',
    )
  }
  try {
    return utf8.decode(clear)
  } catch {
    // Unreachable for values written by seal(), which only encrypts UTF-8 text.
    throw new SealedValueError('malformed', 'stored value does not decrypt to UTF-8 text')
  } finally {
    clear.fill(0)
  }
}
