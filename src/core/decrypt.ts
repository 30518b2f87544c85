import { isAbsolute, resolve } from 'node:path'
import {
  decodeBase64,
  type Encrypted,
  EnvelopeKind,
  openEnvelope,
  parseEncrypted,
} from './envelope.ts'
import { ErrorCode, fromKmsError, KmsSecretsError } from './errors.ts'
import type { EncryptionContext, KmsClient, KmsKit } from './kms.ts'

// ------------------------------------------------------------------------ sources

/**
 * Where an encrypted value lives: `VAR`, `VAR#field`, `file:path` or `file:path#field`.
 * `origin` (the part before `#`) is what gets decrypted, once, whatever the number of
 * fields read from it.
 */
export interface Source {
  origin: string
  kind: 'env' | 'file'
  /** Env var name or file path as written. */
  name: string
  field: string | undefined
}

/** Whether a name can be an environment variable's (what the runtime and SAM accept). */
export const isEnvName = (name: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)

export const parseSource = (text: string): Source => {
  const hash = text.indexOf('#')
  const origin = hash === -1 ? text : text.slice(0, hash)
  const field = hash === -1 ? undefined : text.slice(hash + 1)
  if (field === '') {
    throw new KmsSecretsError(ErrorCode.InvalidOptions, 'empty field name after "#"', {
      variable: text,
    })
  }
  if (origin.startsWith('file:')) {
    const name = origin.slice('file:'.length)
    if (name === '') {
      throw new KmsSecretsError(ErrorCode.InvalidOptions, 'empty file path', { variable: text })
    }
    return { origin, kind: 'file', name, field }
  }
  if (!isEnvName(origin)) {
    throw new KmsSecretsError(
      ErrorCode.InvalidOptions,
      'not an environment variable name (use VAR, VAR#field, file:path or file:path#field)',
      { variable: text },
    )
  }
  return { origin, kind: 'env', name: origin, field }
}

export type Env = Readonly<Record<string, string | undefined>>

/** Reads the encrypted text of a source: an env var's value, or a secrets file. */
export const readEncrypted = async (source: Source, env: Env): Promise<string> => {
  if (source.kind === 'env') {
    const value = env[source.name]
    if (value === undefined) {
      throw new KmsSecretsError(ErrorCode.MissingVariable, 'environment variable is not set', {
        variable: source.origin,
      })
    }
    return value
  }
  // Secrets files ship inside the function package, found from LAMBDA_TASK_ROOT.
  const root = env.LAMBDA_TASK_ROOT ?? process.cwd()
  const path = isAbsolute(source.name) ? source.name : resolve(root, source.name)
  try {
    // Loaded for a file source only: an ESM import of node:fs/promises costs every cold start ~3 ms.
    return await process.getBuiltinModule('node:fs/promises').readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new KmsSecretsError(
      ErrorCode.MissingVariable,
      `secrets file ${path} cannot be read (${code})`,
      { variable: source.origin },
    )
  }
}

// ------------------------------------------------------------------------ one KMS call

export interface DecryptRequest {
  client: KmsClient
  DecryptCommand: KmsKit['DecryptCommand']
  blob: Uint8Array
  encryptionContext: EncryptionContext
  keyId: string | undefined
  abortSignal: AbortSignal
  variable: string
}

/** One KMS Decrypt call, errors mapped, and the answering key checked against the pin. */
export const kmsDecrypt = async (request: DecryptRequest): Promise<Uint8Array> => {
  const { client, DecryptCommand, blob, encryptionContext, keyId, abortSignal, variable } = request
  const answer = await client
    .send(
      new DecryptCommand({
        CiphertextBlob: blob,
        EncryptionContext: { ...encryptionContext },
        KeyId: keyId,
      }),
      { abortSignal },
    )
    .catch((error: unknown) => {
      throw fromKmsError(error, variable)
    })
  const plaintext = answer.Plaintext
  if (!plaintext) {
    throw new KmsSecretsError(ErrorCode.KmsError, 'KMS answered Decrypt without a plaintext', {
      variable,
    })
  }
  if (keyId !== undefined && !isSameKey(keyId, answer.KeyId)) {
    plaintext.fill(0)
    throw new KmsSecretsError(
      ErrorCode.KeyMismatch,
      'KMS decrypted with a key other than the keyId pin',
      { variable },
    )
  }
  return plaintext
}

/**
 * Decrypt answers with the key ARN. A pin may be that ARN or the bare key id; an
 * alias pin cannot be compared locally, but KMS already enforced it as the KeyId.
 */
const isSameKey = (pin: string, answeredArn: string | undefined): boolean => {
  if (pin.startsWith('alias/') || pin.includes(':alias/')) return true
  if (answeredArn === undefined) return false
  return pin.startsWith('arn:') ? pin === answeredArn : answeredArn.endsWith(`:key/${pin}`)
}

// ------------------------------------------------------------------------ the round

export type Transform = 'json' | 'binary'
/** What a transform yields: parsed JSON (any shape), the plaintext's bytes, or UTF-8 text. */
export type ValueOf<T> = T extends 'json' ? unknown : T extends 'binary' ? Uint8Array : string

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

type Parsed = Encrypted & { source: Source }

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
export const decryptSecrets = async (round: DecryptRound): Promise<Record<string, unknown>> => {
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

export interface ValueRequest<T extends Transform | undefined>
  extends Omit<DecryptRound, 'wanted' | 'bindVariableName' | 'env'> {
  /** The encrypted text: a raw base64 KMS blob or an envelope (`kse1:`). */
  text: string
  /** Names the value in errors (never the value itself): an environment variable name. */
  variable: string
  /** A bundle's field, or undefined for the whole value. */
  field?: string | undefined
  transform: T
}

/**
 * One value under a context, by the same round as the faces: what the CLI's decrypt and
 * reencryptValue ask. The round reads its sources by name; here that name holds this text.
 */
export const decryptValue = async <T extends Transform | undefined>(
  request: ValueRequest<T>,
): Promise<ValueOf<T>> => {
  const { text, variable, field, transform, ...round } = request
  const source = parseSource(field === undefined ? variable : `${variable}#${field}`)
  const values = await decryptSecrets({
    ...round,
    wanted: [{ key: 'value', source, transform }],
    bindVariableName: false,
    env: { [variable]: text },
  })
  return values.value as ValueOf<T>
}

const parse = async (source: Source, env: Env): Promise<Parsed> => {
  const encrypted = parseEncrypted((await readEncrypted(source, env)).trim(), source.origin)
  if (encrypted.blob && encrypted.blob.length < MIN_KMS_BLOB_BYTES) {
    throw new KmsSecretsError(
      ErrorCode.MalformedValue,
      `value does not look like a KMS ciphertext (${encrypted.blob.length} bytes, fewer than any has): a plaintext put in the variable? Encrypt it first (kms-secrets encrypt, aws kms encrypt)`,
      { variable: source.origin },
    )
  }
  return { source, ...encrypted }
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
): Record<string, unknown> => {
  const bundles = new Map<string, Record<string, string>>()
  // Entries, then Object.fromEntries: whatever a key is named, it is an own data property.
  const values: [string, unknown][] = []
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
): unknown =>
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
