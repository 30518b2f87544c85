// One table of failures through the three faces: the middleware, loadSecrets and the
// Powertools provider all hand the caller the same KmsSecretsError (same code, same variable).
import { resolve } from 'node:path'
import { DecryptCommand } from '@aws-sdk/client-kms'
import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import fc from 'fast-check'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { MIN_KMS_BLOB_BYTES } from '../../src/core/decrypt.ts'
import { awsError, fakeKmsInFunctionEachTest } from './fake-kms.ts'

const freshLibrary = async () => {
  vi.resetModules()
  return {
    ...(await import('../../src/index.ts')),
    ...(await import('../../src/provider.ts')),
  }
}
type Library = Awaited<ReturnType<typeof freshLibrary>>
type Transform = 'json' | 'binary' | undefined

const faces = {
  kmsSecrets: async (library: Library, source: string, transform: Transform) => {
    const handler = middy()
      .use(library.kmsSecrets({ fetchData: { value: source }, transform, disablePrefetch: true }))
      .handler(async () => 'reached')
    return handler({}, { functionName: 'my-function' } as Context)
  },
  loadSecrets: (library: Library, source: string, transform: Transform) =>
    library.loadSecrets({ fetchData: { value: source }, transform }),
  provider: (library: Library, source: string, transform: Transform) =>
    new library.KmsSecretsProvider().get(source, { transform }),
}

const fake = fakeKmsInFunctionEachTest()
beforeEach(() => {
  vi.stubEnv('LAMBDA_TASK_ROOT', '/var/task')
})

interface Row {
  /** What goes wrong. */
  label: string
  source: string
  transform?: Transform
  prepare: () => void
  code: string
  variable: string
  message: RegExp
  kmsCalls: number
}

const table: Row[] = [
  {
    label: 'the variable is not set',
    source: 'API_TOKEN',
    prepare: () => {},
    code: 'MISSING_VARIABLE',
    variable: 'API_TOKEN',
    message: /environment variable is not set/,
    kmsCalls: 0,
  },
  ...(
    [
      [
        'a plaintext put straight into the variable',
        'mysecrettoken123',
        /does not look like a KMS ciphertext/,
      ],
      ['a value that is not base64', 'my secret token!', /not valid base64/],
      ['an empty value', '', /value is empty/],
    ] as const
  ).map(([label, value, message]) => ({
    label,
    source: 'API_TOKEN',
    prepare: () => vi.stubEnv('API_TOKEN', value),
    code: 'MALFORMED_VALUE',
    variable: 'API_TOKEN',
    message,
    kmsCalls: 0,
  })),
  {
    label: 'a secrets file that is not there',
    source: 'file:secrets/missing.enc',
    prepare: () => {},
    code: 'MISSING_VARIABLE',
    variable: 'file:secrets/missing.enc',
    message: new RegExp(
      `secrets file ${resolve('/var/task', 'secrets/missing.enc')} cannot be read \\(ENOENT\\)`,
    ),
    kmsCalls: 0,
  },
  {
    label: 'no function name for the default context',
    source: 'API_TOKEN',
    prepare: () => {
      vi.stubEnv('API_TOKEN', fake.encrypt('t', 'abc'))
      vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', '')
    },
    code: 'MISSING_VARIABLE',
    variable: 'AWS_LAMBDA_FUNCTION_NAME',
    message: /no function name/,
    kmsCalls: 0,
  },
  ...(
    [
      ['AccessDeniedException', 'ACCESS_DENIED'],
      ['InvalidCiphertextException', 'CONTEXT_MISMATCH'],
      ['IncorrectKeyException', 'KEY_MISMATCH'],
      ['DisabledException', 'KEY_DISABLED'],
      ['ThrottlingException', 'THROTTLED'],
      ['InternalFailure', 'KMS_ERROR'],
    ] as const
  ).map(([name, code]) => ({
    label: `KMS answers ${name}`,
    source: 'API_TOKEN',
    prepare: () => {
      vi.stubEnv('API_TOKEN', fake.encrypt('t', 'abc'))
      fake.kms.on(DecryptCommand).rejects(awsError(name))
    },
    code,
    variable: 'API_TOKEN',
    message: /./,
    kmsCalls: 1,
  })),
  {
    label: 'a plaintext that is not UTF-8, read as text',
    source: 'DATA_KEY',
    prepare: () => vi.stubEnv('DATA_KEY', fake.encrypt('k', Uint8Array.of(0xff, 0xfe, 0x80))),
    code: 'MALFORMED_VALUE',
    variable: 'DATA_KEY',
    message: /use transform 'binary'/,
    kmsCalls: 1,
  },
  {
    label: 'a plaintext that is not JSON, with transform json',
    source: 'CONFIG',
    transform: 'json',
    prepare: () => vi.stubEnv('CONFIG', fake.encrypt('c', '{port:')),
    code: 'MALFORMED_VALUE',
    variable: 'CONFIG',
    message: /not valid JSON/,
    kmsCalls: 1,
  },
  {
    label: 'a field read from a value that is no bundle',
    source: 'API_TOKEN#field',
    prepare: () => vi.stubEnv('API_TOKEN', fake.encrypt('t', 'abc')),
    code: 'MALFORMED_VALUE',
    variable: 'API_TOKEN',
    message: /is not a bundle/,
    kmsCalls: 1,
  },
]

describe('the same KmsSecretsError from every face', () => {
  const cases = Object.keys(faces).flatMap((face) =>
    table.map((row) => ({ face: face as keyof typeof faces, ...row })),
  )
  it.each(cases)('through $face: $label', async (row) => {
    // Prepare
    row.prepare()
    const library = await freshLibrary()

    // Act
    const error = await faces[row.face](library, row.source, row.transform)
      .then(() => undefined)
      .catch((e: unknown) => e)

    // Assess
    expect(error).toBeInstanceOf(library.KmsSecretsError)
    expect(error).toMatchObject({ code: row.code, variable: row.variable })
    expect((error as Error).message).toMatch(row.message)
    expect(fake.decryptCalls()).toBe(row.kmsCalls)
  })
})

describe('a value too short for a KMS ciphertext is a plaintext, told before any KMS call', () => {
  it('the rule, over any base64 text: shorter than a ciphertext fails locally, longer reaches KMS (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 2 * MIN_KMS_BLOB_BYTES }),
        async (bytes) => {
          // Prepare
          fake.kms.resetHistory()
          vi.stubEnv('VALUE', Buffer.from(bytes).toString('base64'))
          const library = await freshLibrary()

          // Act
          const error = (await library
            .loadSecrets({ fetchData: { value: 'VALUE' } })
            .catch((e: unknown) => e)) as { code: string; message: string }

          // Assess: the fake knows none of these blobs, so a call ends in CONTEXT_MISMATCH.
          if (bytes.length < MIN_KMS_BLOB_BYTES) {
            expect(error.code).toBe('MALFORMED_VALUE')
            expect(error.message).toMatch(/does not look like a KMS ciphertext/)
            expect(error.message).not.toContain(Buffer.from(bytes).toString('base64'))
            expect(fake.decryptCalls()).toBe(0)
          } else {
            expect(error.code).toBe('CONTEXT_MISMATCH')
            expect(fake.decryptCalls()).toBe(1)
          }
        },
      ),
      { numRuns: 80 },
    )
  })
})
