import type {
  DecryptCommandInput,
  DecryptCommandOutput,
  KMSClientConfig,
} from '@aws-sdk/client-kms'
import { ErrorCode, fromKmsError, KmsSecretsError } from './errors.ts'

export type EncryptionContext = Readonly<Record<string, string>>

/** A Decrypt command: the SDK's, or the lite client's (types only: no SDK code here). */
export interface DecryptCommandLike {
  readonly input: DecryptCommandInput
}

/** What the decrypt core asks of a KMS client: the SDK's KMSClient, or LiteKmsClient. */
export interface KmsClient {
  send(
    command: DecryptCommandLike,
    options?: { abortSignal?: AbortSignal },
  ): Promise<DecryptCommandOutput>
}

/**
 * A client class and the Decrypt command it sends. The SDK's pair (src/index.ts) or the
 * lite one (src/lite.ts): the core imports neither, so the lite entry loads no SDK.
 */
export interface KmsKit {
  AwsClient: new (config: KMSClientConfig) => KmsClient
  DecryptCommand: new (input: DecryptCommandInput) => DecryptCommandLike
}

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
