// The AWS Encryption SDK decrypting the same bundle (a JSON object of the secrets)
// with a KMS keyring on the same key and the same encryption context, on first invoke.

import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node'
import { type BenchEvent, digest, OK, secretCount } from './verify.ts'

const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME
const keys = Array.from({ length: secretCount() }, (_, i) => `s${i}`)
const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
const keyring = new KmsKeyringNode({ keyIds: [process.env.BENCH_KEY_ARN as string] })
let secrets: Record<string, string> | undefined

export const handler = async (event: BenchEvent) => {
  if (!secrets) {
    const message = Buffer.from(process.env.BUNDLE_ESDK as string, 'base64')
    const { plaintext, messageHeader } = await decrypt(keyring, message)
    // The ESDK authenticates the context; the caller checks it is the expected one.
    if (messageHeader.encryptionContext.LambdaFunctionName !== functionName) {
      throw new Error('unexpected encryption context')
    }
    secrets = JSON.parse(plaintext.toString('utf8')) as Record<string, string>
  }
  if (event.verify) return { digest: digest(keys.map((key) => secrets?.[key] as string)) }
  return OK
}
