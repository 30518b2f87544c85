// The demo's AWS resources, as template.yaml declares them: the KMS key (SecretsKey), its
// alias (SecretsKeyAlias) and the items table (ItemsTable: keys owner/id, billing mode,
// encrypted at rest with the key). Created with the AWS SDK from the environment: moto
// behind the fault proxy (AWS_ENDPOINT_URL), or real AWS with --aws. Dev tooling.

import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb'
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  EnableKeyRotationCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import {
  type Json,
  type ResolveScope,
  resolveValue,
  type Template,
  type TemplateResource,
} from '../template.ts'

export interface DemoStack {
  keyArn: string
  /** alias/<stack>-secrets */
  alias: string
  tableName: string
}

export interface StackStep {
  what: string
  undo: () => Promise<unknown>
}

function resource(template: Template, logicalId: string, type: string): TemplateResource {
  const found = template.Resources[logicalId]
  if (found?.Type !== type) throw new Error(`template.yaml has no ${type} ${logicalId}`)
  return found
}

function resolved(
  ctx: ResolveScope,
  value: Json | undefined,
  what: string,
): Record<string, unknown> | string {
  const result = value === undefined ? undefined : resolveValue(value, ctx)
  if (typeof result === 'string') return result
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) return result
  throw new Error(`template.yaml: ${what} does not resolve to a value`)
}

function text(ctx: ResolveScope, value: Json | undefined, what: string): string {
  const result = resolved(ctx, value, what)
  if (typeof result !== 'string') throw new Error(`template.yaml: ${what} is not a string`)
  return result
}

/**
 * Creates key, alias and table. Each created resource is handed to `created` at once, with
 * its undo step, so a failure (or Ctrl-C) half-way still removes what exists.
 */
export async function createStack(
  template: Template,
  ctx: ResolveScope,
  created: (step: StackStep) => void,
  signal: AbortSignal,
): Promise<DemoStack> {
  const keyProps = resource(template, 'SecretsKey', 'AWS::KMS::Key').Properties ?? {}
  const aliasProps = resource(template, 'SecretsKeyAlias', 'AWS::KMS::Alias').Properties ?? {}
  const tableProps = resource(template, 'ItemsTable', 'AWS::DynamoDB::Table').Properties ?? {}

  const kms = new KMSClient({})
  const dynamodb = new DynamoDBClient({})
  const key = await kms.send(
    new CreateKeyCommand({
      Description: text(ctx, keyProps.Description, 'SecretsKey.Description'),
      KeySpec: text(ctx, keyProps.KeySpec ?? 'SYMMETRIC_DEFAULT', 'SecretsKey.KeySpec') as
        | 'SYMMETRIC_DEFAULT'
        | undefined,
      KeyUsage: text(ctx, keyProps.KeyUsage ?? 'ENCRYPT_DECRYPT', 'SecretsKey.KeyUsage') as
        | 'ENCRYPT_DECRYPT'
        | undefined,
      Tags: [{ TagKey: 'created-by', TagValue: 'middy-kms-secrets npm start' }],
    }),
    { abortSignal: signal },
  )
  const keyArn = key.KeyMetadata?.Arn
  const keyId = key.KeyMetadata?.KeyId
  if (keyArn === undefined || keyId === undefined) throw new Error('CreateKey returned no key')
  created({
    what: `schedule the deletion of key ${keyId}`,
    undo: () => kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })),
  })

  if (
    keyProps.EnableKeyRotation !== undefined &&
    resolveValue(keyProps.EnableKeyRotation, ctx) === true
  ) {
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId }), { abortSignal: signal })
  }

  const alias = text(ctx, aliasProps.AliasName, 'SecretsKeyAlias.AliasName')
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }), {
    abortSignal: signal,
  })
  created({
    what: `delete alias ${alias}`,
    undo: () => kms.send(new DeleteAliasCommand({ AliasName: alias })),
  })

  // The table as declared (keys, attribute types, billing, SSE with the key); a throwaway:
  // no deletion protection, no point-in-time recovery.
  const tableName = text(ctx, tableProps.TableName, 'ItemsTable.TableName')
  const declared = (name: string) => {
    const value = tableProps[name]
    return value === undefined ? undefined : resolveValue(value, ctx)
  }
  const sse = (declared('SSESpecification') ?? {}) as Record<string, unknown>
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: declared('BillingMode') as 'PAY_PER_REQUEST',
      AttributeDefinitions: declared('AttributeDefinitions') as never,
      KeySchema: declared('KeySchema') as never,
      SSESpecification: {
        Enabled: sse.SSEEnabled === true || sse.SSEEnabled === 'true',
        SSEType: (sse.SSEType as 'KMS' | undefined) ?? 'KMS',
        KMSMasterKeyId: keyArn,
      },
      Tags: [{ Key: 'created-by', Value: 'middy-kms-secrets npm start' }],
    }),
    { abortSignal: signal },
  )
  created({
    what: `delete table ${tableName}`,
    undo: () => dynamodb.send(new DeleteTableCommand({ TableName: tableName })),
  })
  await waitUntilTableExists(
    { client: dynamodb, maxWaitTime: 120, minDelay: 1, abortSignal: signal },
    { TableName: tableName },
  )
  return { keyArn, alias, tableName }
}
