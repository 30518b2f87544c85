import { kmsSecrets } from 'middy-kms-secrets'
import { bundle } from './ours.ts'

export const handler = bundle(kmsSecrets)
