// The bench's functions and local AWS: each pattern bundled as Lambda ships it (esbuild, minified
// ESM, node24, all inlined; `middy-kms-secrets` resolves to src/, not to a build of dist/), and
// moto behind the fault proxy with one key and the encrypted variables every pattern reads.

import { randomBytes } from 'node:crypto'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node'
import { KMSClient } from '@aws-sdk/client-kms'
import { build } from 'esbuild'
import { bundlePlaintext, EnvelopeKind, encryptValue, sealWithKms } from '../../cli/src/encrypt.ts'
import { awsEnv, LOCAL_REGION } from '../local/aws-env.ts'
import type { FaultProxy } from '../local/fault-proxy.ts'
import { cleanup, createStack, startLocalAws, templateScope } from '../local-stack.ts'
import { digest } from './entries/shared.ts'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** Cold-started, module-loaded and warm-invoked. */
export const PATTERNS = [
  ...['naive', 'per-variable', 'bundle', 'per-variable-lite', 'bundle-lite', 'esdk'],
  ...['bare-kms', 'bare-middy'],
]
/** Warm phase only besides: the floor of any middleware, and the peer copying like @middy/ssm. */
export const BUILT = [...PATTERNS, 'empty-middleware', 'ssm-like']
export const SIZES = [1, 5, 20, 50]
export const FUNCTION_NAME = 'bench-fn'
export const DECRYPT = 'TrentService.Decrypt'
export const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' }
const CONTEXT = { LambdaFunctionName: FUNCTION_NAME }
// CommonJS dependencies (the Encryption SDK) require() Node built-ins: the usual ESM banner.
const BANNER = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);"
const ORIGINS: [RegExp, string][] = [
  [/^src\//, 'library'],
  [/node_modules\/@(aws-sdk|smithy|aws)\//, 'aws-sdk'],
  [/node_modules\/@aws-crypto\//, 'aws-crypto'],
  [/node_modules\/@middy\//, 'middy'],
  [/^scripts\/bench\/entries\//, 'function'],
]

export type Built = Awaited<ReturnType<typeof buildFunctions>>

/** Each pattern's bundle, its bytes, and its bytes by origin (esbuild's metafile). */
export const buildFunctions = async (outDir: string) => {
  const built: Record<string, { file: string; bytes: number; bytesBy: Record<string, number> }> = {}
  for (const pattern of BUILT) {
    const file = join(outDir, `${pattern}.mjs`)
    const { metafile } = await build({
      ...{ absWorkingDir: ROOT, outfile: file, bundle: true, minify: true, format: 'esm' },
      ...{ platform: 'node', target: 'node24', mainFields: ['module', 'main'], metafile: true },
      ...{ banner: { js: BANNER }, legalComments: 'none', logLevel: 'error' },
      entryPoints: [join(ROOT, 'scripts/bench/entries', `${pattern}.ts`)],
      alias: {
        'middy-kms-secrets/lite': join(ROOT, 'src/lite.ts'),
        'middy-kms-secrets': join(ROOT, 'src/index.ts'),
      },
    })
    const output = metafile.outputs[relative(ROOT, file)]
    if (!output) throw new Error(`esbuild wrote no ${file}`)
    const bytesBy: Record<string, number> = {}
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const origin = ORIGINS.find(([match]) => match.test(input))?.[1] ?? 'other'
      bytesBy[origin] = (bytesBy[origin] ?? 0) + bytesInOutput
    }
    built[pattern] = { file, bytes: output.bytes, bytesBy }
  }
  return built
}

export type Stack = Awaited<ReturnType<typeof startStack>>

/** The local stack behind the fault proxy, and `count` random secrets sealed per size. */
export const startStack = async (count: number) => {
  const { defer, stopAll } = cleanup()
  const stop = () => stopAll().then(() => {})
  try {
    const { proxy } = await startLocalAws(defer, true)
    const { keyArn } = await createStack(templateScope('bench', LOCAL_REGION), () => {})
    const seal = { client: new KMSClient({}), keyId: keyArn, context: CONTEXT }
    const secrets = Array.from({ length: count }, () => randomBytes(24).toString('base64url'))
    const blobs = await Promise.all(
      secrets.map((s, i) =>
        encryptValue({ ...seal, plaintext: Buffer.from(s), variable: `SECRET_${i}` }),
      ),
    )
    const { encrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    const keyring = new KmsKeyringNode({ generatorKeyId: keyArn })
    const bundles: Record<number, string> = {}
    const esdk: Record<number, string> = {}
    for (const n of SIZES) {
      const fields = Object.fromEntries(secrets.slice(0, n).map((s, i) => [`s${i}`, s]))
      const plaintext = bundlePlaintext(fields)
      const kind = EnvelopeKind.Bundle
      bundles[n] = await sealWithKms({ ...seal, kind, plaintext, variable: 'BUNDLE' })
      const { result } = await encrypt(keyring, plaintext, { encryptionContext: CONTEXT })
      esdk[n] = result.toString('base64')
    }
    return { proxy: proxy as FaultProxy, keyArn, secrets, blobs, bundles, esdk, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The encrypted variables a pattern reads for N secrets. */
export const secretsEnv = (stack: Stack, pattern: string, n: number): Record<string, string> => {
  if (pattern.startsWith('bundle')) return { BUNDLE: stack.bundles[n] as string }
  if (pattern === 'esdk') return { BUNDLE_ESDK: stack.esdk[n] as string }
  if (pattern.startsWith('bare') || pattern === 'empty-middleware') return {}
  return Object.fromEntries(stack.blobs.slice(0, n).map((blob, i) => [`SECRET_${i}`, blob]))
}

/** Lambda-like: an empty HOME (no AWS config files), the proxy as endpoint, the digest expected. */
export const functionEnv = (stack: Stack, home: string, pattern: string, n: number) => {
  const secrets = secretsEnv(stack, pattern, n)
  const expect = Object.keys(secrets).length ? digest(stack.secrets.slice(0, n)) : undefined
  return {
    HOME: home,
    PATH: process.env.PATH,
    ...awsEnv(stack.proxy.endpoint),
    AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
    BENCH_N: String(n),
    BENCH_KEY_ARN: stack.keyArn,
    ...(expect && { BENCH_EXPECT: expect }),
    ...secrets,
  } as NodeJS.ProcessEnv
}
