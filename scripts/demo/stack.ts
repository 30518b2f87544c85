// The demo's AWS resources as template.yaml declares them: the KMS key (SecretsKey), its alias
// (SecretsKeyAlias) and the items table (ItemsTable, encrypted at rest with the key). Created
// with the AWS SDK from the environment: moto (AWS_ENDPOINT_URL), or real AWS with --aws.

import * as ddb from '@aws-sdk/client-dynamodb'
import * as kms from '@aws-sdk/client-kms'
import { type Json, type ResolveScope, resolveValue, type Template } from '../template.ts'

/**
 * Creates key, alias and table. Each resource is handed to `created` at once with its undo
 * step, so a failure (or Ctrl-C) half-way still removes what exists.
 */
export async function createStack(
  template: Template,
  ctx: ResolveScope,
  created: (step: { what: string; undo: () => Promise<unknown> }) => void,
  signal: AbortSignal,
) {
  // `never`: whatever SDK shape the template declares it in.
  const declared = (id: string, name: string) =>
    resolveValue(template.Resources[id]?.Properties?.[name] as Json, ctx) as never
  const abort = { abortSignal: signal }
  const keys = new kms.KMSClient({})
  const dynamodb = new ddb.DynamoDBClient({})
  const { KeyMetadata } = await keys.send(
    new kms.CreateKeyCommand({
      Description: declared('SecretsKey', 'Description'),
      KeySpec: declared('SecretsKey', 'KeySpec'),
      KeyUsage: declared('SecretsKey', 'KeyUsage'),
      Tags: [{ TagKey: 'created-by', TagValue: 'middy-kms-secrets npm start' }],
    }),
    abort,
  )
  const keyArn = KeyMetadata?.Arn as string
  const keyId = KeyMetadata?.KeyId as string
  created({
    what: `schedule the deletion of key ${keyId}`,
    undo: () =>
      keys.send(new kms.ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })),
  })
  if (declared('SecretsKey', 'EnableKeyRotation')) {
    await keys.send(new kms.EnableKeyRotationCommand({ KeyId: keyId }), abort)
  }
  const alias: string = declared('SecretsKeyAlias', 'AliasName')
  await keys.send(new kms.CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }), abort)
  created({
    what: `delete alias ${alias}`,
    undo: () => keys.send(new kms.DeleteAliasCommand({ AliasName: alias })),
  })
  // A throwaway: no deletion protection, no point-in-time recovery.
  const tableName: string = declared('ItemsTable', 'TableName')
  await dynamodb.send(
    new ddb.CreateTableCommand({
      TableName: tableName,
      BillingMode: declared('ItemsTable', 'BillingMode'),
      AttributeDefinitions: declared('ItemsTable', 'AttributeDefinitions'),
      KeySchema: declared('ItemsTable', 'KeySchema'),
      SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
      Tags: [{ Key: 'created-by', Value: 'middy-kms-secrets npm start' }],
    }),
    abort,
  )
  created({
    what: `delete table ${tableName}`,
    undo: () => dynamodb.send(new ddb.DeleteTableCommand({ TableName: tableName })),
  })
  await ddb.waitUntilTableExists(
    { client: dynamodb, maxWaitTime: 120, minDelay: 1, abortSignal: signal },
    { TableName: tableName },
  )
  return { keyArn, alias, tableName }
}
