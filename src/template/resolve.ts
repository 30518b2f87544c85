// The CLI's use of the template reader (src/template/read.ts): a function's name (the
// LambdaFunctionName encryption context) and its environment variables. Intrinsic functions
// are read as plain data ({ 'Fn::Sub': ... }, { Ref: ... }) and only the few that name a
// function are resolved, here.

import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { CliUsageError } from '../cli/errors.ts'
import {
  type Template as CfnTemplate,
  functionResources,
  isRecord,
  type Json,
  readTemplate,
  samconfigParameter,
  TemplateError,
} from './read.ts'

export interface Template {
  path: string
  doc: CfnTemplate
}

export const loadTemplate = async (path: string): Promise<Template> => {
  try {
    return { path, doc: readTemplate(path) }
  } catch (error) {
    throw error instanceof TemplateError ? new CliUsageError(error.message) : error
  }
}

export interface ResolveScope {
  /** Stack name, when the caller knows it (--stack-name); else looked up in samconfig.toml. */
  stackName: () => Promise<string>
  region: string | undefined
  /** Parameter values of the deploy (they win over the template's Default). */
  parameters?: Readonly<Record<string, string>>
}

export interface TemplateFunction {
  logicalId: string
  /** The name the middleware puts in the context (KMS_SECRETS_FUNCTION_NAME if set there). */
  functionName: string
  /** Where it came from, for the stderr note. */
  nameSource: 'FunctionName' | 'KMS_SECRETS_FUNCTION_NAME'
  /**
   * Environment variables (Globals merged; those an `!If` leaves out with AWS::NoValue are
   * dropped), with the value and its size when they are known.
   */
  variables: Array<{
    name: string
    value: Json
    text?: string | undefined
    bytes: number | undefined
  }>
}

export const findFunction = async (
  template: Template,
  logicalId: string,
  scope: ResolveScope,
): Promise<TemplateFunction> => {
  const functions = functionResources(template.doc)
  const fn = functions.find((f) => f.logicalId === logicalId)
  if (fn === undefined) {
    const known = functions.map((f) => f.logicalId)
    throw new CliUsageError(
      `${template.path} has no function ${logicalId} (functions: ${known.join(', ') || 'none'})`,
    )
  }
  const resolver = new Resolver(template, scope)
  const sized = (
    await Promise.all(
      Object.entries(fn.environment).map(async ([name, value]) => {
        if (await resolver.isNoValue(value)) return []
        const text = await resolver.tryResolve(value)
        return [{ name, value, text, bytes: text === undefined ? undefined : byteLength(text) }]
      }),
    )
  ).flat()
  const override = fn.environment.KMS_SECRETS_FUNCTION_NAME
  const overrideName =
    override === undefined
      ? ''
      : await resolver.resolve(override, `${logicalId} KMS_SECRETS_FUNCTION_NAME`)
  // Empty (declared only so that sam local passes it): the middleware then uses
  // AWS_LAMBDA_FUNCTION_NAME, the FunctionName below.
  if (overrideName !== '') {
    return {
      logicalId,
      functionName: overrideName,
      nameSource: 'KMS_SECRETS_FUNCTION_NAME',
      variables: sized,
    }
  }
  const functionName = fn.properties.FunctionName
  if (functionName === undefined) {
    throw new CliUsageError(
      `${logicalId} has no FunctionName: CloudFormation makes one up at deploy time, so the encryption context cannot be known now; set FunctionName in the template, or pass --function-name`,
    )
  }
  const name = await resolver.resolve(functionName, `${logicalId} FunctionName`)
  return { logicalId, functionName: name, nameSource: 'FunctionName', variables: sized }
}

/** One template value resolved like a function name is (plain text, !Ref, !Sub, !Join, !If). */
export const resolveIn = (template: Template, scope: ResolveScope, node: Json, what: string) =>
  new Resolver(template, scope).resolve(node, what)

/** Whether a condition of the template holds for these parameters. */
export const conditionIn = (template: Template, scope: ResolveScope, name: string, what: string) =>
  new Resolver(template, scope).holds(name, what)

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

  tryResolve(node: Json): Promise<string | undefined> {
    // Stryker disable next-line StringLiteral: `what` only names the value in errors, swallowed here
    return this.resolve(node, '').catch(() => undefined)
  }

  /** `!Ref AWS::NoValue`, or an `!If` that chooses it: the property is left out. */
  async isNoValue(node: Json): Promise<boolean> {
    if (!isRecord(node)) return false
    if (node.Ref === 'AWS::NoValue') return true
    const branch = await this.#ifBranch(node, '').catch(() => undefined)
    return branch !== undefined && this.isNoValue(branch)
  }

  /** The branch an `!If [Condition, a, b]` takes; undefined when `node` is no `!If`. */
  async #ifBranch(node: Record<string, Json>, what: string): Promise<Json | undefined> {
    const fnIf = node['Fn::If']
    if (!Array.isArray(fnIf) || fnIf.length !== 3 || typeof fnIf[0] !== 'string') return undefined
    return (await this.#condition(fnIf[0], what, 0)) ? fnIf[1] : fnIf[2]
  }

  holds(name: string, what: string): Promise<boolean> {
    return this.#condition(name, what, 0)
  }

  /** A condition made of !Equals, !Not and !Condition over values that resolve. */
  #condition(name: string, what: string, depth: number): Promise<boolean> {
    const conditions = this.#template.doc.Conditions
    const node = isRecord(conditions) && Object.hasOwn(conditions, name) ? conditions[name] : null
    return this.#truth(node as Json, what, depth)
  }

  async #truth(node: Json, what: string, depth: number): Promise<boolean> {
    // A cycle (which CloudFormation refuses) stops here instead of looping.
    if (!isRecord(node) || depth > 16) return this.#unknown(what)
    if (typeof node.Condition === 'string') return this.#condition(node.Condition, what, depth + 1)
    const equals = node['Fn::Equals']
    if (Array.isArray(equals) && equals.length === 2) {
      const [a, b] = await Promise.all(equals.map((side) => this.resolve(side, what)))
      return a === b
    }
    const not = node['Fn::Not']
    if (Array.isArray(not) && not.length === 1) {
      return !(await this.#truth(not[0] as Json, what, depth + 1))
    }
    return this.#unknown(what)
  }

  async resolve(node: Json, what: string): Promise<string> {
    if (['string', 'number', 'boolean'].includes(typeof node)) return String(node)
    if (isRecord(node)) {
      if (typeof node.Ref === 'string') return this.#ref(node.Ref, what)
      const branch = await this.#ifBranch(node, what)
      if (branch !== undefined) return this.resolve(branch, what)
      if (node['Fn::Sub'] !== undefined) return this.#sub(node['Fn::Sub'], what)
      const join = node['Fn::Join']
      if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
        const parts = await Promise.all(join[1].map((part: Json) => this.resolve(part, what)))
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
    const given = this.#scope.parameters
    if (given !== undefined && Object.hasOwn(given, name)) return given[name] as string
    const parameters = this.#template.doc.Parameters
    const parameter = isRecord(parameters) ? parameters[name] : undefined
    if (isRecord(parameter) && typeof parameter.Default === 'string') return parameter.Default
    throw new CliUsageError(
      `cannot work out ${what} from the template: it uses ${name}, which has no value here; pass --function-name`,
    )
  }

  async #sub(sub: Json, what: string): Promise<string> {
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
      const local = isRecord(variables) ? variables[name] : undefined
      out += local === undefined ? await this.#ref(name, what) : await this.resolve(local, what)
    }
    return out + text.slice(last)
  }
}

/** The stack name from samconfig.toml (see samconfigParameter). */
export const samconfigStackName = async (path: string, configEnv: string): Promise<string> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CliUsageError(
      `the template's function name uses the stack name: pass --stack-name (cannot read ${path}: ${(error as NodeJS.ErrnoException).code})`,
    )
  }
  const name = samconfigParameter(text, configEnv, 'stack_name')
  if (!name) {
    throw new CliUsageError(
      `the template's function name uses the stack name: pass --stack-name (${path} has no stack_name for config env "${configEnv}")`,
    )
  }
  return name
}

export const defaultSamconfig = (templatePath: string) =>
  join(dirname(templatePath), 'samconfig.toml')
