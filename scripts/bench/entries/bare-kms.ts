// Baseline: a function that only imports @aws-sdk/client-kms and builds a client.

import { KMSClient } from '@aws-sdk/client-kms'
import { OK } from './verify.ts'

export const client = new KMSClient()

export const handler = async () => OK
