// Dev tooling on top of the template reader (cli/src/template/read.ts, re-exported here): local
// invoke, the demo, template tests. Dev tooling only: never imported by src/ or functions/.
//
// - readTemplate / parseTemplate / TemplateError and the template types: cli/src/template/read.ts.
// - functionsOf(template): every Lambda function (cli/src/template/read.ts functionResources, SAM
//   Globals merged) with its handler, runtime, limits and esbuild build properties.
// - esbuildOptionsOf(fn): the template's BuildProperties as esbuild API options, the way
//   `sam build` (aws-lambda-builders) passes them to esbuild.
// - resolveValue / conditionValue / NO_VALUE: the intrinsic resolver,
//   cli/src/template/resolve.ts (re-exported here); a local run resolves with
//   `unfixed: 'placeholder'`.
// - runtimeHandlerFile / samBuiltHandler: which file the Node.js runtime loads for a Handler,
//   and the Handler \`sam build\` writes into the built template.

import { existsSync, statSync } from 'node:fs'
import {
  type FunctionResource,
  functionResources,
  isRecord,
  type Json,
  type Template,
  TemplateError,
} from '../cli/src/template/read.ts'

export {
  type Json,
  parseTemplate,
  readTemplate,
  type Template,
  TemplateError,
  type TemplateResource,
} from '../cli/src/template/read.ts'
export {
  conditionValue,
  LOCAL_PSEUDO,
  NO_VALUE,
  type Resolved,
  type ResolveScope,
  resolveValue,
} from '../cli/src/template/resolve.ts'

// ----------------------------------------------------------------------------- functions

/** A function of the template as a local run builds and invokes it. */
export interface LocalFunction extends FunctionResource {
  /** FunctionName property, raw (e.g. { 'Fn::Sub': '${AWS::StackName}-secure-items' }). */
  functionName: Json | undefined
  /** Handler property: 'functions/secure-items/handler.handler'. */
  handler: string
  /** Module path of the handler relative to the code root: 'functions/secure-items/handler'. */
  handlerModule: string
  /** Exported name: 'handler'. */
  handlerExport: string
  runtime: string | undefined
  architectures: string[]
  /** Seconds (Lambda's default 3 when unset). */
  timeout: number
  /** MB (Lambda's default 128 when unset). */
  memorySize: number
  /** CodeUri (SAM) as written, '.' when unset. */
  codeUri: string
  buildMethod: string | undefined
  /** Metadata.BuildProperties as written. */
  buildProperties: Record<string, Json>
  /** BuildProperties.EntryPoints (or the handler's module, as sam build does without them). */
  entryPoints: string[]
}

function asNumber(value: Json | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback
  const n = typeof value === 'string' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new TemplateError(`${what}: expected a number, got ${JSON.stringify(value)}`)
  }
  return n
}

/** Every Lambda function of the template (SAM and plain CloudFormation), Globals applied. */
export function functionsOf(template: Template): LocalFunction[] {
  return functionResources(template).map((fn) => {
    const { logicalId, properties, metadata } = fn
    const handler = properties.Handler
    if (typeof handler !== 'string' || !handler.includes('.')) {
      throw new TemplateError(`${logicalId}: Handler must be a string "<module>.<export>"`)
    }
    const dot = handler.lastIndexOf('.')
    const buildProperties = isRecord(metadata.BuildProperties) ? metadata.BuildProperties : {}
    const entry = buildProperties.EntryPoints
    const entryPoints = Array.isArray(entry) ? entry.map((e) => String(e)) : [handler.slice(0, dot)]
    const architectures = Array.isArray(properties.Architectures)
      ? properties.Architectures.map(String)
      : ['x86_64']
    return {
      ...fn,
      functionName: properties.FunctionName,
      handler,
      handlerModule: handler.slice(0, dot),
      handlerExport: handler.slice(dot + 1),
      runtime: typeof properties.Runtime === 'string' ? properties.Runtime : undefined,
      architectures,
      timeout: asNumber(properties.Timeout, 3, `${logicalId}.Timeout`),
      memorySize: asNumber(properties.MemorySize, 128, `${logicalId}.MemorySize`),
      codeUri: typeof properties.CodeUri === 'string' ? properties.CodeUri : '.',
      buildMethod: typeof metadata.BuildMethod === 'string' ? metadata.BuildMethod : undefined,
      buildProperties,
      entryPoints,
    }
  })
}

// ----------------------------------------------------------------------------- esbuild

/** esbuild API options (a subset of esbuild's BuildOptions, kept structural: no import). */
export interface EsbuildOptions {
  entryPoints: string[]
  bundle: true
  platform: 'node'
  format: 'esm' | 'cjs' | 'iife'
  target: string
  minify: boolean
  sourcemap: boolean
  outbase?: string
  outExtension?: Record<string, string>
  banner?: Record<string, string>
  footer?: Record<string, string>
  external?: string[]
  loader?: Record<string, string>
  mainFields?: string[]
  define?: Record<string, string>
  keepNames?: boolean
  splitting?: boolean
  treeShaking?: boolean
  sourcesContent?: boolean
  tsconfig?: string
}

/** BuildProperties that only sam build reads; never passed to esbuild. */
const SAM_ONLY = new Set(['UseNpmCi', 'EntryPoints'])
/** Options aws-lambda-builders fixes itself (bundle, node, its own outdir). */
const FIXED = new Set(['Bundle', 'Platform', 'Outdir'])

function keyValueList(value: Json, name: string): Record<string, string> {
  if (!Array.isArray(value)) throw new TemplateError(`BuildProperties.${name} must be a list`)
  const out: Record<string, string> = {}
  for (const item of value) {
    const text = String(item)
    const at = text.indexOf('=')
    if (at <= 0) throw new TemplateError(`BuildProperties.${name}: "${text}" is not key=value`)
    out[text.slice(0, at)] = text.slice(at + 1)
  }
  return out
}

const flag = (value: Json) => value === true
const text = (value: Json) => String(value)
const FORMATS: readonly Json[] = ['esm', 'cjs', 'iife']

/** Each BuildProperty sam build passes on: the esbuild option and how its value reads. */
const ESBUILD: Record<string, [keyof EsbuildOptions, (value: Json, name: string) => unknown]> = {
  Format: ['format', (v) => (FORMATS.includes(v) ? v : undefined)],
  Target: ['target', text],
  Minify: ['minify', flag],
  Sourcemap: ['sourcemap', flag],
  SourcesContent: ['sourcesContent', (v) => String(v) !== 'false'],
  Outbase: ['outbase', text],
  OutExtension: ['outExtension', keyValueList],
  Banner: ['banner', keyValueList],
  Footer: ['footer', keyValueList],
  Loader: ['loader', keyValueList],
  Define: ['define', keyValueList],
  External: [
    'external',
    (v, name) => {
      if (!Array.isArray(v)) throw new TemplateError(`BuildProperties.${name} must be a list`)
      return v.map(String)
    },
  ],
  MainFields: ['mainFields', (v) => String(v).split(',')],
  KeepNames: ['keepNames', flag],
  Splitting: ['splitting', flag],
  TreeShaking: ['treeShaking', flag],
  Tsconfig: ['tsconfig', text],
}

/**
 * The function's Metadata.BuildProperties as esbuild options, with sam build's defaults
 * (bundle, platform node, target es2020, format cjs, minify) where a property is absent.
 * Throws on a property this reader does not know, rather than silently building differently.
 */
export function esbuildOptionsOf(fn: LocalFunction): EsbuildOptions {
  if (fn.buildMethod !== 'esbuild') {
    throw new TemplateError(`${fn.logicalId}: Metadata.BuildMethod is not esbuild`)
  }
  const options: EsbuildOptions = {
    entryPoints: fn.entryPoints,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'es2020',
    minify: true,
    sourcemap: false,
  }
  for (const [name, value] of Object.entries(fn.buildProperties)) {
    if (SAM_ONLY.has(name) || FIXED.has(name)) continue
    const known = Object.hasOwn(ESBUILD, name) ? ESBUILD[name] : undefined
    if (known === undefined) {
      throw new TemplateError(
        `${fn.logicalId}: BuildProperties.${name} is not understood by scripts/template.ts`,
      )
    }
    const option = known[1](value, name)
    if (option === undefined) {
      throw new TemplateError(`${fn.logicalId}: BuildProperties.${name} ${String(value)}`)
    }
    Object.assign(options, { [known[0]]: option })
  }
  return options
}

/**
 * Path of the built handler module relative to the build output folder, the way esbuild lays
 * it out: the entry point with its outbase stripped and the output extension applied.
 */
export function builtHandlerPath(fn: LocalFunction, options = esbuildOptionsOf(fn)): string {
  const entry = fn.entryPoints[0]
  if (entry === undefined) throw new TemplateError(`${fn.logicalId}: no entry point`)
  const outbase = (options.outbase ?? '').replace(/^\.\/?/, '').replace(/\/$/, '')
  let rel = entry.replace(/^\.\//, '')
  if (options.outbase === undefined) {
    rel = rel.slice(rel.lastIndexOf('/') + 1)
  } else if (outbase !== '' && rel.startsWith(`${outbase}/`)) {
    rel = rel.slice(outbase.length + 1)
  }
  const ext = options.outExtension?.['.js'] ?? '.js'
  return rel.replace(/\.[cm]?[jt]sx?$/, '') + ext
}

/**
 * The file Lambda's Node.js runtime loads for `handler` under `taskRoot`, or undefined: the
 * module is the Handler up to the first dot of its last path segment, tried as is, then with
 * .js, .mjs and .cjs (aws-lambda-ric's order). A bare module name would also be looked up in
 * node_modules; our bundles never rely on that.
 */
export function runtimeHandlerFile(taskRoot: string, handler: string): string | undefined {
  const slash = handler.lastIndexOf('/')
  const dot = handler.indexOf('.', slash + 1)
  if (dot < 0) return undefined
  const base = `${taskRoot.replace(/\/$/, '')}/${handler.slice(0, dot)}`
  for (const extension of ['', '.js', '.mjs', '.cjs']) {
    const file = `${base}${extension}`
    if (existsSync(file) && statSync(file).isFile()) return file
  }
  return undefined
}

/**
 * The Handler `sam build` writes into .aws-sam/build/template.yaml for an esbuild function
 * (samcli/lib/build/bundler.py): kept when `<folder of Handler>/<module>.js` was built in the
 * function's artifact folder, else cut to its last path segment.
 */
export function samBuiltHandler(handler: string, builtFiles: readonly string[]): string {
  const slash = handler.lastIndexOf('/')
  const folder = handler.slice(0, slash + 1)
  const name = handler.slice(slash + 1)
  const stem = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name
  if (handler.startsWith('/opt') || builtFiles.includes(`${folder}${stem}.js`)) return handler
  return name
}

// ----------------------------------------------------------------------------- build

export interface BuiltFunction {
  /** Folder the bundle was written to (the function's code root once deployed). */
  outdir: string
  /** Absolute path of the built handler module (what Lambda loads for fn.handler). */
  handlerFile: string
  options: EsbuildOptions
}

/**
 * Builds `fn` with esbuild exactly from its Metadata.BuildProperties (as `sam build` does)
 * into `outdir`; `root` is the CodeUri folder the entry points are relative to.
 */
export async function buildFunction(
  fn: LocalFunction,
  root: string,
  outdir: string,
): Promise<BuiltFunction> {
  const options = esbuildOptionsOf(fn)
  const esbuild = await import('esbuild')
  await esbuild.build({
    ...(options as Omit<EsbuildOptions, 'loader'>),
    ...(options.loader === undefined
      ? {}
      : { loader: options.loader as Record<string, import('esbuild').Loader> }),
    absWorkingDir: root,
    outdir,
    logLevel: 'silent',
  })
  const handlerFile = `${outdir.replace(/\/$/, '')}/${builtHandlerPath(fn, options)}`
  return { outdir, handlerFile, options }
}
