// Ours, one bundle envelope holding every secret, on the AWS SDK's KMS client.

import { kmsSecrets } from 'middy-kms-secrets'
import { bundle } from './ours.ts'

export const handler = bundle(kmsSecrets)
