// Fuzzing of the kms-secrets CLI in process (main(argv, io)) with the KMS double of the
// CLI unit tests: arbitrary argument arrays, stdin and --in contents, dotenv bundle
// files and templates. Every run ends with exit 0 and the right output, or a clean
// exit 1 or 2 whose error is one line `kms-secrets: ...` (never "unexpected failure",
// i.e. an error of another kind); the secret read from stdin or --in never shows up in
// stdout or stderr.
import { writeFileSync } from 'node:fs'
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleOptions } from '../../cli/src/commands/bundle.ts'
import { decryptOptions } from '../../cli/src/commands/decrypt.ts'
import { encryptOptions } from '../../cli/src/commands/encrypt.ts'
import { reencryptOptions } from '../../cli/src/commands/reencrypt.ts'
import { decryptSecrets, parseSource } from '../../src/core/decrypt.ts'
import {
  fakeKms,
  KEY_ID,
  type RunResult,
  run,
  SAMCONFIG,
  TEMPLATE,
  tempDir,
} from '../unit/cli/harness.ts'
import { params, TEST_TIMEOUT_MS, trickyString, trickyText } from './fuzz.ts'
import { CONTEXT, encryptSeed, isIntact, mutate, mutationArb, seedArb } from './values.ts'
import { samconfigText, templateText } from './yaml.ts'

let fake: ReturnType<typeof fakeKms>
let tmp: ReturnType<typeof tempDir>
beforeAll(() => {
  fake = fakeKms()
  tmp = tempDir()
  writeFileSync(tmp.path('template.yaml'), TEMPLATE)
})
afterAll(() => {
  fake.kms.restore()
  tmp.cleanup()
})

/** Every secret fed to the CLI holds this: an echo of it is easy to spot. */
const MARK = 'S3CR3T'

/** Exit 0, or 1/2 with exactly one `kms-secrets:` error line, last; no foreign error. */
const expectClean = (result: RunResult, argv: string[]) => {
  expect([0, 1, 2]).toContain(result.code)
  expect(result.stderr).not.toContain('unexpected failure')
  expect(result.stderr.includes(MARK)).toBe(false)
  if (!argv.includes('--show')) expect(result.stdout.includes(MARK)).toBe(false)
  if (result.code === 0 || argv.length === 0) return
  const lines = result.stderr.split('\n')
  expect(lines.at(-1)).toBe('')
  const errors = lines.filter((line) => line.startsWith('kms-secrets: '))
  expect(errors).toHaveLength(1)
  expect(lines.at(-2)).toBe(errors[0])
}

const COMMANDS = ['encrypt', 'decrypt', 'bundle', 'reencrypt']
const OPTION_NAMES = [
  ...new Set(
    [encryptOptions, decryptOptions, bundleOptions, reencryptOptions].flatMap((o) =>
      Object.keys(o),
    ),
  ),
]
/** Options naming files: only ever these (the fuzzer must not read /dev/stdin or write anywhere). */
const FILES: Record<string, string[]> = {
  in: ['input.txt', 'secrets.env', 'template.yaml', 'missing.txt', '.'],
  out: ['out.txt', 'missing-dir/out.txt', '.'],
  template: ['template.yaml', 'fuzzed.yaml', 'input.txt', 'missing.yaml', '.'],
  samconfig: ['samconfig.toml', 'fuzzed.toml', 'missing.toml'],
}
const optionValue = fc.oneof(
  fc.constantFrom(
    KEY_ID,
    'alias/x',
    `arn:aws:kms:us-east-1:123456789012:key/${KEY_ID}`,
    'fn',
    'fuzz-fn',
    'k=v',
    '=v',
    'k=',
    'a=b=c',
    'EnvironmentVariableName=x',
    'SecureFetchFunction',
    'SecureItemsFunction',
    'Table',
    'value',
    'env-json',
    'parameter-overrides',
    'API_TOKEN',
    'ApiTokenCiphertext',
    'default',
    'prod',
    'my-stack',
    'A',
  ),
  trickyText,
)
/** Mostly well-formed `--option value` pairs (so commands get far), some loose tokens. */
const tokens = fc
  .array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .tuple(fc.constantFrom(...OPTION_NAMES), optionValue)
          .map(([name, value]) => [`--${name}`, value]),
      },
      fc
        .tuple(fc.constantFrom(...OPTION_NAMES), optionValue)
        .map(([name, value]) => [`--${name}=${value}`]),
      fc.constantFrom(...OPTION_NAMES).map((name) => [`--${name}`]),
      optionValue.map((value) => [value]),
      fc.constantFrom(['-h'], ['--'], ['-'], ['--show'], ['--force'], ['--no-context']),
    ),
    { maxLength: 8 },
  )
  .map((groups) => groups.flat())
const argvArb = fc
  .tuple(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...COMMANDS) },
      fc.constantFrom('help', '--help', '-h', '--version', 'encypt', '--bogus'),
      trickyText,
    ),
    tokens,
    fc.nat(),
  )
  .map(([command, rest, pick]) => {
    const argv = [command, ...rest]
    // File options get a file of the pool, whatever the fuzzer put there.
    for (let i = 1; i < argv.length; i++) {
      const match = /^--(in|out|template|samconfig)(=|$)/.exec(argv[i] as string)
      if (!match) continue
      const pool = FILES[match[1] as string] as string[]
      const file = pool[(pick + i) % pool.length] as string
      if (match[2] === '=') argv[i] = `--${match[1]}=${file}`
      else if (i + 1 < argv.length) argv[i + 1] = file
    }
    return argv
  })
const stdinArb = fc.oneof(
  trickyString.map((text) => `${MARK}${text}`),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from(MARK), bytes])),
  fc.constantFrom(`A='${MARK}'\nB=${MARK}x`, `${MARK}\n`, `${MARK}\r\n`, MARK),
)

const client = new KMSClient({ region: 'us-east-1' })
/** Reads a value as the middleware would (fetchData VAR or VAR#field), as bytes. */
const libraryRead = async (value: string, context: Record<string, string>, field?: string) => {
  const values = await decryptSecrets({
    wanted: [
      {
        key: 'v',
        source: parseSource(field === undefined ? 'VAR' : `VAR#${field}`),
        transform: field === undefined ? 'binary' : undefined,
      },
    ],
    client,
    DecryptCommand,
    encryptionContext: context,
    bindVariableName: false,
    keyId: undefined,
    timeoutMs: 5000,
    env: { VAR: value },
  })
  const v = values.v as string | Uint8Array
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v)
}

describe('kms-secrets CLI', () => {
  it(
    'any arguments, stdin and files: exit 0, or exit 1/2 with one error line; secrets never echoed',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          argvArb,
          stdinArb,
          stdinArb,
          templateText({ refs: ['P', 'Suffix', 'AWS::StackName', 'AWS::Region', 'Fn'] }),
          samconfigText,
          async (argv, stdin, file, template, samconfig) => {
            // Prepare
            writeFileSync(tmp.path('template.yaml'), TEMPLATE)
            writeFileSync(tmp.path('samconfig.toml'), SAMCONFIG)
            writeFileSync(tmp.path('fuzzed.yaml'), template)
            writeFileSync(tmp.path('fuzzed.toml'), samconfig)
            writeFileSync(tmp.path('input.txt'), file)
            writeFileSync(tmp.path('secrets.env'), `A='${MARK}'\nB="${MARK}\\n"\n`)
            // Act
            const result = await run(argv, { stdin, cwd: tmp.dir })
            // Assess
            expectClean(result, argv)
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'any template and samconfig.toml behind --template: exit 0 with its function name, or exit 1/2 with one line',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          templateText({ refs: ['P', 'Suffix', 'AWS::StackName', 'AWS::Region', 'Fn'] }),
          samconfigText,
          fc.constantFrom('encrypt', 'bundle', 'decrypt', 'reencrypt'),
          fc.constantFrom('Fn', 'Other', 'SecureFetchFunction', '__proto__', 'Fn\nx'),
          fc.constantFrom(
            [],
            ['--stack-name', 'st'],
            ['--samconfig', 'fuzzed.toml', '--config-env', 'prod'],
          ),
          fc.constantFrom([], ['--format', 'parameter-overrides', '--name', 'P']),
          async (template, samconfig, command, id, stack, format) => {
            // Prepare
            writeFileSync(tmp.path('fuzzed.yaml'), template)
            writeFileSync(tmp.path('fuzzed.toml'), samconfig)
            const argv = [
              command,
              '--key-id',
              KEY_ID,
              '--template',
              'fuzzed.yaml',
              `--${command === 'reencrypt' ? 'to-' : ''}function`,
              id,
              ...(command === 'reencrypt' ? ['--no-context'] : []),
              ...stack,
              ...(command === 'decrypt' ? [] : format),
            ]
            const stdin =
              command === 'bundle' ? `A='${MARK}'` : command === 'encrypt' ? MARK : 'AAAA'
            // Act
            const result = await run(argv, { stdin, cwd: tmp.dir })
            // Assess
            expectClean(result, argv)
            if (result.code === 0 && command !== 'decrypt') {
              expect(result.stderr).toMatch(
                new RegExp(`\\(${id} (FunctionName|KMS_SECRETS_FUNCTION_NAME) in the template\\)`),
              )
            }
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )

  type Target = { args: readonly string[]; context: Record<string, string> }
  const targetArb: fc.Arbitrary<Target> = fc.oneof(
    trickyString
      .filter((name) => name !== '')
      .map((name) => ({
        args: [`--function-name=${name}`],
        context: { LambdaFunctionName: name },
      })),
    fc
      .dictionary(
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9:_-]{0,10}$/),
        trickyString.filter((v) => v !== ''),
        {
          minKeys: 1,
          maxKeys: 3,
        },
      )
      .map((context) => ({
        args: Object.entries(context).map(([key, value]) => `--context=${key}=${value}`),
        context,
      })),
    fc.constant({ args: ['--no-context'], context: {} }),
    fc.constant({
      args: [
        '--template',
        'template.yaml',
        '--function',
        'SecureFetchFunction',
        '--stack-name',
        'st',
      ],
      context: { LambdaFunctionName: 'st-secure-fetch' },
    }),
  )
  const formatArb = fc.constantFrom(
    { args: [], read: (out: string) => out.trim() },
    {
      args: ['--format', 'env-json', '--name', 'API_TOKEN'],
      read: (out: string) => {
        const json = JSON.parse(out) as Record<string, Record<string, string>>
        return Object.values(json)[0]?.API_TOKEN as string
      },
    },
    {
      args: ['--format', 'parameter-overrides', '--name', 'ApiTokenCiphertext'],
      read: (out: string) => out.trim().slice('ApiTokenCiphertext='.length),
    },
  )

  it(
    'encrypt: any secret (stdin or --in, raw or envelope) decrypts to the same bytes, in the library and with decrypt --show',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ minLength: 1, maxLength: 4096 }),
            trickyString.filter((text) => text !== '').map((text) => Buffer.from(text)),
          ),
          targetArb,
          formatArb,
          fc.boolean(),
          fc.boolean(),
          fc.boolean(),
          async (bytes, target, format, envelope, fromFile, trim) => {
            // Prepare
            const secret = Buffer.from(bytes)
            if (fromFile) writeFileSync(tmp.path('input.txt'), secret)
            const argv = [
              'encrypt',
              '--key-id',
              KEY_ID,
              ...target.args,
              ...format.args,
              ...(envelope ? ['--envelope'] : []),
              ...(trim ? ['--trim'] : []),
              ...(fromFile ? ['--in', 'input.txt'] : []),
            ]
            const newline = secret.at(-1) === 0x0a ? (secret.at(-2) === 0x0d ? 2 : 1) : 0
            const want = trim ? secret.subarray(0, secret.length - newline) : secret
            // Act
            // A copy: the CLI wipes the stdin chunks it read.
            const stdin = fromFile ? undefined : Buffer.from(secret)
            const result = await run(argv, { stdin, cwd: tmp.dir })
            // Assess
            if (want.length === 0) {
              expect(result.code).toBe(2)
              return expectClean(result, argv)
            }
            expect(result.code, result.stderr).toBe(0)
            const value = format.read(result.stdout)
            expect(value.startsWith('kse1:')).toBe(envelope)
            expect((await libraryRead(value, target.context)).equals(want)).toBe(true)
            const shown = await run(['decrypt', ...target.args, '--show'], {
              stdin: value,
              cwd: tmp.dir,
            })
            expect(shown.code, shown.stderr).toBe(0)
            expect(shown.stdoutBytes.equals(want)).toBe(true)
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'bundle: any dotenv of single-quoted values gives an envelope whose fields are those values',
    async () => {
      const fields = fc.dictionary(
        fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/),
        // A CR inside quotes is part of a line ending in dotenv files (read as LF).
        trickyString.map((value) => `${MARK}${value.replace(/['\r]/g, '')}`),
        { minKeys: 1, maxKeys: 8 },
      )
      await fc.assert(
        fc.asyncProperty(fields, targetArb, fc.boolean(), async (record, target, fromFile) => {
          // Prepare
          const dotenv = Object.entries(record)
            .map(([key, value]) => `${key}='${value}'`)
            .join('\n')
          if (fromFile) writeFileSync(tmp.path('secrets.env'), dotenv)
          const argv = [
            'bundle',
            '--key-id',
            KEY_ID,
            ...target.args,
            ...(fromFile ? ['--in', 'secrets.env'] : []),
          ]
          // Act
          const result = await run(argv, { stdin: fromFile ? undefined : dotenv, cwd: tmp.dir })
          // Assess
          expect(result.code, result.stderr).toBe(0)
          expectClean(result, argv)
          const value = result.stdout.trim()
          for (const [key, want] of Object.entries(record)) {
            expect((await libraryRead(value, target.context, key)).toString('utf8')).toBe(want)
          }
        }),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'decrypt and reencrypt of intact or damaged values: the right plaintext, or exit 1/2 with one line',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          seedArb,
          mutationArb,
          fc.constantFrom('decrypt', 'reencrypt'),
          async (raw, mutation, command) => {
            // Prepare
            const { seed, text: encrypted } = await encryptSeed({
              ...raw,
              plaintext: Buffer.concat([Buffer.from(MARK), raw.plaintext]),
            })
            const text = mutate(encrypted, mutation)
            const argv =
              command === 'decrypt'
                ? ['decrypt', '--function-name', CONTEXT.LambdaFunctionName, '--show']
                : [
                    'reencrypt',
                    '--function-name',
                    CONTEXT.LambdaFunctionName,
                    '--to-function-name',
                    'other-fn',
                    '--key-id',
                    KEY_ID,
                  ]
            // Act
            const result = await run(argv, { stdin: text, cwd: tmp.dir })
            // Assess
            expectClean(result, argv)
            if (isIntact(mutation) && text.trim() !== '') expect(result.code, result.stderr).toBe(0)
            if (result.code !== 0) return
            const plaintext =
              command === 'decrypt'
                ? result.stdoutBytes
                : await libraryRead(result.stdout.trim(), { LambdaFunctionName: 'other-fn' })
            expect(plaintext.equals(seed.plaintext)).toBe(true)
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )
})
