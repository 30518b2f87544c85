// The SigV4 signer of /lite against AWS's published test suite and, over random requests,
// against the AWS SDK's own signer (@smithy/signature-v4).
import { createHash, createHmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Credentials } from '../../src/core/kms.ts'
import { signRequest } from '../../src/core/sigv4.ts'

type SourceData = string | ArrayBuffer | ArrayBufferView
const bytes = (data: SourceData): string | Uint8Array => {
  if (typeof data === 'string') return data
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data)
}

/** The hash the SDK's signer is given: SHA-256, or HMAC-SHA256 with a key. */
class Sha256 {
  readonly #hash
  constructor(key?: SourceData) {
    this.#hash = key === undefined ? createHash('sha256') : createHmac('sha256', bytes(key))
  }
  update(data: SourceData) {
    this.#hash.update(bytes(data))
  }
  async digest() {
    return new Uint8Array(this.#hash.digest())
  }
}

// AWS's SigV4 test suite: its credentials, date, region and service.
const SUITE_CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}
const SUITE_DATE = new Date('2015-08-30T12:36:00Z')

describe('signRequest', () => {
  it.each([
    ['get-vanilla', 'GET', '/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    [
      'post-vanilla',
      'POST',
      '/',
      '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    ],
    ['get-utf8', 'GET', '/ሴ', '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85'],
    [
      'get-slash-pointless-dot',
      'GET',
      '/./example',
      'ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5',
    ],
  ])('signs AWS test suite request %s as published', (_name, method, path, signature) => {
    // Act
    const headers = signRequest(
      {
        method,
        host: 'example.amazonaws.com',
        path,
        headers: {},
        body: '',
        service: 'service',
        region: 'us-east-1',
      },
      SUITE_CREDENTIALS,
      SUITE_DATE,
    )

    // Assess
    expect(headers).toEqual({
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    })
  })

  it('signs as the AWS SDK signs, for any body, path, host, region and credentials (with and without a session token)', async () => {
    // Prepare
    const token = fc.string({ unit: fc.constantFrom(...'ABCxyz0189+/= '), minLength: 1 })
    const credentials = fc.record(
      {
        accessKeyId: fc.string({ unit: fc.constantFrom(...'AKIDZ0123'), minLength: 1 }),
        secretAccessKey: fc.string({ minLength: 1 }),
        sessionToken: token,
      },
      { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
    )
    // A percent-encoded path, maybe with empty and dot segments and a trailing slash.
    const path = fc
      .array(fc.oneof(fc.string().map(encodeURIComponent), fc.constantFrom('.', '..', '')), {
        maxLength: 6,
      })
      .map((segments) => `/${segments.join('/')}`)
    const host = fc
      .tuple(fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
      .map(([name, port]) => (port === undefined ? name : `${name}:${port}`))
    const region = fc.stringMatching(/^[a-z]{2}(-[a-z]+)+-\d$/)
    const date = fc.date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2099-12-31T23:59:59Z'),
      noInvalidDate: true,
    })

    // Act / Assess
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme' }),
        path,
        host,
        region,
        credentials,
        date,
        async (body, path, host, region, credentials, date) => {
          const headers = {
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': 'TrentService.Decrypt',
          }
          const ours = signRequest(
            { method: 'POST', host, path, headers, body, service: 'kms', region },
            credentials,
            date,
          )
          const sdk = await new SignatureV4({
            credentials: credentials as Credentials,
            region,
            service: 'kms',
            sha256: Sha256,
            applyChecksum: false,
          }).sign(
            {
              method: 'POST',
              protocol: 'https:',
              hostname: host,
              path,
              query: {},
              headers: { ...headers, host },
              body,
            },
            { signingDate: date },
          )
          expect(ours).toEqual(sdk.headers)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('folds a line break in a header value to one space, as the SDK does', () => {
    // Prepare
    const sign = (target: string) =>
      signRequest(
        {
          method: 'POST',
          host: 'example.amazonaws.com',
          path: '/',
          headers: { 'x-amz-target': target },
          body: '',
          service: 'kms',
          region: 'us-east-1',
        },
        SUITE_CREDENTIALS,
        SUITE_DATE,
      ).authorization

    // Act
    const [folded, spaced] = [sign('a\r\nb'), sign('a b')]

    // Assess
    expect(folded).toBe(spaced)
    expect(folded).not.toBe(sign('ab'))
  })
})
