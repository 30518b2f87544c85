// The Lambda console's "decryption helper" snippet, once per variable: on the first
// invoke, decrypt each encrypted variable in turn with @aws-sdk/client-kms.

import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { type BenchEvent, digest, OK, secretCount } from './verify.ts'

const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME
const names = Array.from({ length: secretCount() }, (_, i) => `SECRET_${i}`)
const decrypted: Record<string, string> = {}

export const handler = async (event: BenchEvent) => {
  for (const name of names) {
    if (!decrypted[name]) {
      const kms = new KMSClient()
      const response = await kms.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(process.env[name] as string, 'base64'),
          EncryptionContext: { LambdaFunctionName: functionName as string },
        }),
      )
      decrypted[name] = Buffer.from(response.Plaintext as Uint8Array).toString('ascii')
    }
  }
  if (event.verify) return { digest: digest(names.map((name) => decrypted[name] as string)) }
  return OK
}
