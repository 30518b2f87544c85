import {
  destinationOptions,
  NO_CONTEXT_HINT,
  outputOptions,
  resolveTarget,
  stringOf,
  type Target,
  targetOptions,
} from '../args.ts'
import { reencryptValue } from '../encrypt/values.ts'
import { CliUsageError } from '../errors.ts'
import { checkName, parseFormat } from '../output.ts'
import {
  type CommandRun,
  checkDestination,
  describeTarget,
  finish,
  readEncryptedValue,
  variableOf,
} from './shared.ts'

export const reencryptOptions = {
  ...targetOptions,
  ...outputOptions,
  ...destinationOptions,
} as const

export const runReencrypt = async (run: CommandRun): Promise<number> => {
  const { values, io, scope } = run
  const format = parseFormat(stringOf(values, 'format'))
  const bind = stringOf(values, 'bind-variable')
  const toBind = stringOf(values, 'to-bind-variable') ?? bind
  const name = stringOf(values, 'name') ?? (format === 'env-json' ? toBind : undefined)
  checkName(format, name)
  const sourceKeyId = stringOf(values, 'key-id')
  const destinationKeyId = stringOf(values, 'to-key-id') ?? sourceKeyId
  if (destinationKeyId === undefined) {
    throw new CliUsageError('reencrypt needs --to-key-id (or --key-id to stay under the same key)')
  }
  const source = await resolveTarget(values, scope, '', bind)
  if (source === undefined) throw new CliUsageError(NO_CONTEXT_HINT)
  const given = await resolveTarget(values, scope, 'to-', toBind)
  const destination: Target = given ?? {
    context: withVariable(source.context, toBind),
    fn: source.fn,
  }
  await checkDestination(run, { format, name, target: destination })
  const text = await readEncryptedValue(run)
  const result = await reencryptValue({
    client: run.kms(),
    value: text,
    fromContext: source.context,
    toContext: destination.context,
    destinationKeyId,
    sourceKeyId,
    variable: variableOf(values, bind, name),
  })
  if (result.resealedLocally) {
    io.stderr.write(
      "note: an envelope binds its context and data key into the AES-GCM tag, so it was opened and sealed again under a fresh data key here; the plaintext was in this process's memory (wiped after)\n",
    )
  }
  describeTarget(io, `re-encrypted under ${destinationKeyId}`, destination)
  return finish(run, { format, value: result.value, name, target: destination })
}

const withVariable = (context: Record<string, string>, variable: string | undefined) => {
  const { EnvironmentVariableName: _, ...rest } = context
  return variable === undefined ? rest : { ...rest, EnvironmentVariableName: variable }
}
