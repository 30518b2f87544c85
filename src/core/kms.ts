// The KMS port: what the decrypt core asks of a client, as types only (no SDK code here):
// the SDK's KMSClient (src/index.ts) or LiteKmsClient (src/lite.ts) fits it.
import type {
  DecryptCommandInput,
  DecryptCommandOutput,
  KMSClientConfig,
} from '@aws-sdk/client-kms'

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
