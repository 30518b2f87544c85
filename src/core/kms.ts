// The KMS port: what the decrypt core asks of a client, as structural types of its own
// (no SDK import, not even of types: `/lite` users need not install @aws-sdk/client-kms).
// The SDK's KMSClient (src/index.ts) and LiteKmsClient (src/lite.ts) both fit it.

export type EncryptionContext = Readonly<Record<string, string>>

/** Decrypt's input, as the SDK's `DecryptCommandInput` has it (the fields this library sends). */
export interface DecryptInput {
  CiphertextBlob?: Uint8Array | undefined
  EncryptionContext?: Record<string, string> | undefined
  KeyId?: string | undefined
}

/** Decrypt's output, as the SDK's `DecryptCommandOutput` has it (the fields this library reads). */
export interface DecryptOutput {
  Plaintext?: Uint8Array | undefined
  KeyId?: string | undefined
  EncryptionAlgorithm?: string | undefined
  $metadata: { httpStatusCode?: number | undefined; requestId?: string | undefined }
}

/**
 * `awsClientOptions`: the client's config. The SDK's KMSClient takes all of its options
 * (`KMSClientConfig`); LiteKmsClient reads `region`, `endpoint` and `maxAttempts` as plain
 * values and static `credentials`.
 */
export interface KmsClientConfig {
  region?: string | Provider<string>
  maxAttempts?: number | Provider<number>
  credentials?: Credentials | Provider<Credentials>
  [option: string]: unknown
}

type Provider<T> = () => Promise<T>

/** Static AWS credentials (the SDK's `AwsCredentialIdentity`). */
export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
  readonly expiration?: Date | undefined
}

/** A Decrypt command: the SDK's, or the lite client's. */
export interface DecryptCommandLike {
  readonly input: DecryptInput
}

/** What the decrypt core asks of a KMS client: the SDK's KMSClient, or LiteKmsClient. */
export interface KmsClient {
  send(command: DecryptCommandLike, options?: { abortSignal?: AbortSignal }): Promise<DecryptOutput>
}

/**
 * A client class and the Decrypt command it sends. The SDK's pair (src/index.ts) or the
 * lite one (src/lite.ts): the core imports neither, so the lite entry loads no SDK.
 */
export interface KmsKit {
  AwsClient: new (config: KmsClientConfig) => KmsClient
  DecryptCommand: new (input: DecryptInput) => DecryptCommandLike
}
