// The one resolver of CloudFormation intrinsic functions, for the kms-secrets CLI
// (cli/src/template.ts) and the dev tooling (scripts/template.ts: invoke, demo, bench, local
// stack). It evaluates the plain data cli/src/template/read.ts reads ({ 'Fn::Sub': ... }): Ref,
// Condition, Fn::Sub, GetAtt, If, Equals, Not, And, Or, Join, Select, Split, FindInMap,
// Base64, GetAZs and ImportValue. Synchronous: a pseudo parameter given as a function (the
// CLI's stack name, read from samconfig.toml) is asked for only when the template uses it.
//
// What the template does not fix (a name CloudFormation generates, an attribute, another
// stack's export, the Availability Zones, a pseudo parameter the scope lacks) follows the
// scope's `unfixed`: 'placeholder' gives local stand-ins (LOCAL_PSEUDO, ARNs made of them,
// `<LogicalId>.<Attribute>`, `ImportValue:<name>`), 'refuse' a MissingValueError naming it.

import { isRecord, type Json, type Template, TemplateError } from './read.ts'

export interface ResolveScope {
  template: Template
  /** Parameter values (of a deploy, or given locally): they win over the Default. */
  parameters?: Readonly<Record<string, string>> | undefined
  /** Pseudo parameter values; a function is called only when the template uses that one. */
  pseudo?: Readonly<Record<string, string | (() => string) | undefined>> | undefined
  unfixed: 'placeholder' | 'refuse'
}

/** A value the scope has not: `uses` names it (a parameter, AWS::Region, Table.Arn, ...). */
export class MissingValueError extends TemplateError {
  readonly uses: string

  constructor(uses: string, message: string) {
    super(message)
    this.uses = uses
  }
}

/** Every pseudo parameter but AWS::NoValue, with the value a local run gives it. */
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

/** AWS::NoValue: the property (or list item) disappears. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue')
export type Resolved = Json | typeof NO_VALUE

/** Resolves the intrinsics in `value`; AWS::NoValue (or an !If choosing it) gives NO_VALUE. */
export const resolveValue = (value: Json, scope: ResolveScope): Resolved =>
  new Resolution(scope).value(value)

/** A resolved value as text: a string, number or boolean, as CloudFormation reads them. */
export const textOf = (value: Resolved, what: string): string => {
  if (!isText(value)) throw new TemplateError(`${what} is ${kindOf(value)}, not text`)
  return String(value)
}

/** Whether condition `name` of the template holds in this scope. */
export const conditionValue = (scope: ResolveScope, name: string): boolean =>
  new Resolution(scope).condition(name)

/** An own entry of a mapping: a key such as `constructor` reads nothing inherited. */
const own = (record: unknown, key: string): Json | undefined =>
  isRecord(record) && Object.hasOwn(record, key) ? record[key] : undefined

export const isText = (value: Resolved | undefined): value is string | number | boolean =>
  ['string', 'number', 'boolean'].includes(typeof value)

/** What a value is, for an error: never the value itself (it may come from a secret). */
const kindOf = (value: Resolved): string => {
  if (value === NO_VALUE) return 'AWS::NoValue'
  if (Array.isArray(value)) return 'a list'
  if (value === null) return 'null'
  return isRecord(value) ? 'a mapping' : 'text'
}

/** `Resource.Attribute` split at the first dot (an attribute may hold dots); else undefined. */
const splitAttribute = (text: string): [string, string] | undefined => {
  const dot = text.indexOf('.')
  return dot < 0 ? undefined : [text.slice(0, dot), text.slice(dot + 1)]
}

/** The property that fixes a resource's physical name, for the types the templates name. */
const NAME_PROPERTY = new Map([
  ['AWS::DynamoDB::Table', 'TableName'],
  ['AWS::Serverless::Function', 'FunctionName'],
  ['AWS::Lambda::Function', 'FunctionName'],
  ['AWS::Logs::LogGroup', 'LogGroupName'],
  ['AWS::SNS::Topic', 'TopicName'],
  ['AWS::KMS::Alias', 'AliasName'],
  ['AWS::IAM::Role', 'RoleName'],
])

interface ArnParts {
  partition: string
  region: string
  account: string
  /** The physical name (a key: its logical id). */
  name: string
}

const functionArn = (p: ArnParts) =>
  `arn:${p.partition}:lambda:${p.region}:${p.account}:function:${p.name}`

/** The ARN of a resource, for the types whose ARN the local tooling builds. */
const ARN = new Map<string, (p: ArnParts) => string>([
  [
    'AWS::DynamoDB::Table',
    (p) => `arn:${p.partition}:dynamodb:${p.region}:${p.account}:table/${p.name}`,
  ],
  ['AWS::Serverless::Function', functionArn],
  ['AWS::Lambda::Function', functionArn],
  [
    'AWS::Logs::LogGroup',
    (p) => `arn:${p.partition}:logs:${p.region}:${p.account}:log-group:${p.name}:*`,
  ],
  ['AWS::IAM::Role', (p) => `arn:${p.partition}:iam::${p.account}:role/${p.name}`],
  ['AWS::KMS::Key', (p) => `arn:${p.partition}:kms:${p.region}:${p.account}:key/${p.name}`],
])

/**
 * One resolution in one scope: the walk over the value, conditions, the cycle guard and the
 * checks of what an argument resolved to. The intrinsic functions and the names a template
 * refers to are the functions below it.
 */
class Resolution {
  readonly scope: ResolveScope
  /** Conditions and names being resolved: a cycle (CloudFormation refuses one) stops. */
  readonly #within = new Set<string>()

  constructor(scope: ResolveScope) {
    this.scope = scope
  }

  value(node: Json): Resolved {
    if (Array.isArray(node)) return node.map((item) => this.value(item)).filter(isPresent)
    if (!isRecord(node)) return node
    const keys = Object.keys(node)
    const key = keys[0] as string
    if (keys.length === 1 && isIntrinsic(key, node[key] as Json)) {
      return intrinsic(this, key, node[key] as Json)
    }
    // Entries, not assignments: a key named __proto__ stays a key.
    return Object.fromEntries(
      Object.entries(node)
        .map(([name, item]): [string, Resolved] => [name, this.value(item)])
        .filter((entry): entry is [string, Json] => isPresent(entry[1])),
    )
  }

  text(node: Json, what: string): string {
    return textOf(this.value(node), what)
  }

  condition(name: string): boolean {
    const definition = own(this.scope.template.Conditions, name)
    if (definition === undefined) throw new TemplateError(`unknown condition ${name}`)
    return this.guarded(`condition ${name}`, () => this.boolean(definition, `condition ${name}`))
  }

  list(node: Json, what: string): Json[] {
    const value = this.value(node)
    if (!Array.isArray(value)) throw new TemplateError(`${what} takes a list, not ${kindOf(value)}`)
    return value
  }

  boolean(node: Json, what: string): boolean {
    const value = this.value(node)
    if (typeof value !== 'boolean') throw new TemplateError(`${what} is not true or false`)
    return value
  }

  guarded<T>(what: string, resolve: () => T): T {
    if (this.#within.has(what)) throw new TemplateError(`${what} refers to itself`)
    this.#within.add(what)
    try {
      return resolve()
    } finally {
      this.#within.delete(what)
    }
  }

  /** A placeholder in a local run; a MissingValueError where only real values will do. */
  unfixed<T>(uses: string, why: string, placeholder: () => T): T {
    if (this.scope.unfixed === 'refuse') throw new MissingValueError(uses, why)
    return placeholder()
  }
}

/** The list of arguments of `key`, `min` to `max` of them. */
const args = (key: string, arg: Json, min: number, max = min): Json[] => {
  if (!Array.isArray(arg) || arg.length < min || arg.length > max) {
    const count = min === max ? `${min}` : `${min} to ${max}`
    throw new TemplateError(`${key} takes a list of ${count}`)
  }
  return arg
}

/** One intrinsic function (`key`) applied to its argument. */
const intrinsic = (r: Resolution, key: string, arg: Json): Resolved => {
  const argument = `an argument of ${key}`
  switch (key) {
    case 'Ref':
      if (typeof arg !== 'string') throw new TemplateError('Ref takes a name')
      return ref(r, arg)
    case 'Condition':
      return r.condition(arg as string)
    case 'Fn::Sub':
      return sub(r, arg)
    case 'Fn::GetAtt': {
      const parts = typeof arg === 'string' ? (splitAttribute(arg) ?? arg) : arg
      const [id, attribute] = args(key, parts, 2)
      return getAtt(r, r.text(id as Json, argument), r.text(attribute as Json, argument))
    }
    case 'Fn::If': {
      const [name, whenTrue, whenFalse] = args(key, arg, 3)
      if (typeof name !== 'string') throw new TemplateError('Fn::If takes a condition name first')
      return r.value((r.condition(name) ? whenTrue : whenFalse) as Json)
    }
    case 'Fn::Equals': {
      const [a, b] = args(key, arg, 2)
      return r.text(a as Json, argument) === r.text(b as Json, argument)
    }
    case 'Fn::Not':
      return !r.boolean(args(key, arg, 1)[0] as Json, argument)
    case 'Fn::And':
    case 'Fn::Or': {
      // Every condition is evaluated (CloudFormation checks them all), then combined.
      const values = args(key, arg, 2, 10).map((c) => r.boolean(c, argument))
      return key === 'Fn::And' ? !values.includes(false) : values.includes(true)
    }
    case 'Fn::Join': {
      const [separator, items] = args(key, arg, 2)
      if (typeof separator !== 'string') throw new TemplateError('Fn::Join takes a text separator')
      return r
        .list(items as Json, key)
        .map((item) => r.text(item, `an item of ${key}`))
        .join(separator)
    }
    case 'Fn::Select': {
      const [index, items] = args(key, arg, 2)
      const list = r.list(items as Json, key)
      const at = r.text(index as Json, argument)
      // Own keys of a list are its indexes as written canonically: "1", not " 1" or "1.0".
      const picked = Object.hasOwn(list, at) ? list[Number(at)] : undefined
      if (picked === undefined) throw new TemplateError('Fn::Select: the index is out of range')
      return picked
    }
    case 'Fn::Split': {
      const [separator, source] = args(key, arg, 2)
      if (typeof separator !== 'string') throw new TemplateError('Fn::Split takes a text separator')
      return r.text(source as Json, argument).split(separator)
    }
    case 'Fn::FindInMap': {
      const [map, top, second] = args(key, arg, 3).map((name) => r.text(name, argument))
      const mapping = own(r.scope.template.Mappings, map as string)
      const found = own(own(mapping, top as string), second as string)
      if (found === undefined) throw new TemplateError('Fn::FindInMap: no such entry in Mappings')
      return found
    }
    case 'Fn::Base64':
      return Buffer.from(r.text(arg, argument)).toString('base64')
    case 'Fn::GetAZs':
      return r.unfixed('Fn::GetAZs', 'the Availability Zones are known only in AWS', () => {
        const region = r.text(arg, argument) || pseudo(r, 'AWS::Region')
        return [`${region}a`, `${region}b`, `${region}c`]
      })
    case 'Fn::ImportValue': {
      const name = r.text(arg, argument)
      const placeholder = () => `ImportValue:${name}`
      return r.unfixed(`the export ${name}`, `${name} is another stack's export`, placeholder)
    }
    default:
      throw new TemplateError(`${key} is not supported`)
  }
}

/** What `Ref name` gives: AWS::NoValue, a pseudo parameter, a parameter or a resource's name. */
const ref = (r: Resolution, name: string): Resolved => {
  if (name === 'AWS::NoValue') return NO_VALUE
  if (name.startsWith('AWS::')) return pseudo(r, name)
  const { template, parameters } = r.scope
  const parameter = own(template.Parameters, name)
  if (parameter !== undefined) {
    if (parameters !== undefined && Object.hasOwn(parameters, name)) {
      return parameters[name] as string
    }
    const fallback = own(parameter, 'Default')
    if (isText(fallback)) return String(fallback)
    throw new MissingValueError(
      name,
      `parameter ${name} has no Default: pass --parameter-overrides ${name}=...`,
    )
  }
  if (own(template.Resources, name) !== undefined) return resourceRef(r, name)
  throw new MissingValueError(name, `Ref to unknown name ${name}`)
}

const pseudo = (r: Resolution, name: string): string => {
  if (!Object.hasOwn(LOCAL_PSEUDO, name)) {
    throw new TemplateError(`unknown pseudo parameter ${name}`)
  }
  const given =
    r.scope.pseudo !== undefined && Object.hasOwn(r.scope.pseudo, name)
      ? r.scope.pseudo[name]
      : undefined
  if (given !== undefined) return typeof given === 'function' ? given() : given
  return r.unfixed(name, `${name} has no value here`, () => LOCAL_PSEUDO[name] as string)
}

/** What Ref gives for a resource: its physical name (a topic's ARN, a key's id). */
const resourceRef = (r: Resolution, logicalId: string): string => {
  const resource = own(r.scope.template.Resources, logicalId)
  const type = String(own(resource, 'Type'))
  const property = NAME_PROPERTY.get(type)
  const written = property === undefined ? undefined : own(own(resource, 'Properties'), property)
  const name =
    written === undefined ? NO_VALUE : r.guarded(`the name of ${logicalId}`, () => r.value(written))
  if (name === NO_VALUE) {
    return r.unfixed(logicalId, `${logicalId} is named by CloudFormation`, () => logicalId)
  }
  const text = textOf(name, `the name of ${logicalId}`)
  if (type !== 'AWS::SNS::Topic') return text
  const p = arnParts(r, text)
  return `arn:${p.partition}:sns:${p.region}:${p.account}:${p.name}`
}

const arnParts = (r: Resolution, name: string): ArnParts => ({
  partition: pseudo(r, 'AWS::Partition'),
  region: pseudo(r, 'AWS::Region'),
  account: pseudo(r, 'AWS::AccountId'),
  name,
})

const getAtt = (r: Resolution, logicalId: string, attribute: string): string => {
  const uses = `${logicalId}.${attribute}`
  const resource = own(r.scope.template.Resources, logicalId)
  if (resource === undefined)
    throw new MissingValueError(uses, `GetAtt of unknown resource ${logicalId}`)
  return r.unfixed(uses, `${uses} is known only once deployed`, () => {
    const arn = attribute === 'Arn' ? ARN.get(String(own(resource, 'Type'))) : undefined
    return arn === undefined ? uses : arn(arnParts(r, resourceRef(r, logicalId)))
  })
}

const sub = (r: Resolution, arg: Json): string => {
  const [text, variables] = Array.isArray(arg) ? args('Fn::Sub', arg, 1, 2) : [arg]
  if (typeof text !== 'string') throw new TemplateError('Fn::Sub takes text')
  return text.replace(/\$\{(!?)([^}]*)\}/g, (_, literal: string, name: string) => {
    if (literal === '!') return `\${${name}}`
    const local = own(variables, name)
    if (local !== undefined) return r.text(local, `Fn::Sub variable ${name}`)
    const attribute = splitAttribute(name)
    if (attribute !== undefined) return getAtt(r, ...attribute)
    return textOf(ref(r, name), `Fn::Sub \${${name}}`)
  })
}

const isPresent = (value: Resolved): value is Json => value !== NO_VALUE

const isIntrinsic = (key: string, arg: Json): boolean =>
  key === 'Ref' || key.startsWith('Fn::') || (key === 'Condition' && typeof arg === 'string')
