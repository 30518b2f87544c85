// AWS SDK clients for tests, pointed at a local endpoint (moto or a fault proxy)
// with dummy credentials, whatever AWS_* variables the test process has.

import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  CreateTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb'
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms'
import { awsEnv, childEnv, LOCAL_REGION } from '../../scripts/local/aws-env.ts'
import { requireTool } from '../../scripts/local/tools.ts'
import { TMP_DIR } from './child.ts'

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

/** secure-items' table with the keys template.yaml gives it (owner, id), on moto. */
export const createItemsTable = (client: DynamoDBClient, TableName: string) =>
  client.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'owner', AttributeType: 'S' },
        { AttributeName: 'id', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'owner', KeyType: 'HASH' },
        { AttributeName: 'id', KeyType: 'RANGE' },
      ],
    }),
  )

/**
 * The real AWS CLI's `aws kms encrypt` (what the Lambda console's helpers produce), with
 * the plaintext passed as a file (`fileb://`, exact bytes) that is removed afterwards.
 * Returns the base64 CiphertextBlob.
 */
export async function awsCliEncrypt(options: {
  endpoint: string
  keyId: string
  plaintext: string | Uint8Array
  functionName: string
}): Promise<string> {
  mkdirSync(TMP_DIR, { recursive: true })
  const dir = mkdtempSync(join(TMP_DIR, 'aws-cli-'))
  const file = join(dir, 'plaintext')
  writeFileSync(file, options.plaintext, { mode: 0o600 })
  try {
    const { stdout } = await promisify(execFile)(
      requireTool('aws'),
      [
        'kms',
        'encrypt',
        '--key-id',
        options.keyId,
        '--plaintext',
        `fileb://${file}`,
        '--encryption-context',
        `LambdaFunctionName=${options.functionName}`,
        '--query',
        'CiphertextBlob',
        '--output',
        'text',
      ],
      {
        env: childEnv({ HOME: dir, ...awsEnv(options.endpoint) }),
      },
    )
    return stdout.trim()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
