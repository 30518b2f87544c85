// A minimal SAM / CloudFormation template reader for the CLI: enough to learn a
// function's name (the LambdaFunctionName encryption context) and its environment
// variables. Intrinsic functions (!Sub, !Ref, ...) are read as plain data
// ({ 'Fn::Sub': ... }, { Ref: ... }) and only the few that name a function are resolved.

import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { CliUsageError } from './errors.ts'

type Node = unknown

const INTRINSICS = [
  'Sub',
  'GetAtt',
  'Join',
  'If',
  'Select',
  'Split',
  'FindInMap',
  'Base64',
  'Cidr',
  'ImportValue',
  'GetAZs',
  'Equals',
  'And',
  'Or',
  'Not',
  'Transform',
  'ToJsonString',
  'Length',
]

/** YAML custom tags: `!Ref x` -> { Ref: x }, `!Sub x` -> { 'Fn::Sub': x }, `!Condition x` -> { Condition: x }. */
const cfnTags = () => {
  const tag = (name: string, key: string) =>
    (['scalar', 'seq', 'map'] as const).map((kind) => ({
      tag: `!${name}`,
      ...(kind === 'scalar' ? {} : { collection: kind }),
      resolve: (value: unknown) => ({
        [key]: (value as { toJSON?: () => unknown }).toJSON?.() ?? value,
      }),
    }))
  return [
    ...tag('Ref', 'Ref'),
    ...tag('Condition', 'Condition'),
    ...INTRINSICS.flatMap((name) => tag(name, `Fn::${name}`)),
  ]
}

export interface Template {
  path: string
  doc: Record<string, Node>
}

const isObject = (node: Node): node is Record<string, Node> =>
  typeof node === 'object' && node !== null && !Array.isArray(node)

export const loadTemplate = async (path: string): Promise<Template> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CliUsageError(
      `cannot read the template ${path} (${(error as NodeJS.ErrnoException).code})`,
    )
  }
  // Loaded only when a template is used: the rest of the CLI needs no YAML parser.
  const { parse } = await import('yaml')
  let doc: unknown
  try {
    doc = parse(text, { customTags: cfnTags() as never, uniqueKeys: false })
  } catch (error) {
    // One line: the yaml package adds the offending line and a caret below its reason.
    const reason = ((error as Error).message.split('\n')[0] as string).replace(/:$/, '')
    throw new CliUsageError(`${path} is not valid YAML or JSON (${reason})`)
  }
  if (!isObject(doc) || !isObject(doc.Resources)) {
    throw new CliUsageError(`${path} is not a CloudFormation / SAM template (no Resources)`)
  }
  return { path, doc }
}

const FUNCTION_TYPES = new Set(['AWS::Serverless::Function', 'AWS::Lambda::Function'])

export interface ResolveScope {
  /** Stack name, when the caller knows it (--stack-name); else looked up in samconfig.toml. */
  stackName: () => Promise<string>
  region: string | undefined
}

export interface TemplateFunction {
  logicalId: string
  /** The name the middleware puts in the context (KMS_SECRETS_FUNCTION_NAME if set there). */
  functionName: string
  /** Where it came from, for the stderr note. */
  nameSource: 'FunctionName' | 'KMS_SECRETS_FUNCTION_NAME'
  /** Environment variables (Globals merged), with the size of the value when it is known. */
  variables: Array<{ name: string; value: Node; bytes: number | undefined }>
}

const functionsOf = (template: Template) =>
  Object.entries(template.doc.Resources as Record<string, Node>)
    .filter(([, resource]) => isObject(resource) && FUNCTION_TYPES.has(resource.Type as string))
    .map(([id]) => id)

export const findFunction = async (
  template: Template,
  logicalId: string,
  scope: ResolveScope,
): Promise<TemplateFunction> => {
  const resource = (template.doc.Resources as Record<string, Node>)[logicalId]
  if (!isObject(resource) || !FUNCTION_TYPES.has(resource.Type as string)) {
    const known = functionsOf(template)
    throw new CliUsageError(
      `${template.path} has no function ${logicalId} (functions: ${known.join(', ') || 'none'})`,
    )
  }
  const properties = isObject(resource.Properties) ? resource.Properties : {}
  const globals = isObject(template.doc.Globals) ? template.doc.Globals.Function : undefined
  const variables = {
    ...variablesOf(globals),
    ...variablesOf(properties),
  }
  const resolver = new Resolver(template, scope)
  const sized = await Promise.all(
    Object.entries(variables).map(async ([name, value]) => {
      const resolved = await resolver.tryResolve(value)
      return { name, value, bytes: resolved === undefined ? undefined : byteLength(resolved) }
    }),
  )
  const override = variables.KMS_SECRETS_FUNCTION_NAME
  if (override !== undefined) {
    const name = await resolver.resolve(override, `${logicalId} KMS_SECRETS_FUNCTION_NAME`)
    return {
      logicalId,
      functionName: name,
      nameSource: 'KMS_SECRETS_FUNCTION_NAME',
      variables: sized,
    }
  }
  if (properties.FunctionName === undefined) {
    throw new CliUsageError(
      `${logicalId} has no FunctionName: CloudFormation makes one up at deploy time, so the encryption context cannot be known now; set FunctionName in the template, or pass --function-name`,
    )
  }
  const functionName = await resolver.resolve(properties.FunctionName, `${logicalId} FunctionName`)
  return { logicalId, functionName, nameSource: 'FunctionName', variables: sized }
}

const variablesOf = (holder: Node): Record<string, Node> => {
  if (!isObject(holder) || !isObject(holder.Environment)) return {}
  const variables = holder.Environment.Variables
  return isObject(variables) ? variables : {}
}

// Stryker disable next-line StringLiteral: an unknown encoding ('') falls back to UTF-8
export const byteLength = (text: string) => Buffer.byteLength(text, 'utf8')

/** Resolves the intrinsics a function name is usually made of; anything else is "unknown". */
class Resolver {
  readonly #template: Template
  readonly #scope: ResolveScope

  constructor(template: Template, scope: ResolveScope) {
    this.#template = template
    this.#scope = scope
  }

  tryResolve(node: Node): Promise<string | undefined> {
    // Stryker disable next-line StringLiteral: `what` only names the value in errors, swallowed here
    return this.resolve(node, '').catch(() => undefined)
  }

  async resolve(node: Node, what: string): Promise<string> {
    if (['string', 'number', 'boolean'].includes(typeof node)) return String(node)
    if (isObject(node)) {
      if (typeof node.Ref === 'string') return this.#ref(node.Ref, what)
      if (node['Fn::Sub'] !== undefined) return this.#sub(node['Fn::Sub'], what)
      const join = node['Fn::Join']
      if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
        const parts = await Promise.all(join[1].map((part: Node) => this.resolve(part, what)))
        return parts.join(join[0])
      }
    }
    return this.#unknown(what)
  }

  #unknown(what: string): never {
    throw new CliUsageError(
      `cannot work out ${what} from the template (only plain text, !Sub, !Ref and !Join of them): pass --function-name`,
    )
  }

  async #ref(name: string, what: string): Promise<string> {
    if (name === 'AWS::StackName') return this.#scope.stackName()
    if (name === 'AWS::Region' && this.#scope.region) return this.#scope.region
    const parameters = this.#template.doc.Parameters
    const parameter = isObject(parameters) ? parameters[name] : undefined
    if (isObject(parameter) && typeof parameter.Default === 'string') return parameter.Default
    throw new CliUsageError(
      `cannot work out ${what} from the template: it uses ${name}, which has no value here; pass --function-name`,
    )
  }

  async #sub(sub: Node, what: string): Promise<string> {
    const [text, variables] = Array.isArray(sub) ? sub : [sub, {}]
    if (typeof text !== 'string') return this.#unknown(what)
    let out = ''
    let last = 0
    for (const match of text.matchAll(/\$\{(!?)([^}]*)\}/g)) {
      out += text.slice(last, match.index)
      last = match.index + match[0].length
      // Stryker disable next-line StringLiteral: ([^}]*) always takes part (maybe empty): the default is for the type
      const [, literal, name = ''] = match
      if (literal) {
        out += `\${${name}}`
        continue
      }
      const local = isObject(variables) ? variables[name] : undefined
      out += local === undefined ? await this.#ref(name, what) : await this.resolve(local, what)
    }
    return out + text.slice(last)
  }
}

/**
 * The stack name from samconfig.toml (`stack_name` of `[<env>.deploy.parameters]`, else
 * `[<env>.global.parameters]`), read with a few lines instead of a TOML parser.
 */
export const samconfigStackName = async (path: string, configEnv: string): Promise<string> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CliUsageError(
      `the template's function name uses the stack name: pass --stack-name (cannot read ${path}: ${(error as NodeJS.ErrnoException).code})`,
    )
  }
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
  const name =
    tables.get(`${configEnv}.deploy.parameters`)?.get('stack_name') ??
    tables.get(`${configEnv}.global.parameters`)?.get('stack_name')
  if (!name) {
    throw new CliUsageError(
      `the template's function name uses the stack name: pass --stack-name (${path} has no stack_name for config env "${configEnv}")`,
    )
  }
  return name
}

export const defaultSamconfig = (templatePath: string) =>
  join(dirname(templatePath), 'samconfig.toml')
