import { resolve } from 'node:path'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { CliUsageError } from './errors.ts'
import type { CliIo } from './io.ts'
import { suggest } from './suggest.ts'
import { functionResources } from './template/read.ts'
import {
  type DeployValues,
  defaultSamconfig,
  findFunction,
  loadTemplate,
  samconfigRegion,
  samconfigStackName,
  type TemplateFile,
  type TemplateFunctionEnv,
} from './template.ts'

type Options = NonNullable<ParseArgsConfig['options']>
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>

/** Where the value is bound: key, function / context, variable name, template lookup. */
export const targetOptions = {
  'key-id': { type: 'string' },
  'function-name': { type: 'string' },
  context: { type: 'string', multiple: true },
  'no-context': { type: 'boolean' },
  'bind-variable': { type: 'string' },
  template: { type: 'string' },
  function: { type: 'string' },
  'stack-name': { type: 'string' },
  samconfig: { type: 'string' },
  'config-env': { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options

/** Input and output of the commands that produce a value. */
export const outputOptions = {
  in: { type: 'string' },
  name: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean' },
} as const satisfies Options

/** The destination of `reencrypt`. */
export const destinationOptions = {
  'to-key-id': { type: 'string' },
  'to-function-name': { type: 'string' },
  'to-function': { type: 'string' },
  'to-context': { type: 'string', multiple: true },
  'to-no-context': { type: 'boolean' },
  'to-bind-variable': { type: 'string' },
} as const satisfies Options

/**
 * Options that, like `sam deploy --parameter-overrides`, take every argument after them up
 * to the next option: `--parameter-overrides "$(cat a.param)" "$(cat b.param)"`.
 */
const TAKES_SEVERAL: readonly string[] = ['parameter-overrides']

/**
 * node:util parseArgs' tokens, checked here so that every error names the argument's
 * position (argv[0] is the command) and the known choices, never the text typed: a
 * secret pasted on the command line must not come back in an error.
 */
export const parseCommandArgs = (command: string, args: string[], options: Options): Values => {
  const { tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  const hint = `(see kms-secrets ${command} --help)`
  const names = Object.keys(options)
  const values: Values = {}
  // The option the last token was, while it takes several values.
  let several: string | undefined
  for (const token of tokens) {
    const at = `argument ${token.index + 2}`
    if (token.kind === 'option-terminator') {
      several = undefined
      continue
    }
    if (token.kind === 'positional' && several !== undefined) {
      values[several] = [...(values[several] as string[]), token.value]
      continue
    }
    several = undefined
    if (token.kind === 'positional') {
      throw new CliUsageError(
        `${at} is not an option: ${command} takes options only; secrets are read from stdin or --in FILE, never from the command line ${hint}`,
      )
    }
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined
    if (spec === undefined) {
      const near = suggest(token.name, names)
      throw new CliUsageError(
        `${at} is not an option of ${command}${near ? `; did you mean --${near}?` : ''} (options: ${names.map((name) => `--${name}`).join(', ')})`,
      )
    }
    const flag = `--${token.name}`
    if (spec.type === 'boolean') {
      if (token.value !== undefined)
        throw new CliUsageError(`${at}: ${flag} takes no value ${hint}`)
      values[token.name] = true
      continue
    }
    // parseArgs takes the next argument as the value even when it looks like an option.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      throw new CliUsageError(
        `${at}: ${flag} needs a value (one that starts with - is written ${flag}=VALUE) ${hint}`,
      )
    }
    if (token.value === '') throw new CliUsageError(`${flag} needs a non-empty value`)
    values[token.name] = spec.multiple
      ? [...((values[token.name] as string[] | undefined) ?? []), token.value]
      : token.value
    if (TAKES_SEVERAL.includes(token.name)) several = token.name
  }
  return values
}

/** A string option (parseArgs typed it; empty values were refused). */
export const stringOf = (values: Values, name: string): string | undefined =>
  values[name] as string | undefined

const listOf = (values: Values, name: string): string[] =>
  (values[name] as string[] | undefined) ?? []

/** Shared by both ends of `reencrypt`: the template is read once. */
export class TemplateScope {
  readonly #values: Values
  readonly #io: CliIo
  #template: TemplateFile | undefined
  #stackName: string | undefined
  #region: string | undefined | null = null
  #regionNote: string | undefined

  constructor(values: Values, io: CliIo) {
    this.#values = values
    this.#io = io
  }

  get path(): string | undefined {
    const path = stringOf(this.#values, 'template')
    return path === undefined ? undefined : resolve(this.#io.cwd, path)
  }

  template(): TemplateFile {
    this.#template ??= loadTemplate(this.path as string)
    return this.#template
  }

  /** samconfig.toml: --samconfig, else the one beside the template (undefined: no template). */
  #samconfigPath(): string | undefined {
    const samconfig = stringOf(this.#values, 'samconfig')
    if (samconfig !== undefined) return resolve(this.#io.cwd, samconfig)
    return this.path === undefined ? undefined : defaultSamconfig(this.path)
  }

  #configEnv(): string {
    return stringOf(this.#values, 'config-env') ?? 'default'
  }

  stackName(): string {
    const given = stringOf(this.#values, 'stack-name')
    if (given !== undefined) return given
    this.#stackName ??= samconfigStackName(this.#samconfigPath() as string, this.#configEnv())
    return this.#stackName
  }

  /**
   * The region KMS is called in: --region, AWS_REGION, AWS_DEFAULT_REGION, else the one
   * samconfig.toml deploys to (what sam deploy uses); undefined: the SDK's own chain (the
   * profile).
   */
  region(): string | undefined {
    if (this.#region === null) {
      const path = this.#samconfigPath()
      const deploysTo = path === undefined ? undefined : samconfigRegion(path, this.#configEnv())
      const env = this.#io.env
      const given = stringOf(this.#values, 'region')
      const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined
      this.#region = given ?? fromEnv ?? deploysTo
      if (
        given === undefined &&
        fromEnv !== undefined &&
        deploysTo !== undefined &&
        fromEnv !== deploysTo
      ) {
        this.#regionNote = `note: KMS region ${fromEnv} (from the environment), but ${path} deploys to ${deploysTo}: pass --region ${deploysTo} if the key is there\n`
      }
    }
    return this.#region
  }

  /** The region for the KMS client; says once on stderr when samconfig.toml deploys elsewhere. */
  kmsRegion(): string | undefined {
    const region = this.region()
    if (this.#regionNote !== undefined) this.#io.stderr.write(this.#regionNote)
    this.#regionNote = undefined
    return region
  }

  /** The deploy's values: the stack name (read when used), the region, these parameters. */
  deployValues(parameters?: Readonly<Record<string, string>>): DeployValues {
    return {
      stackName: () => this.stackName(),
      region: this.region(),
      parameters,
    }
  }

  /**
   * Refuses a logical id of the template (--template, else ./template.yaml) given as a
   * function name: the context would name no deployed function, and nothing would decrypt.
   */
  refuseLogicalId(name: string, flag: string): void {
    const path = this.path ?? resolve(this.#io.cwd, 'template.yaml')
    let template: TemplateFile
    try {
      template = this.path === undefined ? loadTemplate(path) : this.template()
    } catch {
      return // no template here, or not one: nothing to compare with
    }
    if (!functionResources(template.doc).some((fn) => fn.logicalId === name)) return
    let real: string | undefined
    try {
      real = findFunction(template, name, {
        stackName: () =>
          stringOf(this.#values, 'stack-name') ??
          samconfigStackName(this.#samconfigPath() ?? defaultSamconfig(path), this.#configEnv()),
        region: undefined,
      }).functionName
    } catch {
      real = undefined
    }
    if (real === name) return
    const named = real === undefined ? '' : `: it is deployed as ${real} (${flag} ${real})`
    throw new CliUsageError(
      `${flag} ${name} is a logical id of ${path}, not a function name${named}; or pass --template ${path} --function ${name}`,
    )
  }

  function(logicalId: string): TemplateFunctionEnv {
    return findFunction(this.template(), logicalId, this.deployValues())
  }
}

export interface Target {
  context: Record<string, string>
  /** The template's function, when the context came from --template/--function. */
  fn: TemplateFunctionEnv | undefined
}

/**
 * The encryption context from `--function-name`, `--template … --function`, `--context`
 * and `--no-context` (or their `--to-` forms with prefix `to-`), plus `--bind-variable`.
 * `undefined` when none of them is given.
 */
export const resolveTarget = async (
  values: Values,
  scope: TemplateScope,
  prefix: '' | 'to-',
  bindVariable: string | undefined,
): Promise<Target | undefined> => {
  const flag = (name: string) => `--${prefix}${name}`
  const functionName = stringOf(values, `${prefix}function-name`)
  const logicalId = stringOf(values, `${prefix}function`)
  const pairs = listOf(values, `${prefix}context`)
  const noContext = values[`${prefix}no-context`] === true
  if (logicalId !== undefined && scope.path === undefined) {
    throw new CliUsageError(`${flag('function')} needs --template template.yaml`)
  }
  if (functionName !== undefined && logicalId !== undefined) {
    throw new CliUsageError(`give either ${flag('function-name')} or ${flag('function')}, not both`)
  }
  if (noContext && (functionName !== undefined || logicalId !== undefined || pairs.length > 0)) {
    throw new CliUsageError(`${flag('no-context')} cannot be combined with another context option`)
  }
  if (!noContext && functionName === undefined && logicalId === undefined && pairs.length === 0) {
    return undefined
  }
  const context: Record<string, string> = {}
  let fn: TemplateFunctionEnv | undefined
  if (logicalId !== undefined) {
    fn = scope.function(logicalId)
    context.LambdaFunctionName = fn.functionName
  }
  if (functionName !== undefined) {
    scope.refuseLogicalId(functionName, flag('function-name'))
    context.LambdaFunctionName = functionName
  }
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new CliUsageError(`${flag('context')} needs KEY=VALUE`)
    const key = pair.slice(0, at)
    if (Object.hasOwn(context, key)) {
      throw new CliUsageError(`the context key ${key} is given twice`)
    }
    context[key] = pair.slice(at + 1)
  }
  if (bindVariable !== undefined) {
    if (Object.hasOwn(context, 'EnvironmentVariableName')) {
      throw new CliUsageError(
        'the context key EnvironmentVariableName is given twice (--bind-variable sets it)',
      )
    }
    context.EnvironmentVariableName = bindVariable
  }
  return { context, fn }
}

export const NO_CONTEXT_HINT =
  'no encryption context: pass --function-name NAME (what the middleware expects by default), --template template.yaml --function LogicalId, --context KEY=VALUE, or --no-context'
