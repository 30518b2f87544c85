// The encrypt side at its edges: the abort signal reaches every KMS call, the reencrypt
// deadline and blob limit, its error names the operation, and dotenv quoting details.
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'
import { mockClient } from 'aws-sdk-client-mock'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { KmsSecretsError } from '../../src/core/errors.ts'
import {
  EnvelopeKind,
  encryptValue,
  parseDotenv,
  reencryptValue,
  sealWithKms,
} from '../../src/encrypt.ts'

const kms = mockClient(KMSClient)
const client = new KMSClient({ region: 'us-east-1' })
const ctx = { LambdaFunctionName: 'fn' }

beforeEach(() => kms.reset())
afterAll(() => kms.restore())

const rejectionOf = async (promise: Promise<unknown>): Promise<KmsSecretsError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(KmsSecretsError)
  return error as KmsSecretsError
}
const signalOf = (calls: { args: unknown[] }[]) =>
  (calls[0]?.args[1] as { abortSignal?: AbortSignal } | undefined)?.abortSignal

describe('the abort signal of the caller', () => {
  it('reaches Encrypt, GenerateDataKey and ReEncrypt', async () => {
    // Prepare
    const abortSignal = new AbortController().signal
    kms.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('ct') })
    kms.on(GenerateDataKeyCommand).resolves({
      Plaintext: new Uint8Array(32).fill(1),
      CiphertextBlob: Buffer.from('key'),
    })
    kms.on(ReEncryptCommand).resolves({ CiphertextBlob: Buffer.from('moved') })
    const request = { client, keyId: 'k', context: ctx, plaintext: Buffer.from('x'), abortSignal }
    // Act
    await encryptValue(request)
    await sealWithKms({ ...request, kind: EnvelopeKind.Value })
    await reencryptValue({
      client,
      value: Buffer.from('blob').toString('base64'),
      fromContext: ctx,
      toContext: ctx,
      destinationKeyId: 'k',
      abortSignal,
    })
    // Assess
    expect(signalOf(kms.commandCalls(EncryptCommand))).toBe(abortSignal)
    expect(signalOf(kms.commandCalls(GenerateDataKeyCommand))).toBe(abortSignal)
    expect(signalOf(kms.commandCalls(ReEncryptCommand))).toBe(abortSignal)
  })
})

describe('reencryptValue', () => {
  it('bounds the local decrypt of an envelope by timeoutMs', async () => {
    // Prepare: KMS never answers the Decrypt of the data key
    kms.on(DecryptCommand).callsFake(() => new Promise(() => {}))
    const envelope = `kse1:${Buffer.concat([Buffer.from([1, 0, 4]), Buffer.alloc(4 + 12 + 16, 9)]).toString('base64')}`
    // Act
    const error = await rejectionOf(
      reencryptValue({
        client,
        value: envelope,
        fromContext: ctx,
        toContext: ctx,
        destinationKeyId: 'k',
        timeoutMs: 10,
      }),
    )
    // Assess
    expect(error.code).toBe('TIMEOUT')
    expect(error.message).toBe('VALUE: decrypting took longer than the 10 ms deadline')
  })

  it('takes a raw blob of exactly 6144 bytes (the KMS maximum) to KMS', async () => {
    // Prepare
    kms.on(ReEncryptCommand).resolves({ CiphertextBlob: Buffer.from('moved') })
    // Act
    const result = await reencryptValue({
      client,
      value: Buffer.alloc(6144, 3).toString('base64'),
      fromContext: ctx,
      toContext: ctx,
      destinationKeyId: 'k',
    })
    // Assess
    expect(result.value).toBe(Buffer.from('moved').toString('base64'))
  })

  it('names ReEncrypt when KMS denies it', async () => {
    // Prepare
    kms
      .on(ReEncryptCommand)
      .rejects(Object.assign(new Error(''), { name: 'AccessDeniedException' }))
    // Act
    const error = await rejectionOf(
      reencryptValue({
        client,
        value: Buffer.from('blob').toString('base64'),
        fromContext: ctx,
        toContext: ctx,
        destinationKeyId: 'k',
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
