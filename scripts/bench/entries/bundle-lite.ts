import { kmsSecrets } from 'middy-kms-secrets/lite'
import { bundle } from './ours.ts'

export const handler = bundle(kmsSecrets)
