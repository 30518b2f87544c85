import { EnvelopeKind } from 'middy-kms-secrets/format'
import { outputOptions, stringOf, targetOptions } from '../args.ts'
import { bundlePlaintext, parseDotenv } from '../encrypt/dotenv.ts'
import { sealWithKms } from '../encrypt/values.ts'
import { CliUsageError } from '../errors.ts'
import { readInput } from '../io.ts'
import { type CommandRun, describeTarget, finish, prepareWrite } from './shared.ts'

export const bundleOptions = { ...targetOptions, ...outputOptions } as const

/** A malformed dotenv file is bad input (exit 2), not bad library options (the message names line and origin). */
const dotenv = (text: string, origin: string) => {
  try {
    return parseDotenv(text, origin)
  } catch (error) {
    throw new CliUsageError((error as Error).message)
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

export const runBundle = async (run: CommandRun): Promise<number> => {
  const { values, io } = run
  const { format, name, keyId, target, variable } = await prepareWrite(run, 'bundle')
  const inPath = stringOf(values, 'in')
  const input = await readInput(io, inPath, 'KEY=value lines')
  let plaintext: Buffer | undefined
  let fields: string[]
  let value: string
  try {
    let text: string
    try {
      text = utf8.decode(input)
    } catch {
      throw new CliUsageError('the input is not UTF-8 text')
    }
    const parsed = dotenv(text, inPath ?? 'stdin')
    fields = Object.keys(parsed)
    plaintext = bundlePlaintext(parsed)
    value = await sealWithKms({
      client: run.kms(),
      keyId,
      context: target.context,
      kind: EnvelopeKind.Bundle,
      plaintext,
      variable,
    })
  } finally {
    input.fill(0)
    plaintext?.fill(0)
  }
  const listed = fields.length > 10 ? [...fields.slice(0, 10), '…'] : fields
  describeTarget(
    io,
    `sealed a bundle of ${fields.length} ${fields.length === 1 ? 'field' : 'fields'} (${listed.join(', ')})`,
    target,
  )
  return finish(run, { format, value, name, target, bundle: true })
}
