import { isEnvName } from 'middy-kms-secrets/format'
import { CliUsageError } from './errors.ts'
import { byteLength, type TemplateFunctionEnv } from './template.ts'

export const FORMATS = ['value', 'env-json', 'parameter-overrides'] as const
export type Format = (typeof FORMATS)[number]

/** Lambda: 4 KB for all environment variables of a function (names + values). */
export const LAMBDA_ENV_BYTES = 4096
/** CloudFormation: 4096 bytes per parameter value. */
export const CFN_PARAMETER_BYTES = 4096

const parameterName = /^[A-Za-z0-9]+$/

export const parseFormat = (text: string | undefined): Format => {
  const format = (text ?? 'value') as Format
  if (!FORMATS.includes(format)) {
    throw new CliUsageError(`--format is one of ${FORMATS.join(', ')}`)
  }
  return format
}

export interface Rendered {
  format: Format
  value: string
  /** Env var (value, env-json) or template parameter (parameter-overrides). */
  name: string | undefined
  /** For env-json: the function's key; `Parameters` (all functions) without one. */
  logicalId: string | undefined
}

/** Checks the name a format needs; call before any KMS call. */
export const checkName = (format: Format, name: string | undefined): void => {
  if (format === 'value') return
  if (name === undefined) {
    throw new CliUsageError(
      `--format ${format} needs --name ${format === 'env-json' ? 'ENV_VAR' : 'ParameterName'}`,
    )
  }
  if (format === 'env-json' && !isEnvName(name)) {
    throw new CliUsageError(`--name ${name} is not an environment variable name`)
  }
  if (format === 'parameter-overrides' && !parameterName.test(name)) {
    throw new CliUsageError(`--name ${name} is not a template parameter name (letters and digits)`)
  }
}

/**
 * value: the bare value; env-json: `{"<LogicalId>": {"VAR": "…"}}` for
 * `sam local invoke --env-vars`; parameter-overrides: `Name=value` for
 * `sam deploy --parameter-overrides` (base64 and `kse1:` need no quoting).
 */
export const render = ({ format, value, name, logicalId }: Rendered): string => {
  if (format === 'env-json') return envJson({ format, value, name, logicalId })
  if (format === 'parameter-overrides') return `${name}=${value}\n`
  return `${value}\n`
}

/** env-json: the value in its function's entry ("Parameters": every function), merged into `into`. */
export const envJson = (
  { value, name, logicalId }: Rendered,
  into: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
): string => {
  const key = logicalId ?? 'Parameters'
  return `${JSON.stringify({ ...into, [key]: { ...into[key], [name as string]: value } }, null, 2)}\n`
}

/** The variables a 4 KB count leaves out, by name (names are never secret). */
export const notCounted = (names: readonly string[]): string =>
  `not counted: ${names.join(', ')}, ${names.length === 1 ? 'whose value is' : 'whose values are'} unknown here`

export interface BudgetInput extends Rendered {
  /** The function from --template, whose other variables count too. */
  fn: TemplateFunctionEnv | undefined
  /** Parameter limits from the template (MaxLength), for parameter-overrides. */
  maxLength: number | undefined
  /** Written to a secrets file: no env budget applies. */
  toFile: boolean
  /** Already a bundle: only a secrets file helps. */
  bundle: boolean
}

const suggestion = (bundle: boolean) =>
  bundle
    ? 'ship the bundle as a secrets file instead (--out FILE, read with file:FILE#FIELD)'
    : 'bundle the secrets into one variable (kms-secrets bundle), or ship them in a secrets file (--out FILE, read with file:FILE)'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** Warnings (stderr lines) about Lambda's 4 KB env budget and CloudFormation's parameter size. */
export const budgetWarnings = (input: BudgetInput): string[] => {
  const { format, value, name, fn, maxLength, toFile, bundle } = input
  const warnings: string[] = []
  const valueBytes = byteLength(value)
  if (format === 'parameter-overrides') {
    if (valueBytes > CFN_PARAMETER_BYTES) {
      warnings.push(
        `warning: the value is ${valueBytes} bytes, over CloudFormation's ${CFN_PARAMETER_BYTES}-byte parameter limit: ${suggestion(bundle)}`,
      )
    } else if (valueBytes > (maxLength ?? Number.POSITIVE_INFINITY)) {
      warnings.push(
        `warning: the value is ${valueBytes} bytes, over the template's MaxLength of ${maxLength} for ${name}`,
      )
    }
  }
  if (toFile && format === 'value') return warnings
  // The variable that receives the value: --name, or the one set to !Ref <parameter>.
  const receiving =
    format === 'parameter-overrides'
      ? fn?.variables.find((variable) => (variable.value as { Ref?: unknown })?.Ref === name)?.name
      : name
  // Stryker disable next-line ArrayDeclaration: without fn, only `own` counts (the others feed the fn-only detail)
  const others = (fn?.variables ?? []).filter((variable) => variable.name !== receiving)
  const known = others.filter((variable) => variable.bytes !== undefined)
  const unknown = others.filter((variable) => variable.bytes === undefined).map((v) => v.name)
  const own = byteLength(receiving ?? '') + valueBytes
  const total = known.reduce((sum, v) => sum + byteLength(v.name) + (v.bytes as number), own)
  if (total > LAMBDA_ENV_BYTES) {
    const label = receiving ?? 'the value'
    const detail = fn
      ? `${fn.logicalId}'s environment variables would take at least ${total} bytes (${label}: ${own}; ${plural(known.length, 'other')}: ${total - own}${unknown.length > 0 ? `; ${notCounted(unknown)}` : ''})`
      : `${label} alone takes ${own} bytes`
    warnings.push(
      `warning: ${detail}, over Lambda's ${LAMBDA_ENV_BYTES}-byte limit for all environment variables: ${suggestion(bundle)}`,
    )
  }
  return warnings
}
