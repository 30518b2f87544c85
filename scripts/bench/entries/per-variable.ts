import { kmsSecrets } from 'middy-kms-secrets'
import { perVariable } from './ours.ts'

export const handler = perVariable(kmsSecrets)
