import { EnvelopeKind } from 'middy-kms-secrets/format'
import { outputOptions, stringOf, targetOptions } from '../args.ts'
import { encryptValue, sealWithKms } from '../encrypt/values.ts'
import { CliUsageError } from '../errors.ts'
import { readInput } from '../io.ts'
import { type CommandRun, describeTarget, finish, prepareWrite } from './shared.ts'

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
  const { values, io } = run
  const { format, name, keyId, target, variable } = await prepareWrite(run, 'encrypt')
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
      variable,
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
