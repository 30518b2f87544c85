// The AWS Encryption SDK decrypting the same bundle (JSON of the secrets) with a KMS keyring on
// the same key, on first invoke, checking the encryption context (the ESDK only authenticates it).

import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node'
import { answer } from './shared.ts'

const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
const keyring = new KmsKeyringNode({ keyIds: [process.env.BENCH_KEY_ARN as string] })
let secrets: Record<string, string> | undefined

export const handler = async (event: { verify?: boolean }) => {
  if (!secrets) {
    const message = Buffer.from(process.env.BUNDLE_ESDK as string, 'base64')
    const { plaintext, messageHeader } = await decrypt(keyring, message)
    const context = messageHeader.encryptionContext.LambdaFunctionName
    if (context !== process.env.AWS_LAMBDA_FUNCTION_NAME) throw new Error('unexpected context')
    secrets = JSON.parse(plaintext.toString('utf8')) as Record<string, string>
  }
  return answer(event, (key) => secrets?.[key])
}
