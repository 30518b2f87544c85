// Dev tooling on the template reader and resolver (cli/src/template/): a template's functions
// as a local run builds and invokes them, built with esbuild as `sam build` does. Never bundled.

import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { BuildOptions } from 'esbuild'
import {
  functionResources,
  isRecord,
  type Json,
  samconfigParameter,
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
  NO_VALUE,
  type ResolveScope,
  resolveValue,
} from '../cli/src/template/resolve.ts'

/** `key` of samconfig.toml's default deploy (else global) parameters; none without the file. */
export const samconfigValue = (path: string, key: string): string | undefined =>
  existsSync(path) ? samconfigParameter(readFileSync(path, 'utf8'), 'default', key) : undefined

function numberOf(value: Json | undefined, fallback: number, what: string): number {
  const n = typeof value === 'string' || typeof value === 'number' ? Number(value) : Number.NaN
  if (value !== undefined && !Number.isFinite(n)) {
    throw new TemplateError(`${what}: expected a number, got ${JSON.stringify(value)}`)
  }
  return value === undefined ? fallback : n
}

/** Every Lambda function of the template (SAM and plain CloudFormation), Globals applied. */
export function functionsOf(template: Template) {
  return functionResources(template).map((fn) => {
    const { logicalId, properties: p, metadata } = fn
    if (typeof p.Handler !== 'string' || !p.Handler.includes('.')) {
      throw new TemplateError(`${logicalId}: Handler must be a string "<module>.<export>"`)
    }
    const dot = p.Handler.lastIndexOf('.')
    const buildProperties = isRecord(metadata.BuildProperties) ? metadata.BuildProperties : {}
    const entry = buildProperties.EntryPoints
    return {
      ...fn,
      /** As written (e.g. { 'Fn::Sub': '${AWS::StackName}-secure-items' }). */
      functionName: p.FunctionName,
      /** 'functions/secure-items/handler.handler': module 'functions/secure-items/handler'. */
      handler: p.Handler,
      handlerModule: p.Handler.slice(0, dot),
      handlerExport: p.Handler.slice(dot + 1),
      runtime: typeof p.Runtime === 'string' ? p.Runtime : undefined,
      architectures: Array.isArray(p.Architectures) ? p.Architectures.map(String) : ['x86_64'],
      /** Seconds and MB, Lambda's defaults (3, 128) when unset. */
      timeout: numberOf(p.Timeout, 3, `${logicalId}.Timeout`),
      memorySize: numberOf(p.MemorySize, 128, `${logicalId}.MemorySize`),
      codeUri: typeof p.CodeUri === 'string' ? p.CodeUri : '.',
      buildMethod: typeof metadata.BuildMethod === 'string' ? metadata.BuildMethod : undefined,
      buildProperties,
      /** BuildProperties.EntryPoints, else the Handler's module (as sam build does). */
      entryPoints: Array.isArray(entry) ? entry.map(String) : [p.Handler.slice(0, dot)],
    }
  })
}

/** A function of the template as a local run builds and invokes it. */
export type LocalFunction = ReturnType<typeof functionsOf>[number]

export type EsbuildOptions = BuildOptions & { entryPoints: string[] }

const list = (value: Json, name: string): string[] => {
  if (!Array.isArray(value)) throw new TemplateError(`BuildProperties.${name} must be a list`)
  return value.map(String)
}

const keyValues = (value: Json, name: string): Record<string, string> =>
  Object.fromEntries(
    list(value, name).map((item) => {
      const at = item.indexOf('=')
      if (at <= 0) throw new TemplateError(`BuildProperties.${name}: "${item}" is not key=value`)
      return [item.slice(0, at), item.slice(at + 1)]
    }),
  )

type Reader = (value: Json, name: string) => unknown
const each = (names: string[], read: Reader) => Object.fromEntries(names.map((n) => [n, read]))

/** How sam build reads each BuildProperty it passes on to esbuild (as its camelCase option). */
const READERS: Record<string, Reader> = {
  Format: (v) => (['esm', 'cjs', 'iife'].includes(v as string) ? v : undefined),
  SourcesContent: (v) => String(v) !== 'false',
  MainFields: (v) => String(v).split(','),
  External: list,
  ...each(['Target', 'Outbase', 'Tsconfig'], String),
  ...each(['Minify', 'Sourcemap', 'KeepNames', 'Splitting', 'TreeShaking'], (v) => v === true),
  ...each(['OutExtension', 'Banner', 'Footer', 'Loader', 'Define'], keyValues),
}

/** Read by sam build itself, or fixed by it (bundle, node, its own outdir). */
const NOT_PASSED = ['UseNpmCi', 'EntryPoints', 'Bundle', 'Platform', 'Outdir']

/** BuildProperties as esbuild options on sam build's defaults; an unknown one throws. */
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
    if (NOT_PASSED.includes(name)) continue
    const read = Object.hasOwn(READERS, name) ? READERS[name] : undefined
    if (read === undefined) {
      throw new TemplateError(
        `${fn.logicalId}: BuildProperties.${name} is not understood by scripts/template.ts`,
      )
    }
    const option = read(value, name)
    if (option === undefined) {
      throw new TemplateError(`${fn.logicalId}: BuildProperties.${name} ${String(value)}`)
    }
    Object.assign(options, { [name.charAt(0).toLowerCase() + name.slice(1)]: option })
  }
  return options
}

/** Where esbuild writes the handler's entry point: outbase stripped, output extension applied. */
export function builtHandlerPath(fn: LocalFunction, options = esbuildOptionsOf(fn)): string {
  const entry = fn.entryPoints[0]
  if (entry === undefined) throw new TemplateError(`${fn.logicalId}: no entry point`)
  const outbase = (options.outbase ?? '').replace(/^\.\/?/, '').replace(/\/$/, '')
  let path = entry.replace(/^\.\//, '')
  if (options.outbase === undefined) path = path.slice(path.lastIndexOf('/') + 1)
  else if (outbase !== '' && path.startsWith(`${outbase}/`)) path = path.slice(outbase.length + 1)
  return path.replace(/\.[cm]?[jt]sx?$/, '') + (options.outExtension?.['.js'] ?? '.js')
}

/** The file aws-lambda-ric loads for `handler`: its module as is, then .js, .mjs, .cjs. */
export function runtimeHandlerFile(taskRoot: string, handler: string): string | undefined {
  const dot = handler.indexOf('.', handler.lastIndexOf('/') + 1)
  if (dot < 0) return undefined
  const base = `${taskRoot.replace(/\/$/, '')}/${handler.slice(0, dot)}`
  return ['', '.js', '.mjs', '.cjs']
    .map((extension) => base + extension)
    .find((file) => existsSync(file) && statSync(file).isFile())
}

/** sam build's Handler (samcli bundler.py): kept if its module was built, else its last part. */
export function samBuiltHandler(handler: string, builtFiles: readonly string[]): string {
  const slash = handler.lastIndexOf('/')
  const name = handler.slice(slash + 1)
  const stem = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name
  const built = builtFiles.includes(`${handler.slice(0, slash + 1)}${stem}.js`)
  return handler.startsWith('/opt') || built ? handler : name
}

export interface BuiltFunction {
  outdir: string
  /** Absolute path of the module Lambda loads for fn.handler. */
  handlerFile: string
  options: EsbuildOptions
}

/** Builds `fn` from its BuildProperties as `sam build` does; `root` is its CodeUri folder. */
export async function buildFunction(
  fn: LocalFunction,
  root: string,
  outdir: string,
): Promise<BuiltFunction> {
  const options = esbuildOptionsOf(fn)
  const { build } = await import('esbuild')
  await build({ ...options, absWorkingDir: root, outdir, logLevel: 'silent' })
  return { outdir, handlerFile: join(outdir, builtHandlerPath(fn, options)), options }
}
