// Ours, one environment variable per secret, on LiteKmsClient (no AWS SDK).

import { kmsSecrets } from 'middy-kms-secrets/lite'
import { perVariable } from './ours.ts'

export const handler = perVariable(kmsSecrets)
