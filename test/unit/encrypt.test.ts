import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'
import { describe, expect, it } from 'vitest'
import {
  bundlePlaintext,
  EnvelopeKind,
  encryptValue,
  kmsFailure,
  MAX_KMS_PLAINTEXT_BYTES,
  parseDotenv,
  reencryptValue,
  sealWithKms,
} from '../../cli/src/encrypt.ts'
import { openEnvelope, parseEnvelope } from '../../src/core/envelope.ts'
import { KmsSecretsError } from '../../src/core/errors.ts'
import { fakeKmsEachTest } from './fake-kms.ts'

const fake = fakeKmsEachTest()
const client = new KMSClient({ region: 'us-east-1' })
const KEY = 'alias/app'
const ctx = { LambdaFunctionName: 'stack-secure-items' }
const awsError = (name: string) =>
  Object.assign(new Error('server said no'), { name, $metadata: { requestId: 'req-1' } })

/** What most calls here share: the client, the key and the context. */
const defaults = { client, keyId: KEY, context: ctx }

const rejectionOf = async (promise: Promise<unknown>): Promise<KmsSecretsError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(KmsSecretsError)
  return error as KmsSecretsError
}

/** The data key sealing an envelope, as the fake KMS decrypts it under `context`. */
const dataKeyOf = (envelope: string, context: Record<string, string>) =>
  fake.plaintextOf(
    Buffer.from(parseEnvelope(envelope, 'V').encryptedKey).toString('base64'),
    context,
  )

describe('encryptValue', () => {
  it('sends one KMS Encrypt with key, plaintext and context, and returns the blob in base64', async () => {
    // Prepare
    fake.kms.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('blob!') })
    // Act
    const value = await encryptValue({
      ...defaults,
      plaintext: Buffer.from('pässwörd€'),
    })
    // Assess
    expect(value).toBe(Buffer.from('blob!').toString('base64'))
    const calls = fake.kms.commandCalls(EncryptCommand)
    expect(calls).toHaveLength(1)
    const input = calls[0]?.args[0].input
    expect(input?.KeyId).toBe(KEY)
    expect(input?.EncryptionContext).toEqual(ctx)
    expect(Buffer.from(input?.Plaintext as Uint8Array).toString('utf8')).toBe('pässwörd€')
  })

  it('takes exactly 4096 bytes', async () => {
    // Prepare
    fake.kms.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('x') })
    // Act
    const value = await encryptValue({
      ...defaults,
      plaintext: new Uint8Array(MAX_KMS_PLAINTEXT_BYTES),
    })
    // Assess
    expect(value).toBe('eA==')
  })

  it.each([
    [0, 'value: the secret is empty'],
    [
      4097,
      'value: the secret is 4097 bytes, over the 4096 bytes KMS Encrypt takes: use an envelope (kms-secrets encrypt --envelope)',
    ],
  ])('refuses %i bytes before calling KMS', async (size, message) => {
    // Act
    const error = await rejectionOf(encryptValue({ ...defaults, plaintext: new Uint8Array(size) }))
    // Assess
    expect(error.code).toBe('INVALID_OPTIONS')
    expect(error.message).toBe(message)
    expect(fake.kms.commandCalls(EncryptCommand)).toHaveLength(0)
  })

  it.each([
    [
      'AccessDeniedException',
      'ACCESS_DENIED',
      'API_TOKEN: KMS denied Encrypt: the caller lacks kms:Encrypt on the key',
    ],
    ['NotFoundException', 'KEY_MISMATCH', 'API_TOKEN: the KMS key does not exist'],
    ['ThrottlingException', 'THROTTLED', 'API_TOKEN: KMS throttled'],
    ['DisabledException', 'KEY_DISABLED', 'API_TOKEN: the KMS key is disabled'],
  ])('maps %s to %s, naming the variable', async (name, code, start) => {
    // Prepare
    fake.kms.on(EncryptCommand).rejects(awsError(name))
    // Act
    const error = await rejectionOf(
      encryptValue({
        ...defaults,
        plaintext: Buffer.from('s'),
        variable: 'API_TOKEN',
      }),
    )
    // Assess
    expect(error.code).toBe(code)
    expect(error.message.startsWith(start)).toBe(true)
    expect(error.kmsError).toBe(name)
    expect(error.requestId).toBe('req-1')
  })

  it('turns the SDK "Region is missing" into a usage error', async () => {
    // Prepare
    fake.kms.on(EncryptCommand).rejects(new Error('Region is missing'))
    // Act
    const error = await rejectionOf(encryptValue({ ...defaults, plaintext: Buffer.from('s') }))
    // Assess
    expect(error.code).toBe('INVALID_OPTIONS')
    expect(error.message).toBe(
      'value: no AWS region: set AWS_REGION (or a region in your AWS profile)',
    )
  })

  it('an answer without a ciphertext is a KMS_ERROR', async () => {
    // Prepare
    fake.kms.on(EncryptCommand).resolves({})
    // Act
    const error = await rejectionOf(encryptValue({ ...defaults, plaintext: Buffer.from('s') }))
    // Assess
    expect(error.code).toBe('KMS_ERROR')
    expect(error.message).toBe('value: KMS answered Encrypt without a ciphertext')
  })
})

describe('kmsFailure', () => {
  it('keeps an error that is already a KmsSecretsError', () => {
    // Prepare
    const original = new KmsSecretsError('TIMEOUT', 'late')
    // Act
    const mapped = kmsFailure(original, 'Encrypt', 'X')
    // Assess
    expect(mapped).toBe(original)
  })

  it('asks for kms:ReEncrypt* when ReEncrypt is denied', () => {
    // Act
    const mapped = kmsFailure(awsError('AccessDeniedException'), 'ReEncrypt', 'X')
    // Assess
    expect(mapped.message).toContain(
      'KMS denied ReEncrypt: the caller lacks kms:ReEncrypt* on the key',
    )
  })
})

describe('sealWithKms', () => {
  it('makes one data key (AES_256, same context), seals with it, then wipes it', async () => {
    // Act
    const envelope = await sealWithKms({
      ...defaults,
      kind: EnvelopeKind.Value,
      plaintext: Buffer.from('-----BEGIN PRIVATE KEY-----'),
    })
    // Assess
    const input = fake.kms.commandCalls(GenerateDataKeyCommand)[0]?.args[0].input
    expect(input).toEqual({ KeyId: KEY, KeySpec: 'AES_256', EncryptionContext: ctx })
    expect(fake.returned[0]?.every((byte) => byte === 0)).toBe(true)
    const opened = openEnvelope(parseEnvelope(envelope, 'V'), dataKeyOf(envelope, ctx), ctx, 'V')
    expect(opened.toString()).toBe('-----BEGIN PRIVATE KEY-----')
    expect(parseEnvelope(envelope, 'V').kind).toBe(EnvelopeKind.Value)
  })

  it.each<[string, { Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array }]>([
    ['no data key', { CiphertextBlob: Buffer.from('b') }],
    [
      'a 16-byte data key',
      { Plaintext: new Uint8Array(16).fill(9), CiphertextBlob: Buffer.from('b') },
    ],
    ['no encrypted key', { Plaintext: new Uint8Array(32).fill(9) }],
    [
      'an empty encrypted key',
      { Plaintext: new Uint8Array(32).fill(9), CiphertextBlob: new Uint8Array(0) },
    ],
  ])('refuses an answer with %s, and still wipes what came', async (_, answer) => {
    // Prepare
    fake.kms.on(GenerateDataKeyCommand).resolves(answer)
    // Act
    const error = await rejectionOf(
      sealWithKms({
        ...defaults,
        kind: EnvelopeKind.Bundle,
        plaintext: Buffer.from('{}'),
      }),
    )
    // Assess
    expect(error.code).toBe('KMS_ERROR')
    expect(error.message).toBe(
      'value: KMS answered GenerateDataKey without a 32-byte data key and its ciphertext',
    )
    expect(answer.Plaintext?.every((byte) => byte === 0) ?? true).toBe(true)
  })

  it('maps a refusal with the operation named', async () => {
    // Prepare
    fake.kms.on(GenerateDataKeyCommand).rejects(awsError('AccessDeniedException'))
    // Act
    const error = await rejectionOf(
      sealWithKms({
        ...defaults,
        kind: EnvelopeKind.Value,
        plaintext: Buffer.from('x'),
        variable: 'CERT',
      }),
    )
    // Assess
    expect(error.code).toBe('ACCESS_DENIED')
    expect(error.message).toContain(
      'CERT: KMS denied GenerateDataKey: the caller lacks kms:GenerateDataKey',
    )
  })
})

describe('reencryptValue', () => {
  const toCtx = { LambdaFunctionName: 'stack-renamed' }
  /** To another function under KEY: what most moves here ask for. */
  const moving = { client, fromContext: ctx, toContext: toCtx, destinationKeyId: KEY }

  it('a raw blob: one KMS ReEncrypt, the plaintext never leaves KMS', async () => {
    // Prepare
    fake.kms.on(ReEncryptCommand).resolves({ CiphertextBlob: Buffer.from('moved') })
    const value = `${Buffer.from('old blob').toString('base64')}\n`
    // Act
    const result = await reencryptValue({
      client,
      value,
      fromContext: ctx,
      toContext: toCtx,
      destinationKeyId: 'alias/new',
      sourceKeyId: KEY,
    })
    // Assess
    expect(result).toEqual({
      value: Buffer.from('moved').toString('base64'),
      resealedLocally: false,
    })
    const input = fake.kms.commandCalls(ReEncryptCommand)[0]?.args[0].input
    expect(Buffer.from(input?.CiphertextBlob as Uint8Array).toString()).toBe('old blob')
    expect(input?.SourceEncryptionContext).toEqual(ctx)
    expect(input?.SourceKeyId).toBe(KEY)
    expect(input?.DestinationKeyId).toBe('alias/new')
    expect(input?.DestinationEncryptionContext).toEqual(toCtx)
    expect(fake.kms.commandCalls(DecryptCommand)).toHaveLength(0)
  })

  it('a raw blob refused by KMS names ReEncrypt', async () => {
    // Prepare
    fake.kms.on(ReEncryptCommand).rejects(awsError('InvalidCiphertextException'))
    // Act
    const error = await rejectionOf(
      reencryptValue({
        ...moving,
        value: 'AAAA',
      }),
    )
    // Assess
    expect(error.code).toBe('CONTEXT_MISMATCH')
    expect(error.variable).toBe('VALUE')
  })

  it.each([
    ['not base64', 'not base64!', 'VALUE: value is not valid base64 (truncated or altered?)'],
    [
      'too long for a KMS blob',
      Buffer.alloc(6145).toString('base64'),
      'VALUE: value is 6145 bytes, larger than any KMS ciphertext (6144)',
    ],
  ])('refuses a value that is %s before calling KMS', async (_, value, message) => {
    // Act
    const error = await rejectionOf(
      reencryptValue({ client, value, fromContext: ctx, toContext: toCtx, destinationKeyId: KEY }),
    )
    // Assess
    expect(error.code).toBe('MALFORMED_VALUE')
    expect(error.message).toBe(message)
    expect(fake.kms.calls()).toHaveLength(0)
  })

  it('an answer without a ciphertext is a KMS_ERROR', async () => {
    // Prepare
    fake.kms.on(ReEncryptCommand).resolves({})
    // Act
    const error = await rejectionOf(
      reencryptValue({
        ...moving,
        value: 'AAAA',
      }),
    )
    // Assess
    expect(error.message).toBe('VALUE: KMS answered ReEncrypt without a ciphertext')
  })

  it('an envelope: opened with the old context, sealed again under a fresh data key', async () => {
    // Prepare
    const fields = bundlePlaintext({ A: '1', B: 'pässwörd€' })
    const old = await sealWithKms({
      ...defaults,
      kind: EnvelopeKind.Bundle,
      plaintext: fields,
    })
    // Act
    const result = await reencryptValue({
      client,
      value: old,
      fromContext: ctx,
      toContext: toCtx,
      destinationKeyId: 'alias/new',
      variable: 'SECRETS',
      timeoutMs: 1000,
    })
    // Assess
    expect(result.resealedLocally).toBe(true)
    const moved = parseEnvelope(result.value, 'V')
    expect(moved.kind).toBe(EnvelopeKind.Bundle)
    const newKey = dataKeyOf(result.value, toCtx)
    expect(openEnvelope(moved, newKey, toCtx, 'V').toString()).toBe(fields.toString())
    expect(newKey.equals(dataKeyOf(old, ctx))).toBe(false)
    expect(fake.kms.commandCalls(GenerateDataKeyCommand)[1]?.args[0].input).toEqual({
      KeyId: 'alias/new',
      KeySpec: 'AES_256',
      EncryptionContext: toCtx,
    })
    expect(() => openEnvelope(moved, newKey, ctx, 'V')).toThrow(KmsSecretsError)
  })

  it('an envelope under another context than claimed: refused, nothing sealed', async () => {
    // Prepare
    const old = await sealWithKms({
      ...defaults,
      kind: EnvelopeKind.Value,
      plaintext: Buffer.from('s'),
    })
    // Act
    const error = await rejectionOf(
      reencryptValue({
        client,
        value: old,
        fromContext: toCtx,
        toContext: ctx,
        destinationKeyId: KEY,
      }),
    )
    // Assess
    expect(error.code).toBe('CONTEXT_MISMATCH')
    expect(fake.kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1)
  })

  it('wipes the opened plaintext even when sealing again fails', async () => {
    // Prepare
    const old = await sealWithKms({
      ...defaults,
      kind: EnvelopeKind.Value,
      plaintext: Buffer.from('s3cr3t'),
    })
    fake.kms.on(GenerateDataKeyCommand).rejects(awsError('AccessDeniedException'))
    const fills: number[] = []
    const fill = Uint8Array.prototype.fill
    Uint8Array.prototype.fill = function (
      this: Uint8Array,
      ...args: Parameters<Uint8Array['fill']>
    ) {
      fills.push(this.length)
      return fill.apply(this, args)
    }
    // Act
    let error: KmsSecretsError
    try {
      error = await rejectionOf(
        reencryptValue({
          ...moving,
          value: old,
        }),
      )
    } finally {
      Uint8Array.prototype.fill = fill
    }
    // Assess
    expect(error.code).toBe('ACCESS_DENIED')
    expect(fills).toContain('s3cr3t'.length)
  })

  it('refuses a variable name that is not an env var name', async () => {
    // Act
    const error = await rejectionOf(
      reencryptValue({
        client,
        value: 'AAAA',
        fromContext: ctx,
        toContext: ctx,
        destinationKeyId: KEY,
        variable: 'a b',
      }),
    )
    // Assess
    expect(error.code).toBe('INVALID_OPTIONS')
  })
})

describe('parseDotenv', () => {
  it('reads KEY=value lines with comments, export, quotes and multi-line values', () => {
    // Prepare
    const text = [
      '# database',
      'DB_PASSWORD=pässwörd€',
      '',
      'export API_TOKEN = tok_123  ',
      "SINGLE='it is literal \\n'",
      'DOUBLE="line1\\nline2" # trailing comment',
      'PEM="-----BEGIN-----',
      'abc',
      '-----END-----"',
      'EMPTY=',
      "QUOTED_HASH='a#b'",
      'WITH_EQUALS=a=b==',
      'dotted.name-x=1\r',
    ].join('\n')
    // Act
    const fields = parseDotenv(text)
    // Assess
    expect(fields).toEqual({
      DB_PASSWORD: 'pässwörd€',
      API_TOKEN: 'tok_123',
      SINGLE: 'it is literal \\n',
      DOUBLE: 'line1\nline2',
      PEM: '-----BEGIN-----\nabc\n-----END-----',
      EMPTY: '',
      QUOTED_HASH: 'a#b',
      WITH_EQUALS: 'a=b==',
      'dotted.name-x': '1',
    })
  })

  // Found by test/fuzz: "." does not match U+2028/U+2029, which Node's parser reads.
  it('keeps U+2028 and U+2029 inside a value, quoted or not', () => {
    // Act
    const fields = parseDotenv('A=x\u2028y\nB=\'p\u2029q\'\nC="r\u2028s"')
    // Assess
    expect(fields).toEqual({ A: 'x\u2028y', B: 'p\u2029q', C: 'r\u2028s' })
  })

  it.each([
    ['a line without "="', 'A=1\njust words', 'line 2: not a KEY=value line'],
    [
      'an invalid name',
      '1A=x',
      'line 1: the name before "=" is not valid (letters, digits, _ . - and not starting with a digit)',
    ],
    [
      'an empty name',
      '=x',
      'line 1: the name before "=" is not valid (letters, digits, _ . - and not starting with a digit)',
    ],
    ['a name set twice', 'A=1\nA=2', 'line 2: A is set twice'],
    ['an unclosed quote', 'A="abc\nB=2', 'line 1: A: the " quote is never closed'],
    [
      'an escaped double quote',
      'A="ab\\"c"',
      'line 1: A: \\" inside double quotes is not supported: use single quotes',
    ],
    [
      'text after the closing quote',
      "A='ab'cd'",
      'line 1: A: unexpected text after the closing quote',
    ],
    [
      '# in an unquoted value',
      'PASS=abc#def',
      `line 1: PASS: "#" in an unquoted value starts a comment in dotenv files: quote the value ('…'), or put the comment on its own line`,
    ],
    [
      'an unquoted value with a comment',
      'PORT=80 # http',
      `line 1: PORT: "#" in an unquoted value starts a comment in dotenv files: quote the value ('…'), or put the comment on its own line`,
    ],
    [
      '__proto__ (which the parser cannot hold)',
      '__proto__=1',
      'line 1: __proto__ cannot be read by the dotenv parser',
    ],
    ['nothing but comments', '# only\n\n', 'no KEY=value line found'],
    // Node's parser would drop a lone CR from the value: refused, not altered.
    ['a lone CR inside a value', 'A=ab\rcd', 'line 1: not a KEY=value line'],
  ])('refuses %s, naming the line but no value', (_, text, message) => {
    // Act
    let error: unknown
    try {
      parseDotenv(text, 'secrets.env')
    } catch (e) {
      error = e
    }
    // Assess
    expect(error).toBeInstanceOf(KmsSecretsError)
    expect((error as KmsSecretsError).code).toBe('INVALID_OPTIONS')
    expect((error as KmsSecretsError).message).toBe(`secrets.env: ${message}`)
    expect((error as KmsSecretsError).message).not.toMatch(/abc|def|ab"c/)
  })

  it('names the input "input" by default', () => {
    // Act / Assess
    expect(() => parseDotenv('')).toThrow('input: no KEY=value line found')
  })
})

describe('bundlePlaintext', () => {
  it('is the UTF-8 JSON object the decrypt side reads', () => {
    // Act
    const bytes = bundlePlaintext({ A: 'pässwörd€', B: '' })
    // Assess
    expect(JSON.parse(bytes.toString('utf8'))).toEqual({ A: 'pässwörd€', B: '' })
    expect(bytes.toString('utf8')).toBe('{"A":"pässwörd€","B":""}')
  })
})

describe('the encrypt side at its edges', () => {
  // The encrypt side at its edges: the abort signal reaches every KMS call, the reencrypt
  // deadline and blob limit, its error names the operation, and dotenv quoting details.
  const ctx = { LambdaFunctionName: 'fn' }

  /** Under the same key name and context: what the moves here ask for. */
  const inPlace = { client, fromContext: ctx, toContext: ctx, destinationKeyId: 'k' }

  const signalOf = (calls: { args: unknown[] }[]) =>
    (calls[0]?.args[1] as { abortSignal?: AbortSignal } | undefined)?.abortSignal

  describe('the abort signal of the caller', () => {
    it('reaches Encrypt, GenerateDataKey and ReEncrypt', async () => {
      // Prepare
      const abortSignal = new AbortController().signal
      fake.kms.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('ct') })
      fake.kms.on(GenerateDataKeyCommand).resolves({
        Plaintext: new Uint8Array(32).fill(1),
        CiphertextBlob: Buffer.from('key'),
      })
      fake.kms.on(ReEncryptCommand).resolves({ CiphertextBlob: Buffer.from('moved') })
      const request = { client, keyId: 'k', context: ctx, plaintext: Buffer.from('x'), abortSignal }
      // Act
      await encryptValue(request)
      await sealWithKms({ ...request, kind: EnvelopeKind.Value })
      await reencryptValue({
        ...inPlace,
        value: Buffer.from('blob').toString('base64'),
        abortSignal,
      })
      // Assess
      expect(signalOf(fake.kms.commandCalls(EncryptCommand))).toBe(abortSignal)
      expect(signalOf(fake.kms.commandCalls(GenerateDataKeyCommand))).toBe(abortSignal)
      expect(signalOf(fake.kms.commandCalls(ReEncryptCommand))).toBe(abortSignal)
    })
  })

  describe('reencryptValue', () => {
    it('bounds the local decrypt of an envelope by timeoutMs', async () => {
      // Prepare: KMS never answers the Decrypt of the data key
      fake.kms.on(DecryptCommand).callsFake(() => new Promise(() => {}))
      const envelope = `kse1:${Buffer.concat([Buffer.from([1, 0, 4]), Buffer.alloc(4 + 12 + 16, 9)]).toString('base64')}`
      // Act
      const error = await rejectionOf(
        reencryptValue({
          ...inPlace,
          value: envelope,
          timeoutMs: 10,
        }),
      )
      // Assess
      expect(error.code).toBe('TIMEOUT')
      expect(error.message).toBe('VALUE: decrypting took longer than the 10 ms deadline')
    })

    it('takes a raw blob of exactly 6144 bytes (the KMS maximum) to KMS', async () => {
      // Prepare
      fake.kms.on(ReEncryptCommand).resolves({ CiphertextBlob: Buffer.from('moved') })
      // Act
      const result = await reencryptValue({
        ...inPlace,
        value: Buffer.alloc(6144, 3).toString('base64'),
      })
      // Assess
      expect(result.value).toBe(Buffer.from('moved').toString('base64'))
    })

    it('names ReEncrypt when KMS denies it', async () => {
      // Prepare
      fake.kms.on(ReEncryptCommand).rejects(awsError('AccessDeniedException'))
      // Act
      const error = await rejectionOf(
        reencryptValue({
          ...inPlace,
          value: Buffer.from('blob').toString('base64'),
        }),
      )
      // Assess
      expect(error.message).toMatch(
        /^VALUE: KMS denied ReEncrypt: the caller lacks kms:ReEncrypt\* on the key/,
      )
    })
  })

  describe('parseDotenv details', () => {
    it('backticks quote like single quotes: "#" inside is kept', () => {
      // Act / Assess
      expect(parseDotenv('A=`x#y`')).toEqual({ A: 'x#y' })
    })

    it('export may be followed by several spaces', () => {
      // Act / Assess
      expect(parseDotenv('export  A=1')).toEqual({ A: '1' })
    })

    it('a backslash before a closing single quote is literal text', () => {
      // Act / Assess
      expect(parseDotenv("A='ab\\'")).toEqual({ A: 'ab\\' })
    })

    it.each([
      [
        'a name with other characters after a valid start',
        'A!b=1',
        'line 1: the name before "=" is not valid (letters, digits, _ . - and not starting with a digit)',
      ],
      ['words before the name', 'foo bar=1', 'line 1: not a KEY=value line'],
    ])('refuses %s', (_, text, message) => {
      // Act
      let error: unknown
      try {
        parseDotenv(text)
      } catch (e) {
        error = e
      }
      // Assess
      expect(error).toBeInstanceOf(KmsSecretsError)
      expect((error as Error).message).toBe(`input: ${message}`)
    })
  })
})
