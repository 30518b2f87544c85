import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { KMSClient } from '@aws-sdk/client-kms'
import { isEnvName } from 'middy-kms-secrets/format'
import {
  NO_CONTEXT_HINT,
  resolveTarget,
  stringOf,
  type Target,
  type TemplateScope,
  type Values,
} from '../args.ts'
import { CliUsageError } from '../errors.ts'
import { type CliIo, readInput, writeOutput } from '../io.ts'
import { budgetWarnings, checkName, envJson, type Format, parseFormat, render } from '../output.ts'

export interface CommandRun {
  values: Values
  io: CliIo
  /** The KMS client, made on first use (none for --help and usage errors). */
  kms: () => KMSClient
  scope: TemplateScope
}

/** How errors name the value: the variable if it is one, else stdin, else (--in) VALUE. */
export const variableOf = (values: Values, ...candidates: Array<string | undefined>): string =>
  candidates.find((name) => name !== undefined && isEnvName(name)) ??
  (stringOf(values, 'in') === undefined ? 'stdin' : 'VALUE')

/** Where a value goes: its format, the name it has there, and the function it is for. */
interface Destination {
  format: Format
  name: string | undefined
  target: Target
}

/**
 * Checks made before any KMS call: the name the format needs, that the template knows
 * it, and that --out does not exist (unless --force); writing still refuses a file
 * created meanwhile.
 */
export const checkDestination = async (
  run: CommandRun,
  { format, name, target }: Destination,
): Promise<void> => {
  const { values, io, scope } = run
  if (format === 'parameter-overrides' && scope.path !== undefined) {
    const known = Object.keys(parametersOf(scope))
    if (!known.includes(name as string)) {
      throw new CliUsageError(
        `--name ${name} is not a parameter of ${scope.path} (parameters: ${known.join(', ') || 'none'})`,
      )
    }
  }
  if (format === 'env-json' && target.fn !== undefined) {
    const known = target.fn.variables.map((variable) => variable.name)
    if (!known.includes(name as string)) {
      throw new CliUsageError(
        `--name ${name} is not an environment variable of ${target.fn.logicalId} in the template, so sam local invoke would ignore it (variables: ${known.join(', ') || 'none'})`,
      )
    }
  }
  const out = stringOf(values, 'out')
  if (out !== undefined && values.force !== true && existsSync(resolve(io.cwd, out))) {
    throw new CliUsageError(
      `--out ${out} exists: pass --force to ${format === 'env-json' ? 'merge into' : 'replace'} it`,
    )
  }
  if (format === 'env-json') existingEnvJson(io, out)
}

/**
 * The env.json at --out, if there is one, to merge into: `{"LogicalId": {"VAR": "value"}}`
 * (sam local invoke --env-vars). Never echoes its content.
 */
const existingEnvJson = (io: CliIo, out: string | undefined) => {
  const path = out === undefined ? undefined : resolve(io.cwd, out)
  if (path === undefined || !existsSync(path)) return undefined
  let data: unknown
  try {
    data = JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    throw new CliUsageError(`--out ${out} is not JSON: cannot merge the value into it`)
  }
  if (!isEnvJson(data)) {
    throw new CliUsageError(
      `--out ${out} is not an env.json ({"LogicalId": {"VAR": "value"}}): cannot merge the value into it`,
    )
  }
  return data
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isEnvJson = (value: unknown): value is Record<string, Record<string, unknown>> =>
  isObject(value) && Object.values(value).every(isObject)

const parametersOf = (scope: TemplateScope) =>
  (scope.template().doc.Parameters ?? {}) as Record<string, { MaxLength?: unknown }>

// `Name=value`, as --format parameter-overrides writes it (base64 has no = before its end).
const parameterLine = /^[A-Za-z_][A-Za-z0-9_]*=([^=\s]\S*)$/

/** The encrypted value from stdin or --in: bare, or the `Name=value` line of a .param file. */
export const readEncryptedValue = async ({ io, values }: CommandRun): Promise<string> => {
  const text = (await readInput(io, stringOf(values, 'in'), 'the encrypted value'))
    .toString('utf8')
    .trim()
  if (text === '') throw new CliUsageError('the input is empty')
  return parameterLine.exec(text)?.[1] ?? text
}

/** What encrypt and bundle settle before reading any input: format, name, key, context, --out. */
export const prepareWrite = async (run: CommandRun, command: string) => {
  const { values, scope } = run
  const format = parseFormat(stringOf(values, 'format'))
  const bind = stringOf(values, 'bind-variable')
  const name = stringOf(values, 'name') ?? (format === 'env-json' ? bind : undefined)
  checkName(format, name)
  const keyId = requireKeyId(values, command)
  const target = await resolveTarget(values, scope, '', bind)
  if (target === undefined) throw new CliUsageError(NO_CONTEXT_HINT)
  await checkDestination(run, { format, name, target })
  return { format, name, keyId, target, variable: variableOf(values, name, bind) }
}

export const requireKeyId = (values: Values, command: string): string => {
  const keyId = stringOf(values, 'key-id')
  if (keyId === undefined) {
    throw new CliUsageError(`${command} needs --key-id (a key id, key ARN or alias/NAME)`)
  }
  return keyId
}

/** Says on stderr which context the value is bound to (never secret, easy to get wrong). */
export const describeTarget = (io: CliIo, verb: string, target: Target): void => {
  const from = target.fn ? ` (${target.fn.logicalId} ${target.fn.nameSource} in the template)` : ''
  io.stderr.write(`${verb} with encryption context ${JSON.stringify(target.context)}${from}\n`)
}

export interface Finish {
  format: Format
  value: string
  name: string | undefined
  target: Target
  /** The value is a bundle (changes the advice when it does not fit). */
  bundle?: boolean
}

/** Budget warnings on stderr, then the value in the chosen format to stdout or --out. */
export const finish = async (run: CommandRun, result: Finish): Promise<number> => {
  const { values, io, scope } = run
  const { format, value, name, target, bundle = false } = result
  const out = stringOf(values, 'out')
  let maxLength: number | undefined
  if (format === 'parameter-overrides' && scope.path !== undefined) {
    const limit = Number(parametersOf(scope)[name as string]?.MaxLength)
    maxLength = Number.isInteger(limit) ? limit : undefined
  }
  const rendered = { format, value, name, logicalId: target.fn?.logicalId }
  for (const warning of budgetWarnings({
    ...rendered,
    fn: target.fn,
    maxLength,
    toFile: out !== undefined,
    bundle,
  })) {
    io.stderr.write(`${warning}\n`)
  }
  // env.json: the value joins its function's entry; the file's other values stay.
  const text =
    format === 'env-json' ? envJson(rendered, existingEnvJson(io, out)) : render(rendered)
  await writeOutput(io, text, out, values.force === true)
  return 0
}
