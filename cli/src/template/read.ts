// The one reader of CloudFormation / SAM templates (template.yaml, pipeline.yaml) and of
// samconfig.toml, for the kms-secrets CLI (cli/src/template.ts) and the dev tooling
// (scripts/template.ts). Reads only: cli/src/template/resolve.ts resolves. Depends on `yaml` alone.
//
// - readTemplate(path) / parseTemplate(text): CloudFormation YAML (or JSON) -> plain JS, the
//   short-form intrinsic tags (!Ref, !Sub, !GetAtt, ...) turned into their long form
//   ({ 'Fn::Sub': ... }), with CloudFormation's YAML 1.1 scalars (yes/no are booleans) but no
//   timestamps, no sexagesimal numbers and no aliases / merge keys (CloudFormation accepts
//   none of them); a repeated key is read as CloudFormation deploys it: the last one wins.
// - functionResources(template): every Lambda function, SAM Globals merged, as written.
// - samconfigParameter(text, configEnv, key): e.g. the stack name from samconfig.toml.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type * as Yaml from 'yaml'
import type { CollectionTag, ScalarTag } from 'yaml'

// Loaded on the first parse, not with this module: the CLI imports it, and only a command
// that reads a template needs the YAML parser (about 50 ms to load).
let loadedYaml: typeof Yaml | undefined
const loadYaml = () => {
  loadedYaml ??= createRequire(import.meta.url)('yaml') as typeof Yaml
  return loadedYaml
}

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

/** A resource as written; a malformed template may hold anything else (null, a scalar). */
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

/** A template that cannot be read; the message is one line and names the file. */
export class TemplateError extends Error {
  override name = 'TemplateError'
}

export const isRecord = (value: unknown): value is Record<string, Json> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

// ----------------------------------------------------------------------------- YAML reading

const INTRINSICS = ['Sub', 'GetAtt', 'If', 'Equals', 'Not', 'And', 'Or', 'Select', 'Join']
  .concat(['Split', 'FindInMap', 'ImportValue', 'Base64', 'Cidr', 'GetAZs', 'Transform'])
  .concat(['Length', 'ToJsonString'])

/** Short-form tag -> long-form key: `!Ref x` -> { Ref: x }, `!Sub x` -> { 'Fn::Sub': x }. */
const INTRINSIC_TAGS: ReadonlyArray<[string, string]> = [
  ['!Ref', 'Ref'],
  ['!Condition', 'Condition'],
  ...INTRINSICS.map((name): [string, string] => [`!${name}`, `Fn::${name}`]),
]

type SchemaTag = ScalarTag | CollectionTag

/** `!GetAtt Resource.Attribute` is split at the first dot (Fn.Version.Version is an attribute). */
const scalarForm = (tag: string, key: string, value: string): Json => {
  if (key !== 'Fn::GetAtt') return { [key]: value }
  const dot = value.indexOf('.')
  if (dot <= 0 || dot === value.length - 1) {
    throw new TemplateError(`${tag} ${value}: expected LogicalId.Attribute`)
  }
  return { [key]: [value.slice(0, dot), value.slice(dot + 1)] }
}

/** The tags, for a parse that collects the `aliases` it meets inside a tagged collection. */
const cfnTags = ({ Scalar, visit }: typeof Yaml, aliases: string[]): SchemaTag[] =>
  INTRINSIC_TAGS.flatMap(([tag, key]): SchemaTag[] => [
    {
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
    },
    ...(['seq', 'map'] as const).map(
      (collection): SchemaTag => ({
        tag,
        collection,
        resolve: (node) => {
          // The long form replaces the node: a later look at the document would miss these.
          visit(node, { Alias: (_, alias) => void aliases.push(alias.source) })
          return new Scalar({ [key]: node.toJSON() as Json })
        },
      }),
    ),
  ])

/**
 * YAML 1.1 as CloudFormation (and SAM CLI, and cfn-lint) read it, which is narrower than the
 * spec: yes/no/on/off are booleans but y/n are strings, "." is a string, and there are no
 * timestamps nor sexagesimal (1:30) numbers: those scalars stay strings.
 */
const cloudFormationScalars = (defaults: SchemaTag[]): SchemaTag[] =>
  defaults.flatMap((t): SchemaTag[] => {
    if (t.tag === 'tag:yaml.org,2002:timestamp' || t.format === 'TIME') return []
    if (t.tag === 'tag:yaml.org,2002:bool' && 'test' in t && t.test !== undefined) {
      const test = t.test.test('true')
        ? /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/
        : /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/
      return [{ ...t, test } as ScalarTag]
    }
    if (t.tag === 'tag:yaml.org,2002:float' && 'test' in t && t.test?.test('.') === true) {
      return [{ ...t, test: /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/ } as ScalarTag]
    }
    return [t]
  })

/** Parses CloudFormation YAML (or JSON) text into plain JS with long-form intrinsics. */
export const parseTemplate = (text: string, source = '<template>'): Template => {
  const yaml = loadYaml()
  const aliases: string[] = []
  const doc = yaml.parseDocument(text, {
    version: '1.1',
    merge: false,
    uniqueKeys: false,
    prettyErrors: true,
    customTags: (defaults) => [
      ...cloudFormationScalars(defaults as SchemaTag[]),
      ...cfnTags(yaml, aliases),
    ],
  })
  const problem = [...doc.errors, ...doc.warnings][0]
  if (problem !== undefined) {
    // One line: the yaml package adds the offending line and a caret below its reason.
    const reason = (problem.message.split('\n')[0] as string).replace(/:$/, '')
    throw new TemplateError(`${source} is not valid YAML or JSON (${reason})`)
  }
  const notTemplate = (why: string) =>
    new TemplateError(`${source} is not a CloudFormation / SAM template (${why})`)
  yaml.visit(doc, { Alias: (_, alias) => void aliases.push(alias.source) })
  if (aliases.length > 0) {
    throw notTemplate(`YAML alias *${aliases[0]}: CloudFormation does not support aliases`)
  }
  const value = doc.toJS() as unknown
  if (!isRecord(value)) throw notTemplate('no top-level mapping')
  if (!isRecord(value.Resources)) throw notTemplate('no Resources')
  return value as unknown as Template
}

/** Reads and parses a template file (see parseTemplate). */
export const readTemplate = (path: string): Template => {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new TemplateError(
      `cannot read the template ${path} (${(error as NodeJS.ErrnoException).code})`,
    )
  }
  return parseTemplate(text, path)
}

// ----------------------------------------------------------------------------- functions

const isIntrinsic = (value: Json): boolean => {
  if (!isRecord(value)) return false
  const keys = Object.keys(value)
  return keys.length === 1 && (keys[0] === 'Ref' || (keys[0] as string).startsWith('Fn::'))
}

/**
 * SAM's Globals merge: a local primitive or intrinsic wins; maps merge key by key; lists
 * are concatenated (global entries first).
 */
export const mergeGlobals = (
  global: Json | undefined,
  local: Json | undefined,
): Json | undefined => {
  if (local === undefined) return global
  // Stryker disable next-line ConditionalExpression: the checks below give local for it too
  if (global === undefined) return local
  if (isIntrinsic(global) || isIntrinsic(local)) return local
  if (Array.isArray(global) && Array.isArray(local)) return [...global, ...local]
  if (isRecord(global) && isRecord(local)) {
    // Entries, not assignments: a key named __proto__ stays a key.
    const merged = new Map(Object.entries(global))
    for (const [key, value] of Object.entries(local)) {
      merged.set(key, mergeGlobals(merged.get(key), value) as Json)
    }
    return Object.fromEntries(merged)
  }
  return local
}

const FUNCTION_TYPES = ['AWS::Serverless::Function', 'AWS::Lambda::Function'] as const

export interface FunctionResource {
  logicalId: string
  type: (typeof FUNCTION_TYPES)[number]
  /** Properties as written, with SAM Globals (Globals.Function) merged into a SAM function's. */
  properties: Record<string, Json>
  /** Metadata as written ({} without). */
  metadata: Record<string, Json>
  /** Environment.Variables of `properties`, raw values ({} without). */
  environment: Record<string, Json>
}

/**
 * Every Lambda function of the template (SAM and plain CloudFormation), in template order.
 * What is not a function resource (another type, or not even a mapping) is passed over.
 */
export const functionResources = (template: Template): FunctionResource[] => {
  const globals = isRecord(template.Globals) ? template.Globals.Function : undefined
  const out: FunctionResource[] = []
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (!isRecord(resource)) continue
    const type = FUNCTION_TYPES.find((t) => t === resource.Type)
    if (type === undefined) continue
    const own = isRecord(resource.Properties) ? resource.Properties : {}
    // A mapping merged into anything is a mapping.
    const properties = (
      type === 'AWS::Serverless::Function' ? mergeGlobals(globals, own) : own
    ) as Record<string, Json>
    const variables = isRecord(properties.Environment)
      ? properties.Environment.Variables
      : undefined
    out.push({
      logicalId,
      type,
      properties,
      metadata: isRecord(resource.Metadata) ? resource.Metadata : {},
      environment: isRecord(variables) ? { ...variables } : {},
    })
  }
  return out
}

// ----------------------------------------------------------------------------- samconfig

/**
 * `key` of `[<configEnv>.deploy.parameters]`, else of `[<configEnv>.global.parameters]`, in
 * samconfig.toml text (the last pair of a table wins), read with a few lines instead of a
 * TOML parser: quoted values only.
 */
export const samconfigParameter = (
  text: string,
  configEnv: string,
  key: string,
): string | undefined => {
  const tables = new Map<string, Map<string, string>>()
  // Pairs before the first table header belong to no table.
  let table = new Map<string, string>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    const header = /^\[\s*([^\]]+?)\s*\]\s*(?:#.*)?$/.exec(line)
    if (header) {
      table = tables.get(header[1] as string) ?? new Map()
      tables.set(header[1] as string, table)
      continue
    }
    const pair = /^([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')\s*(?:#.*)?$/.exec(line)
    if (pair) table.set(pair[1] as string, (pair[2] ?? pair[3]) as string)
  }
  return (
    tables.get(`${configEnv}.deploy.parameters`)?.get(key) ??
    tables.get(`${configEnv}.global.parameters`)?.get(key)
  )
}
