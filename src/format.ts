// `middy-kms-secrets/format`: the value format of docs/FORMAT.md and the checks the decrypt
// side applies to a value, for tools that write or check values (the `kms-secrets` CLI):
// envelopes (seal, parse), a source's name, one value's decrypt, the error mapping, and the
// did-you-mean the option checks use. A Lambda function needs none of it.
export {
  decryptValue,
  isEnvName,
  MIN_KMS_BLOB_BYTES,
  parseBundle,
  parseSource,
} from './core/decrypt.ts'
export { ENVELOPE_PREFIX, EnvelopeKind, parseEncrypted, sealEnvelope } from './core/envelope.ts'
export { ErrorCode, fromKmsError, KmsSecretsError } from './core/errors.ts'
export type { EncryptionContext } from './core/kms.ts'
export { closest } from './core/suggest.ts'
