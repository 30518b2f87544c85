import { ErrorCode, KmsSecretsError } from 'middy-kms-secrets/format'

/** Bad command line or input: exit code 2, one line, with a pointer to --help. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError'
}

export const EXIT_OK = 0
/** KMS refused or failed, or the value does not decrypt. */
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** Bad options, or an input that is not a value at all (as --help says: exit 2). */
const USAGE_CODES: readonly string[] = [ErrorCode.InvalidOptions, ErrorCode.MalformedValue]

/** Messages may echo what was typed (a path, a logical id), newlines included. */
const oneLine = (text: string) => text.replace(/\s*[\r\n]\s*/g, ' ')

/**
 * The one line printed for an error, and the exit code. Only our own messages are
 * printed: KmsSecretsError and CliUsageError never hold a plaintext or ciphertext; for
 * anything else only the error's name (and code) is shown.
 */
export const describeError = (
  error: unknown,
  /** The region KMS was asked in (asked only when it matters). */
  region: () => string | undefined = () => undefined,
): { line: string; exitCode: number } => {
  if (error instanceof CliUsageError) return { line: oneLine(error.message), exitCode: EXIT_USAGE }
  if (error instanceof KmsSecretsError) {
    // KMS found no such key: exit 1 (KMS said so, not the command line), and where it looked.
    if (error.kmsError === 'NotFoundException') {
      const asked = region()
      const where = asked === undefined ? "the AWS profile's region" : `region ${asked}`
      return {
        line: `${oneLine(error.message)} (looked in ${where}; --region picks another) [NotFoundException]`,
        exitCode: EXIT_FAILURE,
      }
    }
    const usage = USAGE_CODES.includes(error.code)
    return {
      line: `${oneLine(error.message)} [${error.code}]`,
      exitCode: usage ? EXIT_USAGE : EXIT_FAILURE,
    }
  }
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown }
  const what = [name, code].filter((part) => typeof part === 'string').join(' ')
  return { line: `unexpected failure${what ? ` (${what})` : ''}`, exitCode: EXIT_FAILURE }
}
