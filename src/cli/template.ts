// The CLI's use of the template reader (src/template.ts): a function's name (the
// LambdaFunctionName encryption context) and its environment variables. Intrinsic functions
// are read as plain data ({ 'Fn::Sub': ... }, { Ref: ... }) and only the few that name a
// function are resolved, here.

import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  type Template as CfnTemplate,
  functionResources,
  isRecord,
  type Json,
  readTemplate,
  samconfigParameter,
  TemplateError,
} from '../template.ts'
import { CliUsageError } from './errors.ts'

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
}

export interface TemplateFunction {
  logicalId: string
  /** The name the middleware puts in the context (KMS_SECRETS_FUNCTION_NAME if set there). */
  functionName: string
  /** Where it came from, for the stderr note. */
  nameSource: 'FunctionName' | 'KMS_SECRETS_FUNCTION_NAME'
  /** Environment variables (Globals merged), with the size of the value when it is known. */
  variables: Array<{ name: string; value: Json; bytes: number | undefined }>
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
  const sized = await Promise.all(
    Object.entries(fn.environment).map(async ([name, value]) => {
      const resolved = await resolver.tryResolve(value)
      return { name, value, bytes: resolved === undefined ? undefined : byteLength(resolved) }
    }),
  )
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

  async resolve(node: Json, what: string): Promise<string> {
    if (['string', 'number', 'boolean'].includes(typeof node)) return String(node)
    if (isRecord(node)) {
      if (typeof node.Ref === 'string') return this.#ref(node.Ref, what)
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
