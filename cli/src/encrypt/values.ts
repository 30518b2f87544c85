import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  type KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'
import {
  decryptValue,
  type EncryptionContext,
  type EnvelopeKind,
  ErrorCode,
  fromKmsError,
  KmsSecretsError,
  parseEncrypted,
  parseSource,
  sealEnvelope,
} from 'middy-kms-secrets/format'

/** KMS Encrypt takes at most this many plaintext bytes; anything larger needs an envelope. */
export const MAX_KMS_PLAINTEXT_BYTES = 4096

const DATA_KEY_BYTES = 32

type KmsOperation = 'Encrypt' | 'GenerateDataKey' | 'ReEncrypt'

/** Maps an SDK error like the decrypt side does, with messages that name the operation. */
export const kmsFailure = (
  error: unknown,
  operation: KmsOperation,
  variable: string,
): KmsSecretsError => {
  if (error instanceof Error && error.message === 'Region is missing') {
    return new KmsSecretsError(
      ErrorCode.InvalidOptions,
      'no AWS region: set AWS_REGION (or a region in your AWS profile)',
      { variable },
    )
  }
  const mapped = fromKmsError(error, variable)
  const details = { variable, kmsError: mapped.kmsError, requestId: mapped.requestId }
  switch (mapped.kmsError) {
    case 'AccessDeniedException':
      return new KmsSecretsError(
        ErrorCode.AccessDenied,
        `KMS denied ${operation}: the caller lacks kms:${operation === 'ReEncrypt' ? 'ReEncrypt*' : operation} on the key, or a key-policy condition (e.g. on the encryption context) does not match`,
        details,
      )
    case 'NotFoundException':
      return new KmsSecretsError(
        ErrorCode.KeyMismatch,
        'the KMS key does not exist: check the key id or alias, the region and AWS_ENDPOINT_URL',
        details,
      )
    default:
      return mapped
  }
}

/** A KMS call, its errors mapped with messages that name the operation. */
const call = <O>(operation: KmsOperation, variable: string, send: () => Promise<O>): Promise<O> =>
  send().catch((error: unknown) => {
    throw kmsFailure(error, operation, variable)
  })

const missing = (operation: KmsOperation, what: string, variable: string) =>
  new KmsSecretsError(ErrorCode.KmsError, `KMS answered ${operation} without ${what}`, {
    variable,
  })

export interface EncryptValueRequest {
  client: KMSClient
  /** Key id, ARN, alias name (`alias/x`) or alias ARN. */
  keyId: string
  context: EncryptionContext
  plaintext: Uint8Array
  /** Names the value in errors (never the value itself). Default `value`. */
  variable?: string
  abortSignal?: AbortSignal
}

/**
 * One KMS Encrypt: the raw base64 `CiphertextBlob`, exactly what the Lambda console
 * helper and `aws kms encrypt` produce. At most 4096 plaintext bytes.
 */
export const encryptValue = async (request: EncryptValueRequest): Promise<string> => {
  const { client, keyId, context, plaintext, abortSignal, variable = 'value' } = request
  if (plaintext.length === 0) {
    throw new KmsSecretsError(ErrorCode.InvalidOptions, 'the secret is empty', { variable })
  }
  if (plaintext.length > MAX_KMS_PLAINTEXT_BYTES) {
    throw new KmsSecretsError(
      ErrorCode.InvalidOptions,
      `the secret is ${plaintext.length} bytes, over the ${MAX_KMS_PLAINTEXT_BYTES} bytes KMS Encrypt takes: use an envelope (kms-secrets encrypt --envelope)`,
      { variable },
    )
  }
  const answer = await call('Encrypt', variable, () =>
    client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { ...context } }),
      { abortSignal },
    ),
  )
  if (!answer.CiphertextBlob) throw missing('Encrypt', 'a ciphertext', variable)
  return Buffer.from(answer.CiphertextBlob).toString('base64')
}

export interface SealWithKmsRequest extends EncryptValueRequest {
  kind: EnvelopeKind
}

/**
 * An envelope (docs/FORMAT.md): one GenerateDataKey (AES_256) under `keyId` and
 * `context`, AES-256-GCM locally, the plaintext data key wiped once used.
 */
export const sealWithKms = async (request: SealWithKmsRequest): Promise<string> => {
  const { client, keyId, context, kind, plaintext, abortSignal, variable = 'value' } = request
  const answer = await call('GenerateDataKey', variable, () =>
    client.send(
      new GenerateDataKeyCommand({
        KeyId: keyId,
        KeySpec: 'AES_256',
        EncryptionContext: { ...context },
      }),
      { abortSignal },
    ),
  )
  const { Plaintext: dataKey, CiphertextBlob: encryptedKey } = answer
  try {
    if (dataKey?.length !== DATA_KEY_BYTES || !encryptedKey?.length) {
      throw missing('GenerateDataKey', 'a 32-byte data key and its ciphertext', variable)
    }
    return sealEnvelope({ kind, plaintext, dataKey, encryptedKey, context })
  } finally {
    dataKey?.fill(0)
  }
}

export interface ReencryptRequest {
  client: KMSClient
  /** A raw base64 KMS blob or an envelope (`kse1:`), as found in the env var or file. */
  value: string
  /** The context the value was encrypted under. */
  fromContext: EncryptionContext
  toContext: EncryptionContext
  destinationKeyId: string
  /** Optional pin on the source key (KMS refuses values under any other key). */
  sourceKeyId?: string | undefined
  /** Names the value in errors. Must look like an env var name. Default `VALUE`. */
  variable?: string
  abortSignal?: AbortSignal
  /** Deadline of the local decrypt step for envelopes, in ms. Default 30 000. */
  timeoutMs?: number
}

export interface ReencryptResult {
  value: string
  /**
   * True for envelopes: the AAD binds the context and the encrypted data key, so the
   * envelope was opened and sealed again here, and its plaintext was in this process's
   * memory (wiped after). False for raw blobs: KMS ReEncrypt, the plaintext stayed in KMS.
   */
  resealedLocally: boolean
}

/** Moves a value to another key and/or encryption context (see docs/FORMAT.md). */
export const reencryptValue = async (request: ReencryptRequest): Promise<ReencryptResult> => {
  const { client, fromContext, toContext, destinationKeyId, sourceKeyId, abortSignal } = request
  const variable = request.variable ?? 'VALUE'
  // The name is checked first, whatever the value's form.
  parseSource(variable)
  const text = request.value.trim()
  const { envelope, blob } = parseEncrypted(text, variable)
  if (envelope) {
    const plaintext = await decryptValue({
      text,
      variable,
      transform: 'binary',
      client,
      DecryptCommand,
      encryptionContext: fromContext,
      keyId: sourceKeyId,
      timeoutMs: request.timeoutMs ?? 30_000,
    })
    try {
      const value = await sealWithKms({
        client,
        keyId: destinationKeyId,
        context: toContext,
        kind: envelope.kind,
        plaintext,
        variable,
        abortSignal,
      })
      return { value, resealedLocally: true }
    } finally {
      plaintext.fill(0)
    }
  }
  const answer = await call('ReEncrypt', variable, () =>
    client.send(
      new ReEncryptCommand({
        CiphertextBlob: blob,
        SourceEncryptionContext: { ...fromContext },
        SourceKeyId: sourceKeyId,
        DestinationKeyId: destinationKeyId,
        DestinationEncryptionContext: { ...toContext },
      }),
      { abortSignal },
    ),
  )
  if (!answer.CiphertextBlob) throw missing('ReEncrypt', 'a ciphertext', variable)
  return { value: Buffer.from(answer.CiphertextBlob).toString('base64'), resealedLocally: false }
}
