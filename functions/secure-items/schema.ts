// Input validation for the API Gateway HTTP API (payload 2.0) events this function
// serves, for Powertools Parser. Written with zod/mini: the Powertools built-in
// ApiGatewayV2Envelope is built on classic zod, which alone adds ~440 KB (all of
// zod's locales and JSON-schema tooling) to the minified bundle; zod/mini adds ~13 KB.
// Every message is a fixed text: no issue ever echoes the input (which may be a secret).

import * as z from 'zod/mini'

export const ROUTES = {
  create: 'POST /items',
  get: 'GET /items/{owner}/{id}',
  list: 'GET /items/{owner}',
} as const

export const LIMITS = {
  /** Raw request body, before JSON parsing. */
  bodyBytes: 16 * 1024,
  /** The sensitive attribute, in UTF-8 bytes (sealed, it grows by 4/3 plus ~50 bytes). */
  secretBytes: 4096,
  nameChars: 256,
  listDefault: 25,
  listMax: 100,
} as const

const OWNER = /^[A-Za-z0-9._@+-]{1,128}$/
const ID = /^[A-Za-z0-9_-]{1,64}$/

const owner = z
  .string('owner must be a string')
  .check(z.regex(OWNER, 'owner must be 1-128 characters of A-Z a-z 0-9 . _ @ + -'))

const id = z
  .string('id must be a string')
  .check(z.regex(ID, 'id must be 1-64 characters of A-Z a-z 0-9 _ -'))

const name = z
  .string('name must be a string')
  .check(
    z.minLength(1, 'name must not be empty'),
    z.maxLength(LIMITS.nameChars, `name must be at most ${LIMITS.nameChars} characters`),
  )

const secret = z.string('secret must be a string').check(
  z.minLength(1, 'secret must not be empty'),
  z.refine(
    (value) => Buffer.byteLength(value, 'utf8') <= LIMITS.secretBytes,
    `secret must be at most ${LIMITS.secretBytes} bytes (UTF-8)`,
  ),
)

/** Body of POST /items. `id` is optional: without it the function picks a random one. */
export const createItemBody = z.strictObject(
  { owner, name, secret, id: z.optional(id) },
  'body must be a JSON object with owner, name and secret (and optionally id), and nothing else',
)

const jsonBody = z.pipe(
  z
    .string('body is required')
    .check(
      z.refine(
        (text) => Buffer.byteLength(text, 'utf8') <= LIMITS.bodyBytes,
        `body must be at most ${LIMITS.bodyBytes} bytes`,
      ),
    ),
  z.transform((text, context) => {
    try {
      return JSON.parse(text) as unknown
    } catch {
      // Not JSON.parse's message: it quotes the text around the error, i.e. the input.
      context.issues.push({ code: 'custom', message: 'body is not valid JSON', input: '' })
      return z.NEVER
    }
  }),
)

const limit = z.pipe(
  z
    .string()
    .check(z.regex(/^\d{1,3}$/, `limit must be a whole number from 1 to ${LIMITS.listMax}`)),
  z.pipe(
    z.transform((text: string) => Number(text)),
    z
      .number()
      .check(
        z.gte(1, `limit must be a whole number from 1 to ${LIMITS.listMax}`),
        z.lte(LIMITS.listMax, `limit must be a whole number from 1 to ${LIMITS.listMax}`),
      ),
  ),
)

/** An opaque page token: base64url of the last id of the previous page. */
const cursor = z.pipe(
  z.string().check(z.regex(/^[A-Za-z0-9_-]{1,88}$/, 'cursor is not a valid page token')),
  z.transform((text, context) => {
    const decoded = Buffer.from(text, 'base64url').toString('utf8')
    if (ID.test(decoded) && Buffer.from(decoded, 'utf8').toString('base64url') === text) {
      return decoded
    }
    context.issues.push({ code: 'custom', message: 'cursor is not a valid page token', input: '' })
    return z.NEVER
  }),
)

export const encodeCursor = (lastId: string): string =>
  Buffer.from(lastId, 'utf8').toString('base64url')

const createEvent = z.object({
  routeKey: z.literal(ROUTES.create),
  body: z.pipe(jsonBody, createItemBody),
})

const getEvent = z.object({
  routeKey: z.literal(ROUTES.get),
  pathParameters: z.object({ owner, id }, 'path must be /items/{owner}/{id}'),
})

const listEvent = z.object({
  routeKey: z.literal(ROUTES.list),
  pathParameters: z.object({ owner }, 'path must be /items/{owner}'),
  queryStringParameters: z.optional(
    z.nullable(
      z.object({
        limit: z.optional(limit),
        cursor: z.optional(cursor),
      }),
    ),
  ),
})

/**
 * HTTP API sends a body base64-encoded when its content type is not text: decode it
 * first, so the body schema always sees text.
 */
const decodedBody = z.pipe(
  z.looseObject(
    {
      version: z.literal('2.0', 'event must be an API Gateway HTTP API event (payload format 2.0)'),
      routeKey: z.string('event has no routeKey'),
      isBase64Encoded: z.optional(z.boolean()),
      body: z.optional(z.string()),
    },
    'event must be an API Gateway HTTP API event (payload format 2.0)',
  ),
  // Typed `unknown`: the route schemas below check the result again, field by field.
  z.transform((event): unknown =>
    event.isBase64Encoded && event.body !== undefined
      ? { ...event, body: Buffer.from(event.body, 'base64').toString('utf8') }
      : event,
  ),
)

export const itemsEvent = z.pipe(
  decodedBody,
  z.discriminatedUnion('routeKey', [createEvent, getEvent, listEvent], 'unsupported route'),
)

export type ItemsEvent = z.output<typeof itemsEvent>
export type CreateItemEvent = Extract<ItemsEvent, { routeKey: typeof ROUTES.create }>
export type GetItemEvent = Extract<ItemsEvent, { routeKey: typeof ROUTES.get }>
export type ListItemsEvent = Extract<ItemsEvent, { routeKey: typeof ROUTES.list }>
