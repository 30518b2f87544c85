// API Gateway HTTP API (payload 2.0) structured responses.

export interface Response {
  statusCode: number
  headers: Record<string, string>
  body: string
}

const HEADERS = {
  'content-type': 'application/json',
  // A response may hold a decrypted secret: no cache may keep it.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const

export const jsonResponse = (statusCode: number, body: unknown): Response => ({
  statusCode,
  headers: { ...HEADERS },
  body: JSON.stringify(body),
})
