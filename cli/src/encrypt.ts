// The writing side of values (the CLI's):
// KMS Encrypt, envelopes, re-encryption (cli/src/encrypt/values.ts) and bundles (cli/src/encrypt/dotenv.ts).
export { EnvelopeKind } from 'middy-kms-secrets/format'
export { bundlePlaintext, parseDotenv } from './encrypt/dotenv.ts'
export {
  type EncryptValueRequest,
  encryptValue,
  kmsFailure,
  MAX_KMS_PLAINTEXT_BYTES,
  type ReencryptRequest,
  type ReencryptResult,
  reencryptValue,
  type SealWithKmsRequest,
  sealWithKms,
} from './encrypt/values.ts'
