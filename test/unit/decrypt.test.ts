import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DecryptCommand } from '@aws-sdk/client-kms'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type decryptSecrets, parseSource } from '../../src/core/decrypt.ts'
import { EnvelopeKind } from '../../src/core/envelope.ts'
import { KmsSecretsError } from '../../src/core/errors.ts'
import {
  decryptRound,
  fakeKmsEachTest,
  fakeKmsInFunctionEachTest,
  KEY_ARN,
  type Read,
} from './fake-kms.ts'

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
  const fake = fakeKmsInFunctionEachTest()
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
  })

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

    it('fails clearly when no function name is known, saying what to set', async () => {
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
      expect(error.message).toBe(
        'AWS_LAMBDA_FUNCTION_NAME: no function name for the default encryption context: set KMS_SECRETS_FUNCTION_NAME, or pass encryptionContext',
      )
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
      vi.stubEnv('BIG', fake.envelope('x'.repeat(10_000)))
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
      vi.stubEnv('BIG', fake.envelope('value', EnvelopeKind.Value, context))
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
      vi.stubEnv('BUNDLE', fake.envelope(JSON.stringify(fields), EnvelopeKind.Bundle))
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
      vi.stubEnv('BUNDLE', fake.envelope(plaintext, kind))
      const { loadSecrets } = await freshLibrary()

      // Act
      const error = await failureOf(loadSecrets({ fetchData: { value: source } }))

      // Assess
      expect(error).toMatchObject({ code })
      expect(error.message).toMatch(message)
    })

    it('detects a tampered envelope', async () => {
      // Prepare
      const sealed = Buffer.from(fake.envelope('secret').slice(5), 'base64')
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
        `${fake.envelope('{"cert":"C","key":"K"}', EnvelopeKind.Bundle)}\n`,
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
      writeFileSync(join(root, 'secrets.enc'), fake.envelope('plain'))
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

describe('the decrypt core at its edges', () => {
  // The decrypt core at its edges: limits, error details (code, variable, message), what
  // is wiped, what is parsed once, each pinned exactly (the KMS error table: errors.test.ts).
  const CONTEXT = { LambdaFunctionName: 'my-function' }

  const fake = fakeKmsEachTest()
  afterEach(() => {
    vi.restoreAllMocks()
    vi.useRealTimers()
  })

  const round = (
    env: Record<string, string>,
    reads: Read[],
    extra: Partial<Parameters<typeof decryptSecrets>[0]> = {},
  ) => decryptRound(env, reads, CONTEXT, extra)

  const failure = async (promise: Promise<unknown>): Promise<KmsSecretsError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(KmsSecretsError)
    return error as KmsSecretsError
  }

  describe('the deadline', () => {
    it('names every source of the round and aborts the calls in flight', async () => {
      // Prepare: KMS never answers
      fake.kms.on(DecryptCommand).callsFake(() => new Promise(() => {}))
      const env = { A: fake.encrypt('a', 'x'), B: fake.encrypt('b', 'y') }
      // Act
      const error = await failure(
        round(
          env,
          [
            ['a', 'A'],
            ['b', 'B#f'],
            ['c', 'A'],
          ],
          { timeoutMs: 20 },
        ),
      )
      // Assess
      expect(error).toMatchObject({ code: 'TIMEOUT', variable: 'A,B' })
      expect(error.message).toBe('A,B: decrypting took longer than the 20 ms deadline')
      const signals = fake.kms
        .commandCalls(DecryptCommand)
        .map((call) => ((call.args as unknown[])[1] as { abortSignal: AbortSignal }).abortSignal)
      expect(signals).toHaveLength(2)
      expect(signals.every((signal) => signal.aborted)).toBe(true)
    })

    it('once a call fails, starts no other (51 variables: one more than run in parallel)', async () => {
      // Prepare: the first variable is refused, the 49 others in flight succeed
      const env: Record<string, string> = {}
      const reads: Read[] = []
      for (let i = 0; i < 51; i++) {
        env[`V${i}`] = fake.encrypt(`v${i}`, `value-${i}`, i === 0 ? { Other: 'x' } : CONTEXT)
        reads.push([`v${i}`, `V${i}`])
      }
      // Act
      const error = await failure(round(env, reads))
      // Assess: the 51st variable, queued behind the first 50, never reached KMS
      expect(error).toMatchObject({ code: 'CONTEXT_MISMATCH', variable: 'V0' })
      expect(fake.decryptCalls()).toBe(50)
    })

    it('leaves no timer behind once the round is done', async () => {
      // Prepare
      vi.useFakeTimers()
      // Act
      const values = await round({ A: fake.encrypt('a', 'x') }, [['a', 'A']])
      // Assess
      expect(values).toEqual({ a: 'x' })
      expect(vi.getTimerCount()).toBe(0)
    })
  })

  describe('raw blobs', () => {
    it('takes a blob of exactly 6144 bytes (the KMS maximum) to KMS', async () => {
      // Prepare
      const blob = Buffer.alloc(6144, 7).toString('base64')
      // Act
      const error = await failure(round({ A: blob }, [['a', 'A']]))
      // Assess: KMS was asked, and refused it
      expect(error.code).toBe('CONTEXT_MISMATCH')
      expect(fake.decryptCalls()).toBe(1)
    })

    it('has no fields, even when its plaintext looks like a bundle', async () => {
      // Prepare
      const env = { A: fake.encrypt('a', '{"F":"1"}') }
      // Act
      const error = await failure(round(env, [['f', 'A#F']]))
      // Assess
      expect(error).toMatchObject({ code: 'MALFORMED_VALUE', variable: 'A' })
      expect(error.message).toBe('A: is not a bundle, so it has no field "F"')
    })
  })

  describe('envelopes and bundles', () => {
    it('wipes the data key KMS returned once the envelope is open', async () => {
      // Prepare
      const env = { A: fake.envelope('secret-value') }
      // Act
      const values = await round(env, [['a', 'A']])
      // Assess
      expect(values).toEqual({ a: 'secret-value' })
      expect(fake.returned).toHaveLength(1)
      expect(fake.returned[0]?.length).toBe(32)
      expect(fake.returned[0]?.every((byte) => byte === 0)).toBe(true)
    })

    it('parses a bundle once, whatever the number of fields read', async () => {
      // Prepare
      const env = { S: fake.envelope('{"A":"1","B":"2","C":"3"}', EnvelopeKind.Bundle) }
      const parse = vi.spyOn(JSON, 'parse')
      // Act
      const values = await round(env, [
        ['a', 'S#A'],
        ['b', 'S#B'],
        ['c', 'S#C'],
      ])
      // Assess
      expect(values).toEqual({ a: '1', b: '2', c: '3' })
      expect(parse).toHaveBeenCalledTimes(1)
    })

    it.each([
      ['binary', 'B', 'S#B: value is not valid base64 (truncated or altered?)'],
      ['json', 'C', 'S#C: plaintext is not valid JSON'],
    ] as const)(
      'a %s field that does not convert names the source and the field',
      async (transform, field, message) => {
        // Prepare
        const env = { S: fake.envelope('{"B":"not base64!","C":"{nope"}', EnvelopeKind.Bundle) }
        // Act
        const error = await failure(round(env, [['x', `S#${field}`, transform]]))
        // Assess
        expect(error).toMatchObject({ code: 'MALFORMED_VALUE', variable: `S#${field}` })
        expect(error.message).toBe(message)
      },
    )

    it.each([
      ['a JSON string', '"abc"', '0'],
      ['an object with a number', '{"A":"1","B":2}', 'A'],
      ['an array', '["a"]', '0'],
      ['null', 'null', 'A'],
    ])('a bundle holding %s is refused, naming the source', async (_, plaintext, field) => {
      // Prepare
      const env = { S: fake.envelope(plaintext, EnvelopeKind.Bundle) }
      // Act
      const error = await failure(round(env, [['x', `S#${field}`]]))
      // Assess
      expect(error).toMatchObject({ code: 'MALFORMED_VALUE', variable: 'S' })
      expect(error.message).toBe('S: bundle is not a JSON object of strings')
    })

    it('an altered envelope fails authentication, with the message that says so', async () => {
      // Prepare
      const sealed = fake.envelope('secret-value')
      const body = Buffer.from(sealed.slice(5), 'base64')
      body[body.length - 1] = (body[body.length - 1] as number) ^ 1
      // Act
      const error = await failure(round({ A: `kse1:${body.toString('base64')}` }, [['a', 'A']]))
      // Assess
      expect(error.code).toBe('TAMPERED')
      expect(error.message).toBe(
        'A: envelope failed authentication: it was altered, or its encryption context differs',
      )
    })

    it.each([
      [
        'a version prefix not at the start',
        'Xkse2:AAAA',
        'A: value is not valid base64 (truncated or altered?)',
      ],
      [
        'a two-digit version',
        'kse12:AAAA',
        'A: envelope format kse12: is not supported by this version of middy-kms-secrets (upgrade it)',
      ],
    ])('%s', async (_, value, message) => {
      // Act
      const error = await failure(round({ A: value }, [['a', 'A']]))
      // Assess
      expect(error.message).toBe(message)
    })
  })

  describe('KMS answers', () => {
    it('without a plaintext: KMS_ERROR, saying so', async () => {
      // Prepare
      fake.kms.on(DecryptCommand).resolves({ KeyId: KEY_ARN })
      // Act
      const error = await failure(round({ A: fake.encrypt('a', 'x') }, [['a', 'A']]))
      // Assess
      expect(error.code).toBe('KMS_ERROR')
      expect(error.message).toBe('A: KMS answered Decrypt without a plaintext')
    })

    it.each([
      ['another key', `${KEY_ARN.slice(0, -4)}ffff`],
      ['no key id at all', undefined],
    ])('from %s than the pinned key id: KEY_MISMATCH', async (_, answered) => {
      // Prepare
      fake.kms.on(DecryptCommand).resolves({ Plaintext: Buffer.from('x'), KeyId: answered })
      const pin = KEY_ARN.split('/')[1] as string
      // Act
      const error = await failure(
        round({ A: fake.encrypt('a', 'x') }, [['a', 'A']], { keyId: pin }),
      )
      // Assess
      expect(error.code).toBe('KEY_MISMATCH')
      expect(error.message).toBe('A: KMS decrypted with a key other than the keyId pin')
    })
  })

  describe('sources', () => {
    it.each([
      ['VAR#', 'empty field name after "#"'],
      ['file:', 'empty file path'],
      ['file:#x', 'empty file path'],
      [
        'NOT A NAME',
        'not an environment variable name (use VAR, VAR#field, file:path or file:path#field)',
      ],
    ])('%s is refused, naming the source as written', (text, message) => {
      // Act
      let error: unknown
      try {
        parseSource(text)
      } catch (e) {
        error = e
      }
      // Assess
      expect(error).toBeInstanceOf(KmsSecretsError)
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', variable: text })
      expect((error as Error).message).toBe(`${text}: ${message}`)
    })

    it('a file source is of kind "file"', () => {
      // Act / Assess
      expect(parseSource('file:certs/tls.enc#key')).toEqual({
        origin: 'file:certs/tls.enc',
        kind: 'file',
        name: 'certs/tls.enc',
        field: 'key',
      })
    })

    it('an unset variable is MISSING_VARIABLE, saying so', async () => {
      // Act
      const error = await failure(round({}, [['a', 'A']]))
      // Assess
      expect(error).toMatchObject({ code: 'MISSING_VARIABLE', variable: 'A' })
      expect(error.message).toBe('A: environment variable is not set')
    })
  })
})
