// The items table through the DynamoDB DocumentClient: partition key `owner`, sort key
// `id`. Only GetItem, PutItem and Query: the function role's policy allows no more.

import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb'

/** An item as stored: `secret` holds the sealed value (crypto.ts), never the clear text. */
export interface StoredItem {
  owner: string
  id: string
  name: string
  secret: string
  createdAt: string
}

export interface ItemSummary {
  id: string
  name: string
  createdAt?: string
}

export interface ItemPage {
  items: ItemSummary[]
  /** The last id of this page when DynamoDB has more: the next page starts after it. */
  lastId?: string
}

export interface ItemStore {
  /** Writes a new item; a DynamoDB ConditionalCheckFailedException when the key exists. */
  create(item: StoredItem): Promise<void>
  /** The raw stored attributes, or undefined. Not trusted: the caller checks their types. */
  get(owner: string, id: string): Promise<Record<string, unknown> | undefined>
  list(owner: string, limit: number, afterId?: string): Promise<ItemPage>
}

// owner and name are DynamoDB reserved words: placeholders everywhere.
const NAMES = { '#owner': 'owner', '#id': 'id' }

export const createItemStore = (client: DynamoDBDocumentClient, tableName: string): ItemStore => ({
  async create(item) {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...item },
        // Never overwrite: a second create of the same (owner, id) is refused.
        ConditionExpression: 'attribute_not_exists(#owner) AND attribute_not_exists(#id)',
        ExpressionAttributeNames: NAMES,
      }),
    )
  },

  async get(owner, id) {
    const answer = await client.send(
      new GetCommand({ TableName: tableName, Key: { owner, id }, ConsistentRead: true }),
    )
    return answer.Item
  },

  async list(owner, limit, afterId) {
    const answer = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { ...NAMES, '#name': 'name', '#createdAt': 'createdAt' },
        ExpressionAttributeValues: { ':owner': owner },
        // Never the sealed secret: a listing has no use for it.
        ProjectionExpression: '#id, #name, #createdAt',
        Limit: limit,
        ...(afterId === undefined ? {} : { ExclusiveStartKey: { owner, id: afterId } }),
      }),
    )
    const items: ItemSummary[] = []
    for (const item of answer.Items ?? []) {
      if (typeof item.id !== 'string') continue
      items.push({
        id: item.id,
        name: typeof item.name === 'string' ? item.name : '',
        ...(typeof item.createdAt === 'string' ? { createdAt: item.createdAt } : {}),
      })
    }
    const lastId = answer.LastEvaluatedKey?.id
    return typeof lastId === 'string' ? { items, lastId } : { items }
  },
})
