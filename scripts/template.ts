// The one reader of template.yaml / pipeline.yaml for dev tooling (local invoke, template
// tests). Dev tooling only: never imported by src/ or functions/.
//
// - readTemplate(path) / parseTemplate(text): CloudFormation YAML -> plain JS, the short-form
//   intrinsic tags (!Ref, !Sub, !GetAtt, ...) turned into their long form ({ 'Fn::Sub': ... }),
//   with CloudFormation's YAML 1.1 scalars (yes/no are booleans) but no timestamps, no
//   sexagesimal numbers and no aliases / merge keys (CloudFormation accepts none of them).
// - functionsOf(template): every Lambda function, SAM Globals applied, with its handler,
//   esbuild build properties and environment.
// - esbuildOptionsOf(fn): the template's BuildProperties as esbuild API options, the way
//   `sam build` (aws-lambda-builders) passes them to esbuild.
// - resolveValue(value, ctx): evaluates the intrinsics a local run needs (Ref, Sub, GetAtt of
//   a few attributes, If/Equals/Not/And/Or/Condition, Join, Select, Split, FindInMap,
//   Base64, GetAZs, ImportValue) against parameter values and pseudo parameters.

import { readFileSync } from 'node:fs'
import { type CollectionTag, parseDocument, Scalar, type ScalarTag, visit } from 'yaml'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

export interface TemplateParameter {
  Type: string
  Default?: Json
  NoEcho?: boolean
  AllowedValues?: Json[]
  AllowedPattern?: string
  Description?: string
  [key: string]: Json | undefined
}

export interface TemplateResource {
  Type: string
  Properties?: Record<string, Json>
  Metadata?: Record<string, Json>
  Condition?: string
  DependsOn?: string | string[]
  DeletionPolicy?: string
  UpdateReplacePolicy?: string
  [key: string]: Json | undefined
}

export interface Template {
  AWSTemplateFormatVersion?: string
  Transform?: string | string[]
  Description?: string
  Metadata?: Record<string, Json>
  Parameters?: Record<string, TemplateParameter>
  Mappings?: Record<string, Record<string, Record<string, Json>>>
  Conditions?: Record<string, Json>
  Globals?: Record<string, Record<string, Json>>
  Resources: Record<string, TemplateResource>
  Outputs?: Record<string, Record<string, Json>>
}

/** A template error with the file (and line) it comes from. */
export class TemplateError extends Error {
  override name = 'TemplateError'
}

// ----------------------------------------------------------------------------- YAML reading

/** Short-form tag -> long-form key. `!GetAtt a.b` and `!Condition x` get special scalar forms. */
const INTRINSIC_TAGS: Record<string, string> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  '!Sub': 'Fn::Sub',
  '!GetAtt': 'Fn::GetAtt',
  '!If': 'Fn::If',
  '!Equals': 'Fn::Equals',
  '!Not': 'Fn::Not',
  '!And': 'Fn::And',
  '!Or': 'Fn::Or',
  '!Select': 'Fn::Select',
  '!Join': 'Fn::Join',
  '!Split': 'Fn::Split',
  '!FindInMap': 'Fn::FindInMap',
  '!ImportValue': 'Fn::ImportValue',
  '!Base64': 'Fn::Base64',
  '!Cidr': 'Fn::Cidr',
  '!GetAZs': 'Fn::GetAZs',
  '!Transform': 'Fn::Transform',
  '!Length': 'Fn::Length',
  '!ToJsonString': 'Fn::ToJsonString',
}

function scalarForm(tag: string, key: string, value: string): Json {
  if (key === 'Fn::GetAtt') {
    // !GetAtt Resource.Attribute (the attribute may itself contain dots: Fn.Version.Version)
    const dot = value.indexOf('.')
    if (dot <= 0 || dot === value.length - 1) {
      throw new TemplateError(`${tag} ${value}: expected LogicalId.Attribute`)
    }
    return { [key]: [value.slice(0, dot), value.slice(dot + 1)] }
  }
  return { [key]: value }
}

function cfnTags(): SchemaTag[] {
  const tags: SchemaTag[] = []
  for (const [tag, key] of Object.entries(INTRINSIC_TAGS)) {
    tags.push({
      tag,
      // A non-Node result is wrapped in a Scalar whose value is this long-form object.
      resolve: (value: string, onError: (message: string) => void) => {
        try {
          return scalarForm(tag, key, value)
        } catch (error) {
          onError((error as Error).message)
          return null
        }
      },
    })
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag,
        collection,
        resolve: (node) => new Scalar({ [key]: node.toJSON() as Json }),
      })
    }
  }
  return tags
}

type SchemaTag = ScalarTag | CollectionTag

/**
 * YAML 1.1 as CloudFormation (and SAM CLI, and cfn-lint) read it, which is narrower than the
 * spec: yes/no/on/off are booleans but y/n are strings, "." is a string, and there are no
 * timestamps nor sexagesimal (1:30) numbers: those scalars stay strings.
 */
function cloudFormationScalars(defaults: SchemaTag[]): SchemaTag[] {
  const out: SchemaTag[] = []
  for (const t of defaults) {
    if (t.tag === 'tag:yaml.org,2002:timestamp' || t.format === 'TIME') continue
    if (t.tag === 'tag:yaml.org,2002:bool' && 'test' in t && t.test !== undefined) {
      const test = t.test.test('true')
        ? /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/
        : /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/
      out.push({ ...t, test } as ScalarTag)
      continue
    }
    if (t.tag === 'tag:yaml.org,2002:float' && 'test' in t && t.test?.test('.') === true) {
      out.push({ ...t, test: /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/ } as ScalarTag)
      continue
    }
    out.push(t)
  }
  return out
}

/** Parses CloudFormation YAML (or JSON) text into plain JS with long-form intrinsics. */
export function parseTemplate(text: string, source = '<template>'): Template {
  const doc = parseDocument(text, {
    version: '1.1',
    merge: false,
    uniqueKeys: true,
    prettyErrors: true,
    customTags: (defaults) => [...cloudFormationScalars(defaults as SchemaTag[]), ...cfnTags()],
  })
  const problems = [...doc.errors, ...doc.warnings].map((e) => e.message)
  visit(doc, {
    Alias(_, node) {
      problems.push(`YAML alias *${node.source}: CloudFormation does not support aliases`)
    },
  })
  if (problems.length > 0) {
    throw new TemplateError(`${source}: ${problems.join('\n')}`)
  }
  const value = doc.toJS({ maxAliasCount: 0 }) as unknown
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TemplateError(`${source}: not a CloudFormation template (no top-level mapping)`)
  }
  const template = value as Template
  if (template.Resources === null || typeof template.Resources !== 'object') {
    throw new TemplateError(`${source}: the template has no Resources section`)
  }
  return template
}

/** Reads and parses a template file (see parseTemplate). */
export function readTemplate(path: string): Template {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new TemplateError(`cannot read template ${path}: ${(error as Error).message}`)
  }
  return parseTemplate(text, path)
}

// ----------------------------------------------------------------------------- functions

export interface TemplateFunction {
  logicalId: string
  type: 'AWS::Serverless::Function' | 'AWS::Lambda::Function'
  /** Properties with SAM Globals applied (raw: intrinsics are not resolved). */
  properties: Record<string, Json>
  metadata: Record<string, Json>
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
  /** Environment.Variables, raw values (intrinsics unresolved). */
  environment: Record<string, Json>
}

function isRecord(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function isIntrinsic(value: unknown): boolean {
  if (!isRecord(value)) return false
  const keys = Object.keys(value)
  return keys.length === 1 && (keys[0] === 'Ref' || (keys[0]?.startsWith('Fn::') ?? false))
}

/**
 * SAM's Globals merge: a local primitive or intrinsic wins; maps merge key by key; lists
 * are concatenated (global entries first).
 */
export function mergeGlobals(global: Json | undefined, local: Json | undefined): Json | undefined {
  if (local === undefined) return global
  if (global === undefined) return local
  if (isIntrinsic(global) || isIntrinsic(local)) return local
  if (Array.isArray(global) && Array.isArray(local)) return [...global, ...local]
  if (isRecord(global) && isRecord(local)) {
    const out: Record<string, Json> = { ...global }
    for (const [key, value] of Object.entries(local)) {
      const merged = mergeGlobals(global[key], value)
      if (merged !== undefined) out[key] = merged
    }
    return out
  }
  return local
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
  const globals = template.Globals?.Function ?? {}
  const out: TemplateFunction[] = []
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (
      resource.Type !== 'AWS::Serverless::Function' &&
      resource.Type !== 'AWS::Lambda::Function'
    ) {
      continue
    }
    const own = resource.Properties ?? {}
    const properties =
      resource.Type === 'AWS::Serverless::Function'
        ? (mergeGlobals(globals, own) as Record<string, Json>)
        : own
    const handler = properties.Handler
    if (typeof handler !== 'string' || !handler.includes('.')) {
      throw new TemplateError(`${logicalId}: Handler must be a string "<module>.<export>"`)
    }
    const dot = handler.lastIndexOf('.')
    const metadata = isRecord(resource.Metadata) ? resource.Metadata : {}
    const buildProperties = isRecord(metadata.BuildProperties) ? metadata.BuildProperties : {}
    const entry = buildProperties.EntryPoints
    const entryPoints = Array.isArray(entry) ? entry.map((e) => String(e)) : [handler.slice(0, dot)]
    const variables = isRecord(properties.Environment)
      ? properties.Environment.Variables
      : undefined
    const architectures = Array.isArray(properties.Architectures)
      ? properties.Architectures.map(String)
      : ['x86_64']
    out.push({
      logicalId,
      type: resource.Type,
      properties,
      metadata,
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
      environment: isRecord(variables) ? { ...variables } : {},
    })
  }
  return out
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

/** Physical name of a resource as far as the template fixes it (else its logical id). */
function refOfResource(ctx: ResolveContext, logicalId: string): string {
  const resource = ctx.template.Resources[logicalId]
  if (resource === undefined) throw new TemplateError(`Ref to unknown name ${logicalId}`)
  const nameProperty: Record<string, string> = {
    'AWS::DynamoDB::Table': 'TableName',
    'AWS::Serverless::Function': 'FunctionName',
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::Logs::LogGroup': 'LogGroupName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::KMS::Alias': 'AliasName',
    'AWS::IAM::Role': 'RoleName',
  }
  const property = nameProperty[resource.Type]
  const raw = property === undefined ? undefined : resource.Properties?.[property]
  if (raw === undefined) return logicalId
  const value = resolveValue(raw, ctx)
  if (resource.Type === 'AWS::SNS::Topic' && typeof value === 'string') {
    return `arn:${pseudoOf(ctx, 'AWS::Partition')}:sns:${pseudoOf(ctx, 'AWS::Region')}:${pseudoOf(ctx, 'AWS::AccountId')}:${value}`
  }
  return typeof value === 'string' ? value : logicalId
}

function getAtt(ctx: ResolveContext, logicalId: string, attribute: string): string {
  const resource = ctx.template.Resources[logicalId]
  if (resource === undefined) throw new TemplateError(`GetAtt of unknown resource ${logicalId}`)
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
