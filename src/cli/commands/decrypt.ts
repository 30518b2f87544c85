import { DecryptCommand } from '@aws-sdk/client-kms'
import { decryptSecrets, parseBundle } from '../../core/decrypt.ts'
import { ENVELOPE_PREFIX, EnvelopeKind, parseEnvelope } from '../../core/envelope.ts'
import { parseSource } from '../../core/sources.ts'
import { NO_CONTEXT_HINT, resolveTarget, stringOf, targetOptions } from '../args.ts'
import { CliUsageError } from '../errors.ts'
import { type CommandRun, readEncryptedValue, variableOf } from './shared.ts'

export const decryptOptions = {
  ...targetOptions,
  in: { type: 'string' },
  field: { type: 'string' },
  show: { type: 'boolean' },
} as const

/** Decrypts like the middleware does (same code path), and prints the plaintext only with --show. */
export const runDecrypt = async (run: CommandRun): Promise<number> => {
  const { values, io, scope } = run
  const bind = stringOf(values, 'bind-variable')
  const target = await resolveTarget(values, scope, '', bind)
  if (target === undefined) throw new CliUsageError(NO_CONTEXT_HINT)
  const field = stringOf(values, 'field')
  const text = await readEncryptedValue(run)
  const variable = variableOf(bind)
  const opened = await decryptSecrets({
    wanted: [
      {
        key: 'value',
        source: parseSource(field === undefined ? variable : `${variable}#${field}`),
        transform: field === undefined ? 'binary' : undefined,
      },
    ],
    client: run.kms(),
    DecryptCommand,
    encryptionContext: target.context,
    bindVariableName: false,
    keyId: stringOf(values, 'key-id'),
    timeoutMs: 30_000,
    env: { [variable]: text },
  })
  // A view of the library's copy: wiping `bytes` wipes it.
  const raw = opened.value as Uint8Array | string
  const bytes =
    typeof raw === 'string'
      ? // Stryker disable next-line StringLiteral: Buffer.from(text, '') reads UTF-8 too
        Buffer.from(raw, 'utf8')
      : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  if (values.show === true) {
    io.stdout.write(bytes)
    if (io.stdout.isTTY) io.stdout.write('\n')
    return 0
  }
  const kind = !text.startsWith(ENVELOPE_PREFIX)
    ? 'raw KMS blob'
    : parseEnvelope(text, variable).kind === EnvelopeKind.Bundle
      ? 'bundle'
      : 'envelope'
  const what =
    field !== undefined
      ? `field ${field} of a bundle`
      : kind === 'bundle'
        ? `bundle: ${Object.keys(parseBundle(bytes.toString('utf8'), variable)).join(', ')}`
        : kind
  io.stdout.write(`ok, ${bytes.length} bytes (${what})\n`)
  bytes.fill(0)
  return 0
}
