// AWS SDK clients for tests, pointed at a local endpoint (moto or a fault proxy)
// with dummy credentials, whatever AWS_* variables the test process has.

import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms'
import { LOCAL_REGION } from '../../scripts/local/aws-env.ts'

export const TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' }

export function kmsClient(endpoint: string, config: KMSClientConfig = {}): KMSClient {
  return new KMSClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: TEST_CREDENTIALS,
    ...config,
  })
}

export function dynamoClient(endpoint: string, config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: TEST_CREDENTIALS,
    ...config,
  })
}
