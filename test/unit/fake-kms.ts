// The one KMS double of the tests (aws-sdk-client-mock): Encrypt, Decrypt, GenerateDataKey and
// ReEncrypt behave like KMS. A ciphertext opens only under the context it was made with, and
// only with its own key when the caller names one; errors are shaped like the SDK's.
import { randomBytes } from 'node:crypto'
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, beforeEach, vi } from 'vitest'
import {
  decryptSecrets,
  MIN_KMS_BLOB_BYTES,
  parseSource,
  type Transform,
} from '../../src/core/decrypt.ts'
import { EnvelopeKind, sealEnvelope } from '../../src/core/envelope.ts'

const ARN_PREFIX = 'arn:aws:kms:us-east-1:123456789012'
export const KEY_ID = '1111aaaa-2222-bbbb-3333-cccc4444dddd'
export const KEY_ARN = `${ARN_PREFIX}:key/${KEY_ID}`
export const OTHER_KEY_ID = '9999ffff-2222-bbbb-3333-cccc4444dddd'
/** The context of a function named my-function: what `encrypt` and `envelope` bind to by default. */
const MY_FUNCTION = { LambdaFunctionName: 'my-function' }

/** The key ARN KMS answers with; every alias (name or ARN) points at KEY_ID here. */
const arnOf = (keyId: string) => {
  if (keyId.startsWith('alias/') || keyId.startsWith(`${ARN_PREFIX}:alias/`)) return KEY_ARN
  return keyId.startsWith('arn:') ? keyId : `${ARN_PREFIX}:key/${keyId}`
}

/** An error as the SDK throws it: the KMS exception's name and `$metadata`. */
export const awsError = (name: string) => Object.assign(new Error(''), { name, $metadata: {} })

/** The <id> of a fake ciphertext: `ct:<id>`, a NUL, then filler bytes. */
export const blobId = (blob: Uint8Array | undefined): string =>
  Buffer.from(blob ?? [])
    .toString()
    .slice(3)
    .split('\0')[0] as string

const bytesOf = (plaintext: string | Uint8Array) =>
  typeof plaintext === 'string' ? Buffer.from(plaintext) : plaintext

const canonical = (context: Record<string, string> | undefined) =>
  JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))

/** A fresh KMS double, answering every KMSClient until `kms.restore()`. */
export const fakeKms = () => {
  const kms = mockClient(KMSClient)
  const blobs = new Map<string, { plaintext: Uint8Array; context: string; keyArn: string }>()
  /** Every plaintext KMS handed out (Decrypt, GenerateDataKey): the caller's to wipe. */
  const returned: Uint8Array[] = []
  let made = 0

  const seal = (
    blob: Buffer,
    plaintext: Uint8Array,
    context: Record<string, string> | undefined,
    keyId: string,
  ) => {
    blobs.set(blob.toString('hex'), {
      plaintext: Uint8Array.from(plaintext),
      context: canonical(context),
      keyArn: arnOf(keyId),
    })
    return blob
  }
  // Longer than MIN_KMS_BLOB_BYTES, as a real blob: shorter values are refused as plaintexts.
  const blobOf = (id: string, filler: Buffer) => Buffer.concat([Buffer.from(`ct:${id}\0`), filler])
  /** A ciphertext made by KMS itself: an opaque id and random bytes. */
  const sealNew = (
    plaintext: Uint8Array,
    context: Record<string, string> | undefined,
    keyId: string,
  ) => {
    made += 1
    return seal(blobOf(`kms-${made}`, randomBytes(MIN_KMS_BLOB_BYTES)), plaintext, context, keyId)
  }
  const find = (
    blob: Uint8Array | undefined,
    context: Record<string, string> | undefined,
    keyId?: string,
  ) => {
    const entry = blobs.get(Buffer.from(blob ?? []).toString('hex'))
    if (!entry || entry.context !== canonical(context)) throw awsError('InvalidCiphertextException')
    if (keyId !== undefined && entry.keyArn !== arnOf(keyId)) {
      throw awsError('IncorrectKeyException')
    }
    return entry
  }
  const handOut = (plaintext: Uint8Array) => {
    const copy = Uint8Array.from(plaintext)
    returned.push(copy)
    return copy
  }

  kms.on(EncryptCommand).callsFake(async (input: EncryptCommand['input']) => ({
    CiphertextBlob: sealNew(
      input.Plaintext as Uint8Array,
      input.EncryptionContext,
      input.KeyId as string,
    ),
    KeyId: arnOf(input.KeyId as string),
  }))
  kms.on(GenerateDataKeyCommand).callsFake(async (input: GenerateDataKeyCommand['input']) => {
    const key = randomBytes(32)
    return {
      Plaintext: handOut(key),
      CiphertextBlob: sealNew(key, input.EncryptionContext, input.KeyId as string),
      KeyId: arnOf(input.KeyId as string),
    }
  })
  kms.on(DecryptCommand).callsFake(async (input: DecryptCommand['input']) => {
    const entry = find(input.CiphertextBlob, input.EncryptionContext, input.KeyId)
    return { Plaintext: handOut(entry.plaintext), KeyId: entry.keyArn }
  })
  kms.on(ReEncryptCommand).callsFake(async (input: ReEncryptCommand['input']) => {
    const entry = find(input.CiphertextBlob, input.SourceEncryptionContext, input.SourceKeyId)
    return {
      CiphertextBlob: sealNew(
        entry.plaintext,
        input.DestinationEncryptionContext,
        input.DestinationKeyId as string,
      ),
      KeyId: arnOf(input.DestinationKeyId as string),
      SourceKeyId: entry.keyArn,
    }
  })

  /**
   * A raw blob (base64) under KEY_ID, its <id> chosen by the test. The same id gives the same
   * blob: encrypting it again changes what that blob decrypts to.
   */
  const encrypt = (
    id: string,
    plaintext: string | Uint8Array,
    context: Record<string, string> = MY_FUNCTION,
  ): string =>
    seal(
      blobOf(id, Buffer.alloc(MIN_KMS_BLOB_BYTES)),
      bytesOf(plaintext),
      context,
      KEY_ID,
    ).toString('base64')
  /** An envelope (`kse1:`) sealed with a fresh data key of this KMS, under KEY_ID. */
  const envelope = (
    plaintext: string | Uint8Array,
    kind: EnvelopeKind = EnvelopeKind.Value,
    context: Record<string, string> = MY_FUNCTION,
  ): string => {
    const dataKey = randomBytes(32)
    const encryptedKey = sealNew(dataKey, context, KEY_ID)
    return sealEnvelope({ kind, plaintext: bytesOf(plaintext), dataKey, encryptedKey, context })
  }
  const decryptCalls = () => kms.commandCalls(DecryptCommand).length
  /** What KMS would decrypt a raw blob (base64) to, under a context; throws otherwise. */
  const plaintextOf = (base64: string, context: Record<string, string>) =>
    Buffer.from(find(Buffer.from(base64, 'base64'), context).plaintext)
  const keyOf = (base64: string) => blobs.get(Buffer.from(base64, 'base64').toString('hex'))?.keyArn
  return { kms, encrypt, envelope, decryptCalls, returned, plaintextOf, keyOf }
}

export type FakeKms = ReturnType<typeof fakeKms>

/** One object for the whole file, a fresh fake in it for each test (removed after the test). */
export const fakeKmsEachTest = (): FakeKms => {
  const fake = {} as FakeKms
  beforeEach(() => {
    Object.assign(fake, fakeKms())
  })
  afterEach(() => fake.kms.restore())
  return fake
}

/**
 * fakeKmsEachTest, each test running as the Lambda function my-function: the context
 * `encrypt` binds a blob to by default.
 */
export const fakeKmsInFunctionEachTest = (): FakeKms => {
  const fake = fakeKmsEachTest()
  beforeEach(() => {
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'my-function')
    vi.stubEnv('KMS_SECRETS_FUNCTION_NAME', '')
  })
  afterEach(() => {
    vi.unstubAllEnvs()
  })
  return fake
}

/**
 * N encrypted variables in the env (S_0 = value-s0, …, with prefix 's'): the fetchData that
 * names them and the plaintexts a handler must see.
 */
export const stubSecrets = (fake: FakeKms, n: number, prefix = 's') => {
  const fetchData: Record<string, string> = {}
  const expected: Record<string, string> = {}
  for (let i = 0; i < n; i++) {
    vi.stubEnv(`${prefix.toUpperCase()}_${i}`, fake.encrypt(`${prefix}${i}`, `value-${prefix}${i}`))
    fetchData[`${prefix}${i}`] = `${prefix.toUpperCase()}_${i}`
    expected[`${prefix}${i}`] = `value-${prefix}${i}`
  }
  return { fetchData, expected }
}

const client = new KMSClient({ region: 'us-east-1' })

/** A read of one round: [key, source (`VAR`, `VAR#field`, `file:path`), transform]. */
export type Read = [key: string, source: string, transform?: Transform]

/**
 * One round of the decrypt core against this KMS, as the faces run it: no variable name
 * bound, no key pin, a 5 s deadline (`extra` changes any of it).
 */
export const decryptRound = (
  env: Record<string, string | undefined>,
  reads: Read[],
  encryptionContext: Record<string, string>,
  extra: Partial<Parameters<typeof decryptSecrets>[0]> = {},
) =>
  decryptSecrets({
    wanted: reads.map(([key, source, transform]) => ({
      key,
      source: parseSource(source),
      transform,
    })),
    client,
    DecryptCommand,
    encryptionContext,
    bindVariableName: false,
    keyId: undefined,
    timeoutMs: 5000,
    env,
    ...extra,
  })

/** Resolves after the promise queue drains (fake timers leave it alone). */
export const settle = () => new Promise((resolve) => setImmediate(resolve))
