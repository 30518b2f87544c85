// Ours, one environment variable per secret, on the AWS SDK's KMS client.

import { kmsSecrets } from 'middy-kms-secrets'
import { perVariable } from './ours.ts'

export const handler = perVariable(kmsSecrets)
