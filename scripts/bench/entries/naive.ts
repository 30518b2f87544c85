// The Lambda console's decryption snippet, once per variable: on first invoke, each variable in
// turn, a new KMSClient and Decrypt.

import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { answer, keys } from './shared.ts'

const decrypted: Record<string, string> = {}

export const handler = async (event: { verify?: boolean }) => {
  for (const [i, key] of keys.entries()) {
    if (decrypted[key]) continue
    const { Plaintext } = await new KMSClient().send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(process.env[`SECRET_${i}`] as string, 'base64'),
        EncryptionContext: { LambdaFunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME as string },
      }),
    )
    decrypted[key] = Buffer.from(Plaintext as Uint8Array).toString('ascii')
  }
  return answer(event, (key) => decrypted[key])
}
