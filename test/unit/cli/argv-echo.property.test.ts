// Issue 12 item 4: errors about argv name the position and the known choices, never the
// text typed (a secret pasted where a command or an option goes).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { COMMAND_HELP, TOP_HELP } from '../../../cli/src/help.ts'
import { cliTestSetup, run } from './harness.ts'

const { fake } = cliTestSetup()

const COMMANDS = ['encrypt', 'decrypt', 'bundle', 'reencrypt'] as const
// Every word the CLI may print on its own: a token inside one of them proves nothing.
const KNOWN_TEXT = [
  TOP_HELP,
  ...Object.values(COMMAND_HELP),
  'kms-secrets: argument is not a command; did you mean (commands: ) is not an option of (options: ',
  ': needs a value (one that starts with - is written =VALUE) takes no value',
  'is not an option: takes options only; secrets are read from stdin or --in FILE, never from the command line',
].join('\n')

// Secret-like text: at least 6 characters, never one of the CLI's own words.
const secret = fc
  .stringMatching(/^[A-Za-z0-9+/=_.!$%-]{6,40}$/)
  .filter((body) => !KNOWN_TEXT.includes(body) && !body.startsWith('-'))

// Where the token goes, given the command.
const placements = {
  command: (token: string) => [token],
  'long option': (token: string, command: string) => [command, `--${token}`],
  'long option with a value': (token: string, command: string) => [command, `--${token}=x`],
  'short option': (token: string, command: string) => [
    command,
    '--function-name',
    'f',
    `-${token}`,
  ],
  positional: (token: string, command: string) => [command, '--function-name', 'f', token],
  'after --': (token: string, command: string) => [command, '--', token],
  'value of a flag': (token: string, command: string) => [command, `--force=${token}`],
  'dash value of a string option': (token: string, command: string) => [
    command,
    '--key-id',
    `--${token}`,
  ],
} as const

describe('kms-secrets argv errors', () => {
  it.each(Object.entries(placements))(
    'never echo a token placed as %s, and exit 2 without calling KMS',
    async (_where, place) => {
      await fc.assert(
        fc.asyncProperty(secret, fc.constantFrom(...COMMANDS), async (token, command) => {
          // Prepare
          const argv = place(token, command)
          // Act
          const result = await run(argv)
          // Assess
          expect(result.code).toBe(2)
          expect(result.stderr).not.toContain(token)
          expect(result.stderr.split('\n')).toHaveLength(2)
          expect(fake.kms.calls()).toHaveLength(0)
        }),
        { numRuns: 60 },
      )
    },
  )
})
