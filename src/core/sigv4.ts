// AWS Signature Version 4 for LiteKmsClient, on node:crypto: no dependency, pure ESM.
// Chosen over packages by measurement (docs/BENCHMARKS.md): the CommonJS `aws4` breaks a
// plain ESM bundle, and signers on fetch/WebCrypto make Node load undici at cold start.
import { createHash, createHmac } from 'node:crypto'
import type { Credentials } from './kms.ts'

export interface SignableRequest {
  readonly method: string
  /** The Host header: host[:port], as in a URL's `host`. */
  readonly host: string
  /** The path as a URL holds it (percent-encoded); the query string is not signed. */
  readonly path: string
  /** Headers to sign besides host, x-amz-date and x-amz-security-token. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly service: string
  readonly region: string
}

const ALGORITHM = 'AWS4-HMAC-SHA256'

const sha256Hex = (data: string): string => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest()

/** RFC 3986: every byte but the unreserved characters is percent-encoded. */
const uriEncode = (text: string): string =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )

/**
 * The canonical URI of every service but S3: `.` and `..` segments resolved, empty ones
 * dropped, each segment encoded once more (the path already is, so it is encoded twice).
 */
const canonicalPath = (path: string): string => {
  const segments: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(uriEncode(segment))
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : ''
  // An http(s) URL's path always starts with '/'.
  return `/${segments.join('/')}${trailing}`
}

/** Trims a header value and folds its runs of blanks to one space. */
const canonicalValue = (value: string): string =>
  value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '')

/**
 * Signs a request: returns its headers with host, x-amz-date, x-amz-security-token (with
 * a session token) and authorization added, names in lower case.
 */
export const signRequest = (
  request: SignableRequest,
  credentials: Credentials,
  now: Date = new Date(),
): Record<string, string> => {
  const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, '')
  const day = amzDate.slice(0, 8)
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value
  headers.host = request.host
  headers['x-amz-date'] = amzDate
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken
  const names = Object.keys(headers).sort()
  const signedHeaders = names.join(';')
  const canonicalRequest = [
    request.method,
    canonicalPath(request.path),
    '',
    ...names.map((name) => `${name}:${canonicalValue(headers[name] as string)}`),
    '',
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n')
  const scope = `${day}/${request.region}/${request.service}/aws4_request`
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n')
  const key = [day, request.region, request.service, 'aws4_request'].reduce<string | Buffer>(
    hmac,
    `AWS4${credentials.secretAccessKey}`,
  )
  const signature = hmac(key, stringToSign).toString('hex')
  headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`
  return headers
}
