// Dev tooling on top of the template reader (src/template/read.ts, re-exported here): local
// invoke, the demo, template tests. Dev tooling only: never imported by src/ or functions/.
//
// - readTemplate / parseTemplate / TemplateError and the template types: src/template/read.ts.
// - functionsOf(template): every Lambda function (src/template/read.ts functionResources, SAM
//   Globals merged) with its handler, runtime, limits and esbuild build properties.
// - esbuildOptionsOf(fn): the template's BuildProperties as esbuild API options, the way
//   `sam build` (aws-lambda-builders) passes them to esbuild.
// - resolveValue(value, ctx): evaluates the intrinsics a local run needs (Ref, Sub, GetAtt of
//   a few attributes, If/Equals/Not/And/Or/Condition, Join, Select, Split, FindInMap,
//   Base64, GetAZs, ImportValue) against parameter values and pseudo parameters.
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
  type TemplateResource,
} from '../src/template/read.ts'

export {
  type Json,
  parseTemplate,
  readTemplate,
  type Template,
  TemplateError,
  type TemplateResource,
} from '../src/template/read.ts'

// ----------------------------------------------------------------------------- functions

export interface TemplateFunction extends FunctionResource {
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
export function functionsOf(template: Template): TemplateFunction[] {
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

function keyValueList(name: string, value: Json, sep = '='): Record<string, string> {
  if (!Array.isArray(value)) throw new TemplateError(`BuildProperties.${name} must be a list`)
  const out: Record<string, string> = {}
  for (const item of value) {
    const text = String(item)
    const at = text.indexOf(sep)
    if (at <= 0) throw new TemplateError(`BuildProperties.${name}: "${text}" is not key${sep}value`)
    out[text.slice(0, at)] = text.slice(at + 1)
  }
  return out
}

/**
 * The function's Metadata.BuildProperties as esbuild options, with sam build's defaults
 * (bundle, platform node, target es2020, format cjs, minify) where a property is absent.
 * Throws on a property this reader does not know, rather than silently building differently.
 */
export function esbuildOptionsOf(fn: TemplateFunction): EsbuildOptions {
  if (fn.buildMethod !== 'esbuild') {
    throw new TemplateError(`${fn.logicalId}: Metadata.BuildMethod is not esbuild`)
  }
  const props = fn.buildProperties
  const options: EsbuildOptions = {
    entryPoints: fn.entryPoints,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'es2020',
    minify: true,
    sourcemap: false,
  }
  for (const [name, value] of Object.entries(props)) {
    if (SAM_ONLY.has(name) || FIXED.has(name)) continue
    switch (name) {
      case 'Format':
        if (value !== 'esm' && value !== 'cjs' && value !== 'iife') {
          throw new TemplateError(`${fn.logicalId}: BuildProperties.Format ${String(value)}`)
        }
        options.format = value
        break
      case 'Target':
        options.target = String(value)
        break
      case 'Minify':
        options.minify = value === true
        break
      case 'Sourcemap':
        options.sourcemap = value === true
        break
      case 'SourcesContent':
        options.sourcesContent = String(value) !== 'false'
        break
      case 'Outbase':
        options.outbase = String(value)
        break
      case 'OutExtension':
        options.outExtension = keyValueList(name, value)
        break
      case 'Banner':
        options.banner = keyValueList(name, value)
        break
      case 'Footer':
        options.footer = keyValueList(name, value)
        break
      case 'Loader':
        options.loader = keyValueList(name, value)
        break
      case 'Define':
        options.define = keyValueList(name, value)
        break
      case 'External':
        if (!Array.isArray(value))
          throw new TemplateError('BuildProperties.External must be a list')
        options.external = value.map(String)
        break
      case 'MainFields':
        options.mainFields = String(value).split(',')
        break
      case 'KeepNames':
        options.keepNames = value === true
        break
      case 'Splitting':
        options.splitting = value === true
        break
      case 'TreeShaking':
        options.treeShaking = value === true
        break
      case 'Tsconfig':
        options.tsconfig = String(value)
        break
      default:
        throw new TemplateError(
          `${fn.logicalId}: BuildProperties.${name} is not understood by scripts/template.ts`,
        )
    }
  }
  return options
}

/**
 * Path of the built handler module relative to the build output folder, the way esbuild lays
 * it out: the entry point with its outbase stripped and the output extension applied.
 */
export function builtHandlerPath(fn: TemplateFunction, options = esbuildOptionsOf(fn)): string {
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

// ----------------------------------------------------------------------------- intrinsics

export interface ResolveContext {
  template: Template
  /** Parameter values (overrides); parameters without one take their Default. */
  parameters?: Record<string, string>
  /** Pseudo parameters (AWS::StackName, AWS::Region, ...) on top of the local defaults. */
  pseudo?: Record<string, string>
}

export const LOCAL_PSEUDO: Readonly<Record<string, string>> = {
  'AWS::AccountId': '123456789012',
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::StackId':
    'arn:aws:cloudformation:us-east-1:123456789012:stack/local/00000000-0000-0000-0000-000000000000',
  'AWS::StackName': 'local',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::NotificationARNs': '',
}

/** Marker for AWS::NoValue: the property (or list item) disappears. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue')
export type Resolved = Json | typeof NO_VALUE

function pseudoOf(ctx: ResolveContext, name: string): string | undefined {
  return ctx.pseudo?.[name] ?? LOCAL_PSEUDO[name]
}

/** The value of parameter `name`: override, else Default; throws when it has neither. */
export function parameterValue(ctx: ResolveContext, name: string): string {
  const parameter = ctx.template.Parameters?.[name]
  if (parameter === undefined) throw new TemplateError(`unknown parameter ${name}`)
  const override = ctx.parameters?.[name]
  if (override !== undefined) return override
  if (parameter.Default !== undefined) return String(parameter.Default)
  throw new TemplateError(
    `parameter ${name} has no Default: pass --parameter-overrides ${name}=...`,
  )
}

/**
 * Resource `logicalId`; `unknown` starts the error when there is none. A malformed one (null,
 * a scalar: CloudFormation would refuse the template) counts as one without type or properties.
 */
function resourceOf(
  ctx: ResolveContext,
  logicalId: string,
  unknown: string,
): Partial<TemplateResource> {
  const resource = ctx.template.Resources[logicalId]
  if (resource === undefined) throw new TemplateError(`${unknown} ${logicalId}`)
  return isRecord(resource) ? resource : {}
}

/** Physical name of a resource as far as the template fixes it (else its logical id). */
function refOfResource(ctx: ResolveContext, logicalId: string): string {
  const resource = resourceOf(ctx, logicalId, 'Ref to unknown name')
  const nameProperty: Record<string, string> = {
    'AWS::DynamoDB::Table': 'TableName',
    'AWS::Serverless::Function': 'FunctionName',
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::Logs::LogGroup': 'LogGroupName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::KMS::Alias': 'AliasName',
    'AWS::IAM::Role': 'RoleName',
  }
  const property = nameProperty[String(resource.Type)]
  const raw = property === undefined ? undefined : resource.Properties?.[property]
  if (raw === undefined) return logicalId
  const value = resolveValue(raw, ctx)
  if (resource.Type === 'AWS::SNS::Topic' && typeof value === 'string') {
    return `arn:${pseudoOf(ctx, 'AWS::Partition')}:sns:${pseudoOf(ctx, 'AWS::Region')}:${pseudoOf(ctx, 'AWS::AccountId')}:${value}`
  }
  return typeof value === 'string' ? value : logicalId
}

function getAtt(ctx: ResolveContext, logicalId: string, attribute: string): string {
  const resource = resourceOf(ctx, logicalId, 'GetAtt of unknown resource')
  const name = refOfResource(ctx, logicalId)
  const partition = pseudoOf(ctx, 'AWS::Partition')
  const region = pseudoOf(ctx, 'AWS::Region')
  const account = pseudoOf(ctx, 'AWS::AccountId')
  if (attribute === 'Arn') {
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return `arn:${partition}:dynamodb:${region}:${account}:table/${name}`
      case 'AWS::Serverless::Function':
      case 'AWS::Lambda::Function':
        return `arn:${partition}:lambda:${region}:${account}:function:${name}`
      case 'AWS::Logs::LogGroup':
        return `arn:${partition}:logs:${region}:${account}:log-group:${name}:*`
      case 'AWS::IAM::Role':
        return `arn:${partition}:iam::${account}:role/${name}`
      case 'AWS::KMS::Key':
        return `arn:${partition}:kms:${region}:${account}:key/${logicalId}`
    }
  }
  // Anything else (stream ARNs, generated ids): a recognisable local placeholder.
  return `${logicalId}.${attribute}`
}

function evalCondition(ctx: ResolveContext, name: string, seen: Set<string>): boolean {
  const definition = ctx.template.Conditions?.[name]
  if (definition === undefined) throw new TemplateError(`unknown condition ${name}`)
  if (seen.has(name)) throw new TemplateError(`condition ${name} refers to itself`)
  const value = resolveInner(definition, ctx, new Set([...seen, name]))
  if (typeof value !== 'boolean') throw new TemplateError(`condition ${name} is not a boolean`)
  return value
}

/** Evaluates one template condition (Conditions section) with the context's parameters. */
export function conditionValue(ctx: ResolveContext, name: string): boolean {
  return evalCondition(ctx, name, new Set())
}

function substitute(ctx: ResolveContext, text: string, vars: Record<string, Resolved>): string {
  return text.replace(/\$\{(!?)([^}]*)\}/g, (whole, literal: string, name: string) => {
    if (literal === '!') return `\${${name}}`
    const own = vars[name]
    if (own !== undefined) {
      if (typeof own === 'symbol' || typeof own === 'object') {
        throw new TemplateError(`Fn::Sub variable ${name} is not a string`)
      }
      return String(own)
    }
    const pseudo = pseudoOf(ctx, name)
    if (name.startsWith('AWS::')) {
      if (pseudo === undefined) throw new TemplateError(`unknown pseudo parameter ${name}`)
      return pseudo
    }
    if (ctx.template.Parameters?.[name] !== undefined) return parameterValue(ctx, name)
    const dot = name.indexOf('.')
    if (dot > 0) return getAtt(ctx, name.slice(0, dot), name.slice(dot + 1))
    if (ctx.template.Resources[name] !== undefined) return refOfResource(ctx, name)
    throw new TemplateError(`Fn::Sub: unknown name in ${whole}`)
  })
}

function resolveInner(value: Json, ctx: ResolveContext, seen: Set<string>): Resolved {
  if (Array.isArray(value)) {
    const items: Json[] = []
    for (const item of value) {
      const r = resolveInner(item, ctx, seen)
      if (r !== NO_VALUE) items.push(r)
    }
    return items
  }
  if (!isRecord(value)) return value
  const keys = Object.keys(value)
  const key = keys[0]
  if (
    keys.length === 1 &&
    key !== undefined &&
    (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition')
  ) {
    const arg = value[key] as Json
    const list = (n: number): Json[] => {
      if (!Array.isArray(arg) || arg.length < n) {
        throw new TemplateError(`${key} expects a list of ${n}, got ${JSON.stringify(arg)}`)
      }
      return arg
    }
    const str = (v: Json): string => {
      const r = resolveInner(v, ctx, seen)
      if (typeof r !== 'string' && typeof r !== 'number' && typeof r !== 'boolean') {
        throw new TemplateError(`${key}: expected a string, got ${JSON.stringify(r)}`)
      }
      return String(r)
    }
    switch (key) {
      case 'Ref': {
        const name = String(arg)
        if (name === 'AWS::NoValue') return NO_VALUE
        if (name.startsWith('AWS::')) {
          const pseudo = pseudoOf(ctx, name)
          if (pseudo === undefined) throw new TemplateError(`unknown pseudo parameter ${name}`)
          return pseudo
        }
        if (ctx.template.Parameters?.[name] !== undefined) return parameterValue(ctx, name)
        return refOfResource(ctx, name)
      }
      case 'Condition':
        return evalCondition(ctx, String(arg), seen)
      case 'Fn::Sub': {
        if (typeof arg === 'string') return substitute(ctx, arg, {})
        const [text, vars] = list(1)
        const resolvedVars: Record<string, Resolved> = {}
        if (isRecord(vars)) {
          for (const [k, v] of Object.entries(vars)) resolvedVars[k] = resolveInner(v, ctx, seen)
        }
        return substitute(ctx, String(text), resolvedVars)
      }
      case 'Fn::GetAtt': {
        const parts = typeof arg === 'string' ? arg.split(/\.(.*)/s) : list(2)
        return getAtt(ctx, str(parts[0] as Json), str(parts[1] as Json))
      }
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = list(3)
        return evalCondition(ctx, String(name), seen)
          ? resolveInner(whenTrue as Json, ctx, seen)
          : resolveInner(whenFalse as Json, ctx, seen)
      }
      case 'Fn::Equals': {
        const [a, b] = list(2)
        return str(a as Json) === str(b as Json)
      }
      case 'Fn::Not': {
        const [a] = list(1)
        const r = resolveInner(a as Json, ctx, seen)
        if (typeof r !== 'boolean') throw new TemplateError('Fn::Not expects a condition')
        return !r
      }
      case 'Fn::And':
      case 'Fn::Or': {
        const results = list(2).map((c) => resolveInner(c, ctx, seen))
        if (results.some((r) => typeof r !== 'boolean')) {
          throw new TemplateError(`${key} expects conditions`)
        }
        return key === 'Fn::And'
          ? results.every((r) => r === true)
          : results.some((r) => r === true)
      }
      case 'Fn::Join': {
        const [sep, items] = list(2)
        const resolved = resolveInner(items as Json, ctx, seen)
        if (!Array.isArray(resolved)) throw new TemplateError('Fn::Join expects a list')
        return resolved.map((i) => String(i)).join(String(sep))
      }
      case 'Fn::Select': {
        const [index, items] = list(2)
        const resolved = resolveInner(items as Json, ctx, seen)
        if (!Array.isArray(resolved)) throw new TemplateError('Fn::Select expects a list')
        const picked = resolved[Number(str(index as Json))]
        if (picked === undefined) throw new TemplateError('Fn::Select index out of range')
        return picked
      }
      case 'Fn::Split': {
        const [sep, text] = list(2)
        return str(text as Json).split(String(sep))
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = list(3).map((v) => str(v))
        const found = ctx.template.Mappings?.[map as string]?.[top as string]?.[second as string]
        if (found === undefined) throw new TemplateError(`Fn::FindInMap ${map}/${top}/${second}`)
        return found
      }
      case 'Fn::Base64':
        return Buffer.from(str(arg), 'utf8').toString('base64')
      case 'Fn::GetAZs': {
        const region = str(arg) || (pseudoOf(ctx, 'AWS::Region') as string)
        return [`${region}a`, `${region}b`, `${region}c`]
      }
      case 'Fn::ImportValue':
        return `ImportValue:${str(arg)}`
      default:
        throw new TemplateError(`${key} is not supported by the local resolver`)
    }
  }
  const out: Record<string, Json> = {}
  for (const [k, v] of Object.entries(value)) {
    const r = resolveInner(v, ctx, seen)
    if (r !== NO_VALUE) out[k] = r
  }
  return out
}

/** Resolves the intrinsics in `value` (see the header); AWS::NoValue yields NO_VALUE. */
export function resolveValue(value: Json, ctx: ResolveContext): Resolved {
  return resolveInner(value, ctx, new Set())
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
  fn: TemplateFunction,
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
