// The three routes: create (seal, conditional put), get (open), list by owner (no secrets).

import { randomUUID } from 'node:crypto'
import type { Logger } from '@aws-lambda-powertools/logger'
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { HttpError, type HttpResponse, jsonResponse } from '../shared/http.ts'
import { type DataKey, open, type SealContext, SealedValueError, seal } from './crypto.ts'
import { IntegrityError } from './errors.ts'
import {
  type CreateItemEvent,
  encodeCursor,
  type GetItemEvent,
  type ItemsEvent,
  LIMITS,
  type ListItemsEvent,
  ROUTES,
} from './schema.ts'
import type { ItemStore } from './store.ts'

/** The attribute that is sealed (and bound into the AAD). */
export const SEALED_ATTRIBUTE = 'secret'

export interface RouteDeps {
  store: ItemStore
  /** Table name bound into the AAD (normally TABLE_NAME; see config.ts). */
  aadTableName: string
  logger: Logger
  metrics: Metrics
  newId?: () => string
  now?: () => Date
}

export type Router = (event: ItemsEvent, dataKey: DataKey) => Promise<HttpResponse>

export const createRouter = (deps: RouteDeps): Router => {
  const { store, logger, metrics } = deps
  const newId = deps.newId ?? randomUUID
  const now = deps.now ?? (() => new Date())
  const sealContext = (owner: string, id: string): SealContext => ({
    table: deps.aadTableName,
    owner,
    id,
    attribute: SEALED_ATTRIBUTE,
  })

  const create = async (event: CreateItemEvent, dataKey: DataKey): Promise<HttpResponse> => {
    const { owner, name, secret } = event.body
    const id = event.body.id ?? newId()
    await store.create({
      owner,
      id,
      name,
      secret: seal(secret, dataKey, sealContext(owner, id)),
      createdAt: now().toISOString(),
    })
    metrics.addMetric('ItemCreated', MetricUnit.Count, 1)
    logger.info('item created', { owner, id })
    const response = jsonResponse(201, { owner, id, name })
    response.headers.location = `/items/${encodeURIComponent(owner)}/${encodeURIComponent(id)}`
    return response
  }

  const get = async (event: GetItemEvent, dataKey: DataKey): Promise<HttpResponse> => {
    const { owner, id } = event.pathParameters
    const item = await store.get(owner, id)
    if (!item) throw new HttpError(404, 'ITEM_NOT_FOUND', 'no item with this owner and id')
    const stored = item[SEALED_ATTRIBUTE]
    let secret: string
    try {
      if (typeof stored !== 'string') {
        throw new SealedValueError('malformed', 'stored value is missing or not a string')
      }
      secret = open(stored, dataKey, sealContext(owner, id))
    } catch (error) {
      if (error instanceof SealedValueError) {
        metrics.addMetric('ItemIntegrityFailure', MetricUnit.Count, 1)
        throw new IntegrityError(owner, id, error)
      }
      throw error
    }
    metrics.addMetric('ItemRead', MetricUnit.Count, 1)
    logger.debug('item read', { owner, id })
    return jsonResponse(200, {
      owner,
      id,
      name: typeof item.name === 'string' ? item.name : '',
      secret,
      ...(typeof item.createdAt === 'string' ? { createdAt: item.createdAt } : {}),
    })
  }

  const list = async (event: ListItemsEvent): Promise<HttpResponse> => {
    const { owner } = event.pathParameters
    const query = event.queryStringParameters ?? {}
    const page = await store.list(owner, query.limit ?? LIMITS.listDefault, query.cursor)
    metrics.addMetric('ItemsListed', MetricUnit.Count, 1)
    logger.debug('items listed', { owner, count: page.items.length })
    return jsonResponse(200, {
      owner,
      items: page.items,
      ...(page.lastId === undefined ? {} : { next: encodeCursor(page.lastId) }),
    })
  }

  return async (event, dataKey) => {
    switch (event.routeKey) {
      case ROUTES.create:
        return create(event, dataKey)
      case ROUTES.get:
        return get(event, dataKey)
      case ROUTES.list:
        return list(event)
    }
  }
}
