// The CLI's use of the template (cli/src/template/): a function's name (the LambdaFunctionName
// encryption context) and its environment variables, with the values a deploy would give
// them. Values known only once deployed are refused; the reader's and the resolver's
// TemplateErrors become usage errors here.

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CliUsageError } from './errors.ts'
import {
  functionResources,
  type Json,
  readTemplate,
  samconfigParameter,
  type Template,
  TemplateError,
} from './template/read.ts'
import {
  conditionValue,
  isText,
  MissingValueError,
  NO_VALUE,
  type ResolveScope,
  resolveValue,
  textOf,
} from './template/resolve.ts'

/** A template and the file it was read from (named in errors). */
export interface TemplateFile {
  path: string
  doc: Template
}

export const loadTemplate = (path: string): TemplateFile => {
  try {
    return { path, doc: readTemplate(path) }
  } catch (error) {
    throw error instanceof TemplateError ? new CliUsageError(error.message) : error
  }
}

/** What the CLI knows of the deploy. */
export interface DeployValues {
  /** The stack name (--stack-name, else samconfig.toml): asked for only when the template uses it. */
  stackName: () => string
  region: string | undefined
  /** Parameter values of the deploy (they win over the template's Default). */
  parameters?: Readonly<Record<string, string>> | undefined
}

const scopeOf = (template: TemplateFile, values: DeployValues): ResolveScope => ({
  template: template.doc,
  parameters: values.parameters,
  // An empty AWS_REGION is no region.
  pseudo: { 'AWS::StackName': values.stackName, 'AWS::Region': values.region || undefined },
  unfixed: 'refuse',
})

/** The resolver's error as the CLI says it: what cannot be known, and what to pass instead. */
const resolvedFor = <T>(what: string, resolve: () => T): T => {
  try {
    return resolve()
  } catch (error) {
    if (error instanceof MissingValueError) {
      throw new CliUsageError(
        `cannot work out ${what} from the template: it uses ${error.uses}, which has no value here; pass --function-name`,
      )
    }
    if (error instanceof TemplateError) {
      throw new CliUsageError(
        `cannot work out ${what} from the template (${error.message}): pass --function-name`,
      )
    }
    throw error
  }
}

/** A function of the template: the name its values are encrypted for, and its environment. */
export interface TemplateFunctionEnv {
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

export const findFunction = (
  template: TemplateFile,
  logicalId: string,
  values: DeployValues,
): TemplateFunctionEnv => {
  const functions = functionResources(template.doc)
  const fn = functions.find((f) => f.logicalId === logicalId)
  if (fn === undefined) {
    const known = functions.map((f) => f.logicalId)
    throw new CliUsageError(
      `${template.path} has no function ${logicalId} (functions: ${known.join(', ') || 'none'})`,
    )
  }
  const scope = scopeOf(template, values)
  const variables = Object.entries(fn.environment).flatMap(([name, value]) => {
    let text: string | undefined
    try {
      const resolved = resolveValue(value, scope)
      if (resolved === NO_VALUE) return []
      text = isText(resolved) ? String(resolved) : undefined
    } catch {
      // Not known here: the variable is listed without its value.
    }
    return [{ name, value, text, bytes: text === undefined ? undefined : byteLength(text) }]
  })
  // Empty (declared only so that sam local passes it): the middleware then uses
  // AWS_LAMBDA_FUNCTION_NAME, the FunctionName below.
  const override = nameIn(
    fn.environment.KMS_SECRETS_FUNCTION_NAME,
    scope,
    logicalId,
    'KMS_SECRETS_FUNCTION_NAME',
  )
  if (override !== undefined && override !== '') {
    return { logicalId, functionName: override, nameSource: 'KMS_SECRETS_FUNCTION_NAME', variables }
  }
  const functionName = nameIn(fn.properties.FunctionName, scope, logicalId, 'FunctionName')
  if (functionName === undefined) {
    throw new CliUsageError(
      `${logicalId} has no FunctionName: CloudFormation makes one up at deploy time, so the encryption context cannot be known now; set FunctionName in the template, or pass --function-name`,
    )
  }
  return { logicalId, functionName, nameSource: 'FunctionName', variables }
}

/** A name property as text; undefined when it is not set (or set to AWS::NoValue). */
const nameIn = (node: Json | undefined, scope: ResolveScope, logicalId: string, what: string) =>
  resolvedFor(`${logicalId} ${what}`, () => {
    const value = node === undefined ? NO_VALUE : resolveValue(node, scope)
    return value === NO_VALUE ? undefined : textOf(value, 'it')
  })

/** One template value as text, in the deploy's scope. */
export const resolveIn = (template: TemplateFile, values: DeployValues, node: Json, what: string) =>
  resolvedFor(what, () => textOf(resolveValue(node, scopeOf(template, values)), 'it'))

/** Whether a condition of the template holds for the deploy's parameters. */
export const conditionIn = (
  template: TemplateFile,
  values: DeployValues,
  name: string,
  what: string,
) => resolvedFor(what, () => conditionValue(scopeOf(template, values), name))

// Stryker disable next-line StringLiteral: an unknown encoding ('') falls back to UTF-8
export const byteLength = (text: string) => Buffer.byteLength(text, 'utf8')

/** The stack name from samconfig.toml (see samconfigParameter). */
export const samconfigStackName = (path: string, configEnv: string): string => {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
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

/** The region samconfig.toml deploys to; undefined when the file or the key is missing. */
export const samconfigRegion = (path: string, configEnv: string): string | undefined => {
  try {
    return samconfigParameter(readFileSync(path, 'utf8'), configEnv, 'region') || undefined
  } catch {
    return undefined
  }
}

export const defaultSamconfig = (templatePath: string) =>
  join(dirname(templatePath), 'samconfig.toml')
