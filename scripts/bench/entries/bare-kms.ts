// Baseline: imports @aws-sdk/client-kms and builds a client, decrypts nothing.
import { KMSClient } from '@aws-sdk/client-kms'

export const client = new KMSClient()
export const handler = async () => ({ statusCode: 200 })
