import { kmsSecrets } from 'middy-kms-secrets/lite'
import { perVariable } from './ours.ts'

export const handler = perVariable(kmsSecrets)
