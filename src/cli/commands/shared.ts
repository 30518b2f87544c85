import type { KMSClient } from '@aws-sdk/client-kms'
import { stringOf, type Target, type TemplateScope, type Values } from '../args.ts'
import { CliUsageError } from '../errors.ts'
import { type CliIo, writeOutput } from '../io.ts'
import { budgetWarnings, type Format, render } from '../output.ts'

export interface CommandRun {
  values: Values
  io: CliIo
  /** The KMS client, made on first use (none for --help and usage errors). */
  kms: () => KMSClient
  scope: TemplateScope
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/

/** How errors name the value: the variable if it is one, else VALUE. */
export const variableOf = (...candidates: Array<string | undefined>): string =>
  candidates.find((name) => name !== undefined && envName.test(name)) ?? 'VALUE'

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
    const parameters = (await scope.template()).doc.Parameters as
      | Record<string, { MaxLength?: unknown }>
      | undefined
    const limit = Number(parameters?.[name as string]?.MaxLength)
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
  await writeOutput(io, render(rendered), out, values.force === true)
  return 0
}
