import { DecryptCommand } from '@aws-sdk/client-kms'
import { decryptValue, EnvelopeKind, parseBundle, parseEncrypted } from 'middy-kms-secrets/format'
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
  const variable = variableOf(values, bind)
  const request = {
    text,
    variable,
    client: run.kms(),
    DecryptCommand,
    encryptionContext: target.context,
    keyId: stringOf(values, 'key-id'),
    timeoutMs: 30_000,
  }
  // The whole value's bytes (a view: wiping `bytes` wipes the library's copy), or a field's text.
  const bytes =
    field === undefined
      ? asBuffer(await decryptValue({ ...request, transform: 'binary' }))
      : // Stryker disable next-line StringLiteral: Buffer.from(text, '') reads UTF-8 too
        Buffer.from(await decryptValue({ ...request, field, transform: undefined }), 'utf8')
  if (values.show === true) {
    io.stdout.write(bytes)
    if (io.stdout.isTTY) io.stdout.write('\n')
    return 0
  }
  const { envelope } = parseEncrypted(text, variable)
  const kind = !envelope
    ? 'raw KMS blob'
    : envelope.kind === EnvelopeKind.Bundle
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

const asBuffer = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
