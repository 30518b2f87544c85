import { EnvelopeKind } from '../../core/envelope.ts'
import { encryptValue, sealWithKms } from '../../encrypt/values.ts'
import { NO_CONTEXT_HINT, outputOptions, resolveTarget, stringOf, targetOptions } from '../args.ts'
import { CliUsageError } from '../errors.ts'
import { readInput } from '../io.ts'
import { checkName, parseFormat } from '../output.ts'
import {
  type CommandRun,
  checkDestination,
  describeTarget,
  finish,
  requireKeyId,
  variableOf,
} from './shared.ts'

export const encryptOptions = {
  ...targetOptions,
  ...outputOptions,
  envelope: { type: 'boolean' },
  trim: { type: 'boolean' },
} as const

const newlineLength = (bytes: Uint8Array): number => {
  if (bytes.at(-1) !== 0x0a) return 0
  return bytes.at(-2) === 0x0d ? 2 : 1
}

export const runEncrypt = async (run: CommandRun): Promise<number> => {
  const { values, io, scope } = run
  const format = parseFormat(stringOf(values, 'format'))
  const bind = stringOf(values, 'bind-variable')
  const name = stringOf(values, 'name') ?? (format === 'env-json' ? bind : undefined)
  checkName(format, name)
  const keyId = requireKeyId(values, 'encrypt')
  const target = await resolveTarget(values, scope, '', bind)
  if (target === undefined) throw new CliUsageError(NO_CONTEXT_HINT)
  await checkDestination(run, format, name, target)
  const input = await readInput(io, stringOf(values, 'in'), 'the secret')
  const newline = newlineLength(input)
  if (newline > 0 && values.trim !== true) {
    io.stderr.write(
      "warning: the input ends with a newline, which is encrypted as part of the secret: for text, use printf '%s' or --trim; for binary input (a random key), ignore this\n",
    )
  }
  const plaintext = input.subarray(0, input.length - (values.trim === true ? newline : 0))
  let value: string
  try {
    if (plaintext.length === 0) throw new CliUsageError('the input is empty')
    const request = {
      client: run.kms(),
      keyId,
      context: target.context,
      plaintext,
      variable: variableOf(name, bind),
    }
    value =
      values.envelope === true
        ? await sealWithKms({ ...request, kind: EnvelopeKind.Value })
        : await encryptValue(request)
  } finally {
    input.fill(0)
  }
  describeTarget(io, values.envelope === true ? 'sealed (envelope)' : 'encrypted', target)
  return finish(run, { format, value, name, target })
}
