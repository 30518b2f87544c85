import { readFile } from 'node:fs/promises'
import { KMSClient } from '@aws-sdk/client-kms'
import { parseCommandArgs, TemplateScope, type Values } from './args.ts'
import { bundleOptions, runBundle } from './commands/bundle.ts'
import { checkOptions, runCheck } from './commands/check.ts'
import { decryptOptions, runDecrypt } from './commands/decrypt.ts'
import { encryptOptions, runEncrypt } from './commands/encrypt.ts'
import { reencryptOptions, runReencrypt } from './commands/reencrypt.ts'
import type { CommandRun } from './commands/shared.ts'
import { CliUsageError, describeError, EXIT_OK, EXIT_USAGE } from './errors.ts'
import { COMMAND_HELP, TOP_HELP } from './help.ts'
import type { CliIo } from './io.ts'
import { suggest } from './suggest.ts'

export { type CliIo, processIo } from './io.ts'

const COMMANDS: Record<
  string,
  { options: Parameters<typeof parseCommandArgs>[2]; run: (run: CommandRun) => Promise<number> }
> = {
  encrypt: { options: encryptOptions, run: runEncrypt },
  decrypt: { options: decryptOptions, run: runDecrypt },
  bundle: { options: bundleOptions, run: runBundle },
  reencrypt: { options: reencryptOptions, run: runReencrypt },
  check: { options: checkOptions, run: runCheck },
}
const COMMAND_NAMES = Object.keys(COMMANDS)

const version = async (): Promise<string> => {
  // src/ and dist/ are both one level below the CLI's package.json.
  const packageJson = new URL('../package.json', import.meta.url)
  // Stryker disable next-line StringLiteral: without an encoding readFile gives bytes, which JSON.parse reads as UTF-8 too
  const text = await readFile(packageJson, 'utf8')
  return (JSON.parse(text) as { version: string }).version
}

/** The region the scope settles on (the SDK's own chain applies otherwise). */
const clientFactory = (scope: TemplateScope) => {
  let client: KMSClient | undefined
  return () => {
    const region = scope.kmsRegion()
    client ??= new KMSClient(region ? { region } : {})
    return client
  }
}

/** The CLI, in process: returns the exit code (0 ok, 1 KMS failure, 2 usage). */
export const main = async (argv: readonly string[], io: CliIo): Promise<number> => {
  const [command, ...args] = argv
  let scope: TemplateScope | undefined
  try {
    if (command === undefined) {
      io.stderr.write(TOP_HELP)
      return EXIT_USAGE
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(TOP_HELP)
      return EXIT_OK
    }
    if (command === '--version') {
      io.stdout.write(`${await version()}\n`)
      return EXIT_OK
    }
    const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
    if (spec === undefined) {
      // Never the word itself: it may be a secret typed where the command goes.
      const near = suggest(command, COMMAND_NAMES)
      throw new CliUsageError(
        `argument 1 is not a command${near ? `; did you mean ${near}?` : ''} (commands: ${COMMAND_NAMES.join(', ')}; see kms-secrets --help)`,
      )
    }
    const values: Values = parseCommandArgs(command, args, spec.options)
    if (values.help === true) {
      io.stdout.write(COMMAND_HELP[command] as string)
      return EXIT_OK
    }
    scope = new TemplateScope(values, io)
    return await spec.run({ values, io, kms: clientFactory(scope), scope })
  } catch (error) {
    const { line, exitCode } = describeError(error, () => scope?.region())
    io.stderr.write(`kms-secrets: ${line}\n`)
    return exitCode
  }
}
