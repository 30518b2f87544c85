// The benchmark's local AWS: moto behind the fault proxy (latency injected on every
// KMS call), one KMS key, and the encrypted fixtures every pattern reads. Dev tooling.

import { randomBytes } from 'node:crypto'
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { bundlePlaintext, EnvelopeKind, encryptValue, sealWithKms } from '../../cli/src/encrypt.ts'
import { type FaultProxy, startFaultProxy } from '../local/fault-proxy.ts'
import { LOCAL_REGION, type MotoServer, startMoto } from '../local/moto.ts'

export const FUNCTION_NAME = 'bench-fn'
export const CONTEXT = { LambdaFunctionName: FUNCTION_NAME }
export const DECRYPT = 'TrentService.Decrypt'

export interface Stack {
  moto: MotoServer
  proxy: FaultProxy
  keyArn: string
  stop(): Promise<void>
}

export const startStack = async (): Promise<Stack> => {
  const moto = await startMoto()
  let proxy: FaultProxy | undefined
  try {
    proxy = await startFaultProxy({ target: moto.endpoint })
    const kms = setupClient(moto.endpoint)
    const key = await kms.send(new CreateKeyCommand({ Description: 'middy-kms-secrets bench' }))
    const keyArn = key.KeyMetadata?.Arn
    if (!keyArn) throw new Error('moto returned no key ARN')
    kms.destroy()
    const started = proxy
    return {
      moto,
      proxy: started,
      keyArn,
      stop: async () => {
        await started.stop()
        await moto.stop()
      },
    }
  } catch (error) {
    await proxy?.stop()
    await moto.stop()
    throw error
  }
}

/** A client straight to moto (no latency, not counted) for preparing fixtures. */
const setupClient = (endpoint: string) =>
  new KMSClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  })

/** Secret number i: a 32-character token, like an API key. Random per run. */
export const makeSecrets = (count: number): string[] =>
  Array.from({ length: count }, () => randomBytes(24).toString('base64url'))

export const secretVar = (i: number) => `SECRET_${i}`
export const fieldName = (i: number) => `s${i}`

/** What the functions' handlers return for `{ verify: true }`: FNV-1a over the values. */
export { digest } from './entries/verify.ts'

export interface Fixtures {
  /** Raw KMS blobs (base64), one per secret, for the naive and per-variable patterns. */
  blobs: string[]
  /** kse1 bundle envelopes by N (fields s0..s{N-1}). */
  bundles: Map<number, string>
  /** AWS Encryption SDK messages (base64) of the same bundles, by N. */
  esdk: Map<number, string>
}

export const encryptFixtures = async (
  stack: Stack,
  secrets: readonly string[],
  sizes: readonly number[],
): Promise<Fixtures> => {
  const kms = setupClient(stack.moto.endpoint)
  const seal = { client: kms, keyId: stack.keyArn, context: CONTEXT }
  try {
    const blobs = await Promise.all(
      secrets.map((secret, i) =>
        encryptValue({ ...seal, plaintext: Buffer.from(secret), variable: secretVar(i) }),
      ),
    )
    const esdkEncrypt = await esdkEncryptor(stack)
    const bundles = new Map<number, string>()
    const esdk = new Map<number, string>()
    for (const n of sizes) {
      const plaintext = bundlePlaintext(bundleOf(secrets, n))
      const kind = EnvelopeKind.Bundle
      bundles.set(n, await sealWithKms({ ...seal, kind, plaintext, variable: 'BUNDLE' }))
      esdk.set(n, await esdkEncrypt(plaintext))
    }
    return { blobs, bundles, esdk }
  } finally {
    kms.destroy()
  }
}

export const bundleOf = (secrets: readonly string[], n: number): Record<string, string> =>
  Object.fromEntries(secrets.slice(0, n).map((secret, i) => [fieldName(i), secret]))

/**
 * The ESDK with a KMS keyring on the same key. Its own KMS client does honour
 * AWS_ENDPOINT_URL (the functions rely on that, checked by their Decrypt counts), but
 * here the client is given explicitly, so that no AWS_* setting of the user's shell
 * (a profile, AWS_ENDPOINT_URL_KMS) can send this set-up anywhere but moto.
 */
const esdkEncryptor = async (stack: Stack) => {
  const { buildClient, CommitmentPolicy, KMS, KmsKeyringNode } = await import(
    '@aws-crypto/client-node'
  )
  const { encrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
  const client = new KMS({
    endpoint: stack.moto.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  })
  const keyring = new KmsKeyringNode({ generatorKeyId: stack.keyArn, clientProvider: () => client })
  return async (plaintext: Buffer) => {
    const { result } = await encrypt(keyring, plaintext, { encryptionContext: CONTEXT })
    return result.toString('base64')
  }
}
