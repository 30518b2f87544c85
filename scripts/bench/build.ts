// Bundles each benchmark function the way a Lambda function is shipped: esbuild,
// minified ESM, platform node, target node24, everything inlined (the Lambda runtime's
// own SDK copy is not used). `middy-kms-secrets` resolves to this repo's src/ (the
// same code as dist/, without depending on a build of dist/ in a shared tree).

import { mkdir } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Metafile, type Plugin } from 'esbuild'

/** The patterns of the cold-start, module-load and warm phases. */
export const PATTERNS = [
  'naive',
  'per-variable',
  'bundle',
  'per-variable-lite',
  'bundle-lite',
  'esdk',
  'bare-kms',
  'bare-middy',
] as const
/**
 * For the warm phase only: Middy with one empty `before` middleware (the floor of any
 * middleware's warm cost), and the peer: values copied per invocation the way
 * `@middy/ssm` does. Bundled too, but not cold-started.
 */
export const WARM_ONLY = ['empty-middleware', 'ssm-like'] as const
export const BUILT = [...PATTERNS, ...WARM_ONLY] as const
export type Pattern = (typeof BUILT)[number]

const here = dirname(fileURLToPath(import.meta.url))
export const ROOT = resolve(here, '../..')

export interface BuiltFunction {
  pattern: Pattern
  file: string
  bytes: number
  /** Output bytes by origin: this library, @aws-sdk + @smithy, @aws-crypto, @middy, other. */
  bytesBy: Record<string, number>
}

const selfReference: Plugin = {
  name: 'middy-kms-secrets-from-src',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^middy-kms-secrets(\/lite)?$/ }, ({ path }) => ({
      path: join(ROOT, path.endsWith('/lite') ? 'src/lite.ts' : 'src/index.ts'),
    }))
  },
}

// Some dependencies (the Encryption SDK) are CommonJS and require() Node built-ins:
// the usual banner for ESM Lambda bundles gives them a require. Same for every pattern.
const banner = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);"

const originOf = (input: string): string => {
  if (input.startsWith('src/')) return 'library'
  if (/node_modules\/@(aws-sdk|smithy|aws)\//.test(input)) return 'aws-sdk'
  if (input.includes('node_modules/@aws-crypto/')) return 'aws-crypto'
  if (input.includes('node_modules/@middy/')) return 'middy'
  if (input.startsWith('scripts/bench/entries/')) return 'function'
  return 'other'
}

export const buildFunctions = async (outDir: string): Promise<Map<Pattern, BuiltFunction>> => {
  await mkdir(outDir, { recursive: true })
  const built = new Map<Pattern, BuiltFunction>()
  for (const pattern of BUILT) {
    const file = join(outDir, `${pattern}.mjs`)
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: [join(here, 'entries', `${pattern}.ts`)],
      outfile: file,
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      target: 'node24',
      mainFields: ['module', 'main'],
      banner: { js: banner },
      legalComments: 'none',
      metafile: true,
      logLevel: 'error',
      plugins: [selfReference],
    })
    built.set(pattern, { pattern, file, ...sizes(result.metafile, outDir, file) })
  }
  return built
}

const sizes = (metafile: Metafile, outDir: string, file: string) => {
  const key = Object.keys(metafile.outputs).find(
    (name) => resolve(ROOT, name) === resolve(file) || name.endsWith(relative(outDir, file)),
  )
  const output = key === undefined ? undefined : metafile.outputs[key]
  if (!output) throw new Error(`esbuild metafile has no output for ${file}`)
  const bytesBy: Record<string, number> = {}
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const origin = originOf(input)
    bytesBy[origin] = (bytesBy[origin] ?? 0) + bytesInOutput
  }
  return { bytes: output.bytes, bytesBy }
}
