import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { mockClient } from 'aws-sdk-client-mock'
import { MIN_KMS_BLOB_BYTES } from '../../src/core/decrypt.ts'

/** The one key of the unit tests' KMS doubles (this one, and the CLI's in cli/harness.ts). */
export const KEY_ID = '1111aaaa-2222-bbbb-3333-cccc4444dddd'
export const KEY_ARN = `arn:aws:kms:us-east-1:123456789012:key/${KEY_ID}`

/** The <id> of a fake ciphertext. */
export const blobId = (blob: Uint8Array | undefined): string =>
  Buffer.from(blob ?? [])
    .toString()
    .slice(3)
    .replace(/\0+$/, '')

/**
 * A KMS double for unit tests: a "ciphertext" is base64 of `ct:<id>` (NUL-padded), decrypting to the
 * plaintext registered for <id> when the encryption context matches.
 */
export const fakeKms = () => {
  const kms = mockClient(KMSClient)
  const plaintexts = new Map<string, Uint8Array>()
  const contexts = new Map<string, Record<string, string>>()
  const returned: Uint8Array[] = []
  const encrypt = (
    id: string,
    plaintext: string | Uint8Array,
    context: Record<string, string> = { LambdaFunctionName: 'my-function' },
  ): string => {
    plaintexts.set(id, typeof plaintext === 'string' ? Buffer.from(plaintext) : plaintext)
    contexts.set(id, context)
    // Padded to the length of a real ciphertext: shorter values are refused as plaintexts.
    return Buffer.from(`ct:${id}`.padEnd(MIN_KMS_BLOB_BYTES, '\0')).toString('base64')
  }
  kms.on(DecryptCommand).callsFake(async (input: DecryptCommand['input']) => {
    const id = blobId(input.CiphertextBlob)
    const plaintext = plaintexts.get(id)
    const sameContext =
      JSON.stringify(Object.entries(input.EncryptionContext ?? {}).sort()) ===
      JSON.stringify(Object.entries(contexts.get(id) ?? {}).sort())
    if (!plaintext || !sameContext) {
      throw Object.assign(new Error(''), { name: 'InvalidCiphertextException' })
    }
    const copy = Uint8Array.from(plaintext)
    returned.push(copy)
    return { Plaintext: copy, KeyId: KEY_ARN }
  })
  const decryptCalls = () => kms.commandCalls(DecryptCommand).length
  return { kms, encrypt, decryptCalls, returned }
}

/** Resolves after the promise queue drains (fake timers leave it alone). */
export const settle = () => new Promise((resolve) => setImmediate(resolve))
