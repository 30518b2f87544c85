// Fuzzing of the dotenv reader behind `kms-secrets bundle` (parseDotenv): every value
// written in one of the documented quotings comes back exactly; any text at all gives
// the fields Node's own dotenv parser reads, or INVALID_OPTIONS naming a line and
// never a value.
import { parseEnv } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDotenv } from '../../cli/src/encrypt.ts'
import {
  bounded,
  expectLibraryError,
  outcomeOf,
  params,
  TEST_TIMEOUT_MS,
  trickyText,
} from './fuzz.ts'

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,10}$/)
/** Every value holds this, so a value echoed in an error is easy to spot. */
const MARK = 'V4LU3'
const valueText = fc
  .array(trickyText, { maxLength: 4 })
  .map((parts) => `${MARK}${parts.join('')}${MARK}`)

type Quoting = 'bare' | 'single' | 'double' | 'backtick'

/** The documented ways to write a value, when they can hold it. */
const write = (value: string, quoting: Quoting): string | undefined => {
  switch (quoting) {
    case 'bare':
      // The rest of the line, trimmed; "#" would start a comment; no quote first.
      return /[#\n\r]/.test(value) || value.trim() !== value ? undefined : value
    case 'single':
      return value.includes("'") || value.includes('\r') ? undefined : `'${value}'`
    case 'double':
      // "\n" stands for a newline; no other escape, no backslash of its own.
      return /["\\\r]/.test(value) ? undefined : `"${value.replace(/\n/g, '\\n')}"`
    case 'backtick':
      return value.includes('`') || value.includes('\r') ? undefined : `\`${value}\``
  }
}

const entries = fc.uniqueArray(
  fc.tuple(
    key,
    valueText,
    fc.constantFrom<Quoting>('bare', 'single', 'double', 'backtick'),
    fc.constantFrom('', 'export '),
    fc.constantFrom('=', ' = ', '\t=\t'),
  ),
  { selector: ([name]) => name, minLength: 1, maxLength: 8 },
)
const noise = fc.constantFrom('', '# a comment', '   ', '\t# indented comment')

describe('parseDotenv', () => {
  it(
    'documented quotings round-trip exactly, with comments and blank lines around',
    async () => {
      await fc.assert(
        fc.asyncProperty(entries, fc.array(noise, { maxLength: 8 }), async (list, extra) => {
          // Prepare
          const want: Record<string, string> = {}
          const lines: string[] = []
          for (const [index, [name, value, quoting, exported, equals]] of list.entries()) {
            const written = write(value, quoting)
            if (written === undefined) continue
            want[name] = value
            lines.push(extra[index] ?? '', `${exported}${name}${equals}${written}`)
          }
          fc.pre(Object.keys(want).length > 0)
          // Act
          const outcome = await outcomeOf(() => bounded(() => parseDotenv(lines.join('\n'))))
          // Assess
          expect(outcome).toEqual({ ok: true, value: want })
        }),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )

  it(
    "any text: Node's own dotenv reading of it, or INVALID_OPTIONS naming a line, never a value",
    async () => {
      const line = fc.oneof(
        noise,
        fc
          .tuple(
            key,
            fc.constantFrom('=', ' = ', '=\t'),
            fc.constantFrom('', "'", '"', '`'),
            valueText,
          )
          .map(([name, equals, quote, value]) => `${name}${equals}${quote}${value}`),
        fc
          .tuple(
            key,
            valueText,
            fc.constantFrom("'", '"', '`'),
            fc.constantFrom('', ' # c', ' x', '\\'),
          )
          .map(([name, value, quote, after]) => `${name}=${quote}${value}${quote}${after}`),
        fc.tuple(trickyText, valueText).map(([name, value]) => `${name}=${value}`),
        // A value on a line of its own; "!" first, so that no part of it reads as a name
        // (names are echoed in errors, values never are).
        valueText.map((value) => `!${value}`),
      )
      await fc.assert(
        fc.asyncProperty(
          fc.array(line, { maxLength: 10 }),
          fc.constantFrom('\n', '\r\n'),
          async (lines, eol) => {
            // Prepare
            const text = lines.join(eol)
            // Act
            const outcome = await outcomeOf(() => bounded(() => parseDotenv(text, 'in.env')))
            // Assess
            if (outcome.ok) {
              expect(outcome.value).toEqual({ ...parseEnv(text) })
              return
            }
            const error = expectLibraryError(outcome.error, ['INVALID_OPTIONS'], 'in.env')
            expect(error.message).toMatch(/^in\.env: (line \d+: |no KEY=value line found$)/)
            const lineNumber = Number(/line (\d+):/.exec(error.message)?.[1] ?? 1)
            expect(lineNumber).toBeLessThanOrEqual(Math.max(1, text.split('\n').length))
            expect(error.message).not.toContain(MARK)
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )
})
