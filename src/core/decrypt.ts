import {
  decodeBase64,
  ENVELOPE_PREFIX,
  EnvelopeKind,
  MAX_KMS_BLOB_BYTES,
  openEnvelope,
  parseEnvelope,
} from './envelope.ts'
import { ErrorCode, KmsSecretsError } from './errors.ts'
import { type EncryptionContext, type KmsClient, type KmsKit, kmsDecrypt } from './kms.ts'
import { type Env, readEncrypted, type Source } from './sources.ts'

export type Transform = 'json' | 'binary'
export type SecretValue = string | Uint8Array | unknown

export interface Wanted {
  key: string
  source: Source
  transform: Transform | undefined
}

export interface DecryptRound {
  wanted: readonly Wanted[]
  client: KmsClient
  DecryptCommand: KmsKit['DecryptCommand']
  /** Resolved per round: the function name may be set after module init. */
  encryptionContext: EncryptionContext
  bindVariableName: boolean
  keyId: string | undefined
  timeoutMs: number
  env: Env
}

/**
 * A KMS ciphertext names its key and carries a 12-byte IV and a 16-byte GCM tag besides the
 * encrypted bytes: real KMS blobs are 150+ bytes, moto's 65+. A shorter "ciphertext" is a
 * plaintext (or a fragment) pasted into the variable, told apart before any KMS call.
 */
export const MIN_KMS_BLOB_BYTES = 64

/** Bounded so a burst of cold starts stays polite to the account's KMS quota. */
const MAX_PARALLEL = 50

type Parsed =
  | { source: Source; blob: Uint8Array; envelope?: undefined }
  | { source: Source; envelope: ReturnType<typeof parseEnvelope>; blob?: undefined }

interface Plaintext {
  origin: string
  bytes: Buffer
  bundle: boolean
}

/**
 * The decrypt core: every distinct env var or file is read and checked locally first
 * (bad input fails before any KMS call), then decrypted with one KMS call each, in
 * parallel, under one deadline. Plaintext buffers are wiped once converted.
 */
export const decryptSecrets = async (round: DecryptRound): Promise<Record<string, SecretValue>> => {
  const origins = new Map(round.wanted.map((wanted) => [wanted.source.origin, wanted.source]))
  const parsed = await Promise.all([...origins.values()].map((source) => parse(source, round.env)))

  const abort = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new KmsSecretsError(
          ErrorCode.Timeout,
          `decrypting took longer than the ${round.timeoutMs} ms deadline`,
          { variable: [...origins.keys()].join(',') },
        ),
      )
      // Stryker disable next-line CallExpression: the finally below aborts too, a few microtasks later
      abort.abort()
    }, round.timeoutMs)
  })
  // Every plaintext is wiped at the end, also those that arrive after a failure.
  const opened: Plaintext[] = []
  let finished = false
  const work = mapLimit(parsed, MAX_PARALLEL, async (item) => {
    try {
      const plaintext = await decryptOne(item, round, abort.signal)
      if (finished) plaintext.bytes.fill(0)
      else opened.push(plaintext)
      return plaintext
    } catch (error) {
      abort.abort() // the round has failed: cancel the calls still in flight
      throw error
    }
  })
  // Whichever loses the race must not become an unhandled rejection.
  // Stryker disable next-line CallExpression: Promise.race below handles it as well
  work.catch(() => {})
  // Stryker disable next-line CallExpression: Promise.race below handles it as well
  deadline.catch(() => {})
  try {
    const plaintexts = await Promise.race([work, deadline])
    return convert(round.wanted, new Map(plaintexts.map((p) => [p.origin, p])))
  } finally {
    finished = true
    clearTimeout(timer)
    // Stryker disable next-line CallExpression: defence in depth: a failed call or the deadline already aborted the calls in flight
    abort.abort()
    for (const plaintext of opened) plaintext.bytes.fill(0)
  }
}

const parse = async (source: Source, env: Env): Promise<Parsed> => {
  const text = (await readEncrypted(source, env)).trim()
  if (text.startsWith(ENVELOPE_PREFIX)) {
    return { source, envelope: parseEnvelope(text, source.origin) }
  }
  const blob = decodeBase64(text, source.origin)
  if (blob.length < MIN_KMS_BLOB_BYTES) {
    throw new KmsSecretsError(
      ErrorCode.MalformedValue,
      `value does not look like a KMS ciphertext (${blob.length} bytes, fewer than any has): a plaintext put in the variable? Encrypt it first (kms-secrets encrypt, aws kms encrypt)`,
      { variable: source.origin },
    )
  }
  if (blob.length > MAX_KMS_BLOB_BYTES) {
    throw new KmsSecretsError(
      ErrorCode.MalformedValue,
      `value is ${blob.length} bytes, larger than any KMS ciphertext (${MAX_KMS_BLOB_BYTES})`,
      { variable: source.origin },
    )
  }
  return { source, blob }
}

const decryptOne = async (
  item: Parsed,
  round: DecryptRound,
  abortSignal: AbortSignal,
): Promise<Plaintext> => {
  abortSignal.throwIfAborted()
  const variable = item.source.origin
  const encryptionContext = round.bindVariableName
    ? { ...round.encryptionContext, EnvironmentVariableName: item.source.name }
    : round.encryptionContext
  const { client, DecryptCommand, keyId } = round
  const request = { client, DecryptCommand, encryptionContext, keyId, abortSignal }
  if (item.blob) {
    const plaintext = await kmsDecrypt({ ...request, blob: item.blob, variable })
    // A view, not a copy: wiping it wipes the SDK's buffer too.
    const bytes = Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength)
    return { origin: variable, bytes, bundle: false }
  }
  const { envelope } = item
  const dataKey = await kmsDecrypt({ ...request, blob: envelope.encryptedKey, variable })
  try {
    const bytes = openEnvelope(envelope, dataKey, encryptionContext, variable)
    return { origin: variable, bytes, bundle: envelope.kind === EnvelopeKind.Bundle }
  } finally {
    dataKey.fill(0)
  }
}

// ignoreBOM: a secret that starts with U+FEFF keeps it (by default TextDecoder drops it).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

const convert = (
  wanted: readonly Wanted[],
  plaintexts: ReadonlyMap<string, Plaintext>,
): Record<string, SecretValue> => {
  const bundles = new Map<string, Record<string, string>>()
  // Entries, then Object.fromEntries: whatever a key is named, it is an own data property.
  const values: [string, SecretValue][] = []
  for (const { key, source, transform } of wanted) {
    const plaintext = plaintexts.get(source.origin) as Plaintext
    const variable = source.origin
    if (source.field === undefined) {
      values.push([
        key,
        transform === 'binary'
          ? Uint8Array.from(plaintext.bytes)
          : applyTransform(decodeText(plaintext.bytes, variable), transform, variable),
      ])
      continue
    }
    if (!plaintext.bundle) {
      throw new KmsSecretsError(
        ErrorCode.MalformedValue,
        `is not a bundle, so it has no field "${source.field}"`,
        { variable },
      )
    }
    let bundle = bundles.get(variable)
    if (!bundle) {
      bundle = parseBundle(decodeText(plaintext.bytes, variable), variable)
      bundles.set(variable, bundle)
    }
    // Own fields only: "constructor" or "toString" must not reach Object.prototype.
    const field = Object.hasOwn(bundle, source.field) ? bundle[source.field] : undefined
    if (field === undefined) {
      throw new KmsSecretsError(
        ErrorCode.MissingVariable,
        `bundle has no field "${source.field}"`,
        {
          variable,
        },
      )
    }
    values.push([key, fieldValue(field, transform, `${variable}#${source.field}`)])
  }
  return Object.fromEntries(values)
}

/** A bundle field as `transform` asks: text, JSON, or the bytes its base64 holds. */
export const fieldValue = (
  field: string,
  transform: Transform | undefined,
  variable: string,
): SecretValue =>
  transform === 'binary'
    ? Uint8Array.from(decodeBase64(field, variable))
    : applyTransform(field, transform, variable)

const decodeText = (bytes: Uint8Array, variable: string): string => {
  try {
    return utf8.decode(bytes)
  } catch {
    throw new KmsSecretsError(
      ErrorCode.MalformedValue,
      "plaintext is not UTF-8 text; use transform 'binary' for binary secrets",
      { variable },
    )
  }
}

const applyTransform = (text: string, transform: 'json' | undefined, variable: string) => {
  if (transform !== 'json') return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new KmsSecretsError(ErrorCode.MalformedValue, 'plaintext is not valid JSON', {
      variable,
    })
  }
}

export const parseBundle = (text: string, variable: string): Record<string, string> => {
  const bundle = applyTransform(text, 'json', variable)
  if (
    typeof bundle !== 'object' ||
    bundle === null ||
    Array.isArray(bundle) ||
    !Object.values(bundle).every((value) => typeof value === 'string')
  ) {
    throw new KmsSecretsError(ErrorCode.MalformedValue, 'bundle is not a JSON object of strings', {
      variable,
    })
  }
  return bundle as Record<string, string>
}

const mapLimit = async <T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> => {
  // Stryker disable next-line ArrayDeclaration: every index is assigned before it is returned
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
