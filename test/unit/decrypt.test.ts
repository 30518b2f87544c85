import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DecryptCommand } from '@aws-sdk/client-kms'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EnvelopeKind, sealEnvelope } from '../../src/core/envelope.ts'
import { fakeKms, KEY_ARN } from './fake-kms.ts'

const freshLibrary = async () => {
  vi.resetModules()
  return import('../../src/index.ts')
}

/** Runs loadSecrets and returns its error (or fails the test if there is none). */
const failureOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeDefined()
  return error as { code: string; variable: string; message: string }
}

const CONTEXT = { LambdaFunctionName: 'my-function' }

/** A temporary LAMBDA_TASK_ROOT, removed after each test. */
const roots: string[] = []
const taskRoot = () => {
  const root = mkdtempSync(join(tmpdir(), 'kms-secrets-'))
  roots.push(root)
  return root
}

describe('decrypt core', () => {
  let fake: ReturnType<typeof fakeKms>

  beforeEach(() => {
    fake = fakeKms()
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'my-function')
    vi.stubEnv('KMS_SECRETS_FUNCTION_NAME', '')
  })
  afterEach(() => {
    fake.kms.restore()
    vi.unstubAllEnvs()
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
  })

  /** An envelope whose data key the fake KMS decrypts under `context`. */
  const envelope = (
    id: string,
    plaintext: string,
    kind: EnvelopeKind = EnvelopeKind.Value,
    context: Record<string, string> = CONTEXT,
  ) => {
    const dataKey = randomBytes(32)
    const encryptedKey = Buffer.from(fake.encrypt(id, dataKey, context), 'base64')
    return sealEnvelope({ kind, plaintext: Buffer.from(plaintext), dataKey, encryptedKey, context })
  }

  describe('bad input fails before any KMS call, naming the variable', () => {
    it.each([
      ['empty', '', /value is empty/],
      ['not base64', 'not base64!!', /not valid base64/],
      ['truncated base64', 'Y3Q6dG9rZW4', /not valid base64/],
      ['over the KMS blob size', Buffer.alloc(6145, 1).toString('base64'), /larger than any KMS/],
      ['a truncated envelope', 'kse1:AQAB', /envelope is truncated or malformed/],
      ['an envelope of one byte', 'kse1:AQ==', /envelope is truncated or malformed/],
      [
        'an envelope of unknown kind',
        `kse1:${Buffer.alloc(40, 9).toString('base64')}`,
        /malformed/,
      ],
      [
        'an envelope without data key',
        `kse1:${Buffer.alloc(40, 0).fill(1, 0, 1).toString('base64')}`,
        /malformed/,
      ],
    ])('%s', async (_name, value, message) => {
      // Prepare
      vi.stubEnv('GOOD', fake.encrypt('good', 'fine'))
      vi.stubEnv('BAD', value)
      const { loadSecrets } = await freshLibrary()

      // Act
      const error = await failureOf(loadSecrets({ fetchData: { good: 'GOOD', bad: 'BAD' } }))

      // Assess
      expect(error).toMatchObject({
        name: 'KmsSecretsError',
        code: 'MALFORMED_VALUE',
        variable: 'BAD',
      })
      expect(error.message).toMatch(message)
      expect(error.message).toMatch(/^BAD: /)
      expect(fake.decryptCalls()).toBe(0)
    })

    it('a missing variable', async () => {
      // Prepare
      const { loadSecrets } = await freshLibrary()

      // Act
      const error = await failureOf(loadSecrets({ fetchData: { token: 'NOT_SET' } }))

      // Assess
      expect(error).toMatchObject({ code: 'MISSING_VARIABLE', variable: 'NOT_SET' })
    })
  })

  it('accepts surrounding white space (a pasted value with its newline)', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', `  ${fake.encrypt('token', 'abc')}\n`)
    const { loadSecrets } = await freshLibrary()

    // Act
    const secrets = await loadSecrets({ fetchData: { token: 'API_TOKEN' } })

    // Assess
    expect(secrets.token).toBe('abc')
  })

  describe('encryption context', () => {
    it('prefers KMS_SECRETS_FUNCTION_NAME over AWS_LAMBDA_FUNCTION_NAME', async () => {
      // Prepare
      vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'local-name')
      vi.stubEnv('KMS_SECRETS_FUNCTION_NAME', 'deployed-name')
      vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc', { LambdaFunctionName: 'deployed-name' }))
      const { loadSecrets } = await freshLibrary()

      // Act
      const secrets = await loadSecrets({ fetchData: { token: 'API_TOKEN' } })

      // Assess
      expect(secrets.token).toBe('abc')
    })

    it('explains a context mismatch instead of a bare InvalidCiphertextException', async () => {
      // Prepare
      vi.stubEnv(
        'API_TOKEN',
        fake.encrypt('token', 'abc', { LambdaFunctionName: 'other-function' }),
      )
      const { loadSecrets } = await freshLibrary()

      // Act
      const error = await failureOf(loadSecrets({ fetchData: { token: 'API_TOKEN' } }))

      // Assess
      expect(error).toMatchObject({
        code: 'CONTEXT_MISMATCH',
        variable: 'API_TOKEN',
        kmsError: 'InvalidCiphertextException',
      })
      expect(error.message).toMatch(/another function name or encryption context/)
    })

    it('sends an explicit context, or none with false', async () => {
      // Prepare
      vi.stubEnv('A', fake.encrypt('a', 'with', { Purpose: 'test' }))
      vi.stubEnv('B', fake.encrypt('b', 'without', {}))
      const { loadSecrets } = await freshLibrary()

      // Act
      const a = await loadSecrets({
        fetchData: { a: 'A' },
        encryptionContext: { Purpose: 'test' },
        cacheKey: 'a',
      })
      const b = await loadSecrets({
        fetchData: { b: 'B' },
        encryptionContext: false,
        cacheKey: 'b',
      })

      // Assess
      expect(a.a).toBe('with')
      expect(b.b).toBe('without')
    })

    it('fails clearly when no function name is known', async () => {
      // Prepare
      vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', '')
      vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
      const { loadSecrets } = await freshLibrary()

      // Act
      const error = await failureOf(loadSecrets({ fetchData: { token: 'API_TOKEN' } }))

      // Assess
      expect(error).toMatchObject({
        code: 'MISSING_VARIABLE',
        variable: 'AWS_LAMBDA_FUNCTION_NAME',
      })
      expect(fake.decryptCalls()).toBe(0)
    })

    it('binds the variable name when asked: a value moved to another variable fails', async () => {
      // Prepare
      const bound = { ...CONTEXT, EnvironmentVariableName: 'API_TOKEN' }
      vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc', bound))
      vi.stubEnv('MOVED', fake.encrypt('token', 'abc', bound))
      const { loadSecrets } = await freshLibrary()

      // Act
      const ok = await loadSecrets({
        fetchData: { token: 'API_TOKEN' },
        bindVariableName: true,
        cacheKey: 'ok',
      })
      const error = await failureOf(
        loadSecrets({ fetchData: { token: 'MOVED' }, bindVariableName: true, cacheKey: 'moved' }),
      )

      // Assess
      expect(ok.token).toBe('abc')
      expect(error).toMatchObject({ code: 'CONTEXT_MISMATCH', variable: 'MOVED' })
    })
  })

  describe('keyId pin', () => {
    it.each([
      ['the key ARN', KEY_ARN],
      ['the bare key id', '1111aaaa-2222-bbbb-3333-cccc4444dddd'],
      ['an alias (enforced by KMS itself)', 'alias/my-key'],
      ['an alias ARN', 'arn:aws:kms:us-east-1:123456789012:alias/my-key'],
    ])('passes the pin on Decrypt and accepts %s', async (_name, keyId) => {
      // Prepare
      vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
      const { loadSecrets } = await freshLibrary()

      // Act
      const secrets = await loadSecrets({ fetchData: { token: 'API_TOKEN' }, keyId })

      // Assess
      expect(secrets.token).toBe('abc')
      expect(fake.kms.commandCalls(DecryptCommand)[0]?.args[0].input.KeyId).toBe(keyId)
    })

    it.each([
      ['another key', 'arn:aws:kms:us-east-1:123456789012:key/9999', KEY_ARN],
      ['another key id', '9999', KEY_ARN],
      ['no key in the answer', KEY_ARN, undefined],
    ])('rejects and wipes a plaintext decrypted under %s', async (_name, keyId, answered) => {
      // Prepare
      vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
      const plaintext = Buffer.from('abc')
      fake.kms.on(DecryptCommand).resolves({ Plaintext: plaintext, KeyId: answered })
      const { loadSecrets } = await freshLibrary()

      // Act
      const error = await failureOf(loadSecrets({ fetchData: { token: 'API_TOKEN' }, keyId }))

      // Assess
      expect(error).toMatchObject({ code: 'KEY_MISMATCH', variable: 'API_TOKEN' })
      expect([...plaintext]).toEqual([0, 0, 0])
    })
  })

  it('reports an answer without plaintext', async () => {
    // Prepare
    vi.stubEnv('API_TOKEN', fake.encrypt('token', 'abc'))
    fake.kms.on(DecryptCommand).resolves({})
    const { loadSecrets } = await freshLibrary()

    // Act
    const error = await failureOf(loadSecrets({ fetchData: { token: 'API_TOKEN' } }))

    // Assess
    expect(error).toMatchObject({ code: 'KMS_ERROR', variable: 'API_TOKEN' })
  })

  it('fails within the deadline when KMS hangs, and wipes what arrives late', async () => {
    // Prepare
    vi.stubEnv('FAST', fake.encrypt('fast', 'quick'))
    vi.stubEnv('SLOW', fake.encrypt('slow', 'late'))
    const late = Buffer.from('late')
    let answerLate: (() => void) | undefined
    fake.kms.on(DecryptCommand).callsFake(async (input: DecryptCommand['input']) => {
      if (Buffer.from(input.CiphertextBlob ?? []).toString() === 'ct:fast') {
        return { Plaintext: Buffer.from('quick') }
      }
      await new Promise<void>((resolve) => {
        answerLate = resolve
      })
      return { Plaintext: late }
    })
    const { loadSecrets } = await freshLibrary()
    const started = Date.now()

    // Act
    const error = await failureOf(
      loadSecrets({ fetchData: { fast: 'FAST', slow: 'SLOW' }, timeout: 50 }),
    )
    const elapsed = Date.now() - started
    answerLate?.()
    await new Promise((resolve) => setTimeout(resolve, 5))

    // Assess
    expect(error).toMatchObject({ code: 'TIMEOUT' })
    expect(error.message).toMatch(/50 ms deadline/)
    expect(elapsed).toBeLessThan(2000)
    expect([...late]).toEqual([0, 0, 0, 0])
  })

  it('wipes every plaintext buffer once converted', async () => {
    // Prepare
    vi.stubEnv('A', fake.encrypt('a', 'secret-a'))
    vi.stubEnv('B', fake.encrypt('b', 'secret-b'))
    const { loadSecrets } = await freshLibrary()

    // Act
    const secrets = await loadSecrets({ fetchData: { a: 'A', b: 'B' } })

    // Assess
    expect(secrets).toEqual({ a: 'secret-a', b: 'secret-b' })
    expect(fake.returned).toHaveLength(2)
    for (const buffer of fake.returned) expect(buffer.every((byte) => byte === 0)).toBe(true)
  })

  describe('transforms', () => {
    it('parses JSON, keeps binary as bytes, and refuses non-UTF-8 text', async () => {
      // Prepare
      const key = new Uint8Array([0xff, 0x00, 0xc3, 0x28])
      vi.stubEnv('CONFIG', fake.encrypt('config', '{"port":5432}'))
      vi.stubEnv('DATA_KEY', fake.encrypt('key', key))
      const { loadSecrets } = await freshLibrary()

      // Act
      const secrets = await loadSecrets({
        fetchData: { config: 'CONFIG', dataKey: 'DATA_KEY' },
        transform: { config: 'json', dataKey: 'binary' },
      })
      const error = await failureOf(
        loadSecrets({ fetchData: { text: 'DATA_KEY' }, cacheKey: 'text' }),
      )

      // Assess
      expect(secrets.config).toEqual({ port: 5432 })
      expect(secrets.dataKey).toEqual(key)
      expect(error).toMatchObject({ code: 'MALFORMED_VALUE', variable: 'DATA_KEY' })
      expect(error.message).toMatch(/transform 'binary'/)
    })

    // Found by test/fuzz: TextDecoder drops a leading BOM unless told not to.
    it('keeps a leading U+FEFF: the text is the plaintext, exactly', async () => {
      // Prepare
      vi.stubEnv('TOKEN', fake.encrypt('token', '\uFEFFtok-123'))
      const { loadSecrets } = await freshLibrary()

      // Act
      const secrets = await loadSecrets({ fetchData: { token: 'TOKEN' } })

      // Assess
      expect(secrets.token).toBe('\uFEFFtok-123')
    })

    it('reports invalid JSON without echoing it', async () => {
      // Prepare
      vi.stubEnv('CONFIG', fake.encrypt('config', 'hunter2-not-json'))
      const { loadSecrets } = await freshLibrary()

      // Act
      const error = await failureOf(
        loadSecrets({ fetchData: { config: 'CONFIG' }, transform: 'json' }),
      )

      // Assess
      expect(error).toMatchObject({ code: 'MALFORMED_VALUE', variable: 'CONFIG' })
      expect(error.message).not.toContain('hunter2')
    })
  })

  describe('envelopes and bundles', () => {
    it('opens a single-value envelope with one KMS call', async () => {
      // Prepare
      vi.stubEnv('BIG', envelope('big', 'x'.repeat(10_000)))
      const { loadSecrets } = await freshLibrary()

      // Act
      const secrets = await loadSecrets({ fetchData: { big: 'BIG' } })

      // Assess
      expect(secrets.big).toBe('x'.repeat(10_000))
      expect(fake.decryptCalls()).toBe(1)
    })

    it('binds a multi-key context in canonical order, whatever the order given', async () => {
      // Prepare
      const context = { Zone: 'z', Application: 'a', LambdaFunctionName: 'my-function' }
      vi.stubEnv('BIG', envelope('big', 'value', EnvelopeKind.Value, context))
      const { loadSecrets } = await freshLibrary()

      // Act
      const secrets = await loadSecrets({
        fetchData: { big: 'BIG' },
        encryptionContext: { LambdaFunctionName: 'my-function', Application: 'a', Zone: 'z' },
      })

      // Assess
      expect(secrets.big).toBe('value')
    })

    it('spreads bundle fields onto internal keys with one KMS call', async () => {
      // Prepare
      const fields = { API_TOKEN: 'tök€n', DB_PASSWORD: 'pw', CONFIG: '{"a":1}', KEY: 'AP8B' }
      vi.stubEnv('BUNDLE', envelope('bundle', JSON.stringify(fields), EnvelopeKind.Bundle))
      const { loadSecrets } = await freshLibrary()

      // Act
      const secrets = await loadSecrets({
        fetchData: {
          token: 'BUNDLE#API_TOKEN',
          password: 'BUNDLE#DB_PASSWORD',
          config: 'BUNDLE#CONFIG',
          key: 'BUNDLE#KEY',
          all: 'BUNDLE',
        },
        transform: { config: 'json', key: 'binary', all: 'json' },
      })

      // Assess
      expect(secrets).toEqual({
        token: 'tök€n',
        password: 'pw',
        config: { a: 1 },
        key: new Uint8Array([0, 255, 1]),
        all: fields,
      })
      expect(fake.decryptCalls()).toBe(1)
    })

    it.each([
      [
        'a missing field',
        'BUNDLE#NOPE',
        EnvelopeKind.Bundle,
        '{"A":"1"}',
        'MISSING_VARIABLE',
        /no field "NOPE"/,
      ],
      [
        'a field of a single value',
        'BUNDLE#A',
        EnvelopeKind.Value,
        '{"A":"1"}',
        'MALFORMED_VALUE',
        /not a bundle/,
      ],
      [
        'a bundle that is not an object of strings',
        'BUNDLE#A',
        EnvelopeKind.Bundle,
        '{"A":1}',
        'MALFORMED_VALUE',
        /JSON object of strings/,
      ],
      [
        'a bundle that is an array',
        'BUNDLE#A',
        EnvelopeKind.Bundle,
        '["A"]',
        'MALFORMED_VALUE',
        /JSON object of strings/,
      ],
      [
        'a bundle that is null',
        'BUNDLE#A',
        EnvelopeKind.Bundle,
        'null',
        'MALFORMED_VALUE',
        /JSON object of strings/,
      ],
    ])('reports %s', async (_name, source, kind, plaintext, code, message) => {
      // Prepare
      vi.stubEnv('BUNDLE', envelope('bundle', plaintext, kind))
      const { loadSecrets } = await freshLibrary()

      // Act
      const error = await failureOf(loadSecrets({ fetchData: { value: source } }))

      // Assess
      expect(error).toMatchObject({ code })
      expect(error.message).toMatch(message)
    })

    it('detects a tampered envelope', async () => {
      // Prepare
      const sealed = Buffer.from(envelope('t', 'secret').slice(5), 'base64')
      sealed[sealed.length - 20] = (sealed[sealed.length - 20] ?? 0) ^ 1
      vi.stubEnv('TAMPERED', `kse1:${sealed.toString('base64')}`)
      const { loadSecrets } = await freshLibrary()

      // Act
      const error = await failureOf(loadSecrets({ fetchData: { value: 'TAMPERED' } }))

      // Assess
      expect(error).toMatchObject({ code: 'TAMPERED', variable: 'TAMPERED' })
    })

    it('reads secrets files relative to LAMBDA_TASK_ROOT, or absolute', async () => {
      // Prepare
      const root = taskRoot()
      writeFileSync(
        join(root, 'secrets.enc'),
        `${envelope('file', '{"cert":"C","key":"K"}', EnvelopeKind.Bundle)}\n`,
      )
      vi.stubEnv('LAMBDA_TASK_ROOT', root)
      const { loadSecrets } = await freshLibrary()

      // Act
      const relative = await loadSecrets({
        fetchData: { cert: 'file:secrets.enc#cert', key: 'file:secrets.enc#key' },
      })
      const absolute = await loadSecrets({
        fetchData: { key: `file:${join(root, 'secrets.enc')}#key` },
        cacheKey: 'abs',
      })
      const missing = await failureOf(
        loadSecrets({ fetchData: { x: 'file:nope.enc' }, cacheKey: 'missing' }),
      )

      // Assess
      expect(relative).toEqual({ cert: 'C', key: 'K' })
      expect(absolute).toEqual({ key: 'K' })
      expect(missing).toMatchObject({ code: 'MISSING_VARIABLE', variable: 'file:nope.enc' })
      expect(missing.message).toMatch(/ENOENT/)
      expect(fake.decryptCalls()).toBe(2)
    })

    it('reads secrets files from the working directory outside Lambda', async () => {
      // Prepare
      const root = taskRoot()
      writeFileSync(join(root, 'secrets.enc'), envelope('file', 'plain'))
      vi.stubEnv('LAMBDA_TASK_ROOT', undefined)
      const cwd = vi.spyOn(process, 'cwd').mockReturnValue(root)
      const { loadSecrets } = await freshLibrary()

      // Act
      const secrets = await loadSecrets({ fetchData: { value: 'file:secrets.enc' } })
      cwd.mockRestore()

      // Assess
      expect(secrets.value).toBe('plain')
    })
  })

  describe('options are checked up front', () => {
    it.each([
      ['no fetchData', { fetchData: {} }, /fetchData must be an object/],
      ['a null fetchData', { fetchData: null }, /fetchData must be an object/],
      ['a bad cacheExpiry', { fetchData: { a: 'A' }, cacheExpiry: -2 }, /cacheExpiry/],
      ['a fractional cacheExpiry', { fetchData: { a: 'A' }, cacheExpiry: 1.5 }, /cacheExpiry/],
      ['a bad timeout', { fetchData: { a: 'A' }, timeout: 0 }, /timeout/],
      [
        'an infinite timeout',
        { fetchData: { a: 'A' }, timeout: Number.POSITIVE_INFINITY },
        /timeout/,
      ],
      [
        'a bad variable name',
        { fetchData: { a: 'lower-case' } },
        /not an environment variable name/,
      ],
      ['an empty field', { fetchData: { a: 'A#' } }, /empty field name/],
      ['an empty file path', { fetchData: { a: 'file:' } }, /empty file path/],
    ])('%s', async (_name, options, message) => {
      // Prepare
      const { kmsSecrets } = await freshLibrary()

      // Act
      const act = () => kmsSecrets(options as Parameters<typeof kmsSecrets>[0])

      // Assess
      expect(act).toThrow(message)
      expect(act).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    })
  })
})
