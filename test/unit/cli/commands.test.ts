// What every value-producing command shares (checks before any KMS call, stdin prompts,
// output formats and their template lookups), and what each must wipe once done.
import { writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { argv, cliTestSetup, KEY_ID, run, runOk, TEMPLATE } from './harness.ts'

const { fake, tmp } = cliTestSetup()
afterEach(() => {
  vi.restoreAllMocks()
})

const encrypted = (stdin = 's3cr3t') =>
  runOk(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f' }), stdin)

/** Each command with what it reads from stdin. */
const COMMANDS = [
  ['encrypt', ['--key-id', KEY_ID], async () => 's3cr3t', 'the secret'],
  ['bundle', ['--key-id', KEY_ID], async () => 'A=1', 'KEY=value lines'],
  ['reencrypt', ['--key-id', KEY_ID], () => encrypted(), 'the encrypted value'],
] as const

describe('checks before any KMS call', () => {
  it.each(COMMANDS)(
    '%s --format parameter-overrides needs --name (--bind-variable does not name a parameter)',
    async (command, args, input) => {
      // Prepare
      const stdin = await input()
      fake.kms.resetHistory()
      // Act
      const result = await run(
        [
          command,
          ...args,
          '--function-name',
          'f',
          '--bind-variable',
          'SECRETS',
          '--format',
          'parameter-overrides',
        ],
        { stdin },
      )
      // Assess
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(
        'kms-secrets: --format parameter-overrides needs --name ParameterName\n',
      )
      expect(fake.kms.calls()).toHaveLength(0)
    },
  )

  it.each(COMMANDS)(
    '%s --format env-json refuses a --name that is no env var name',
    async (command, args, input) => {
      // Prepare
      const stdin = await input()
      fake.kms.resetHistory()
      // Act
      const result = await run(
        [command, ...args, '--function-name', 'f', '--format', 'env-json', '--name', 'bad-name'],
        { stdin },
      )
      // Assess
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(
        'kms-secrets: --name bad-name is not an environment variable name\n',
      )
      expect(fake.kms.calls()).toHaveLength(0)
    },
  )
})

describe('stdin on a terminal', () => {
  it.each([...COMMANDS, ['decrypt', [], () => encrypted(), 'the encrypted value'] as const])(
    '%s says what it reads',
    async (command, args, input, what) => {
      // Prepare
      const stdin = await input()
      // Act
      const result = await run([command, ...args, '--function-name', 'f'], {
        stdin,
        stdinIsTTY: true,
      })
      // Assess
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toMatch(
        new RegExp(`^reading ${what} from stdin \\(end with Ctrl-D\\)\\n`),
      )
    },
  )
})

describe('--format parameter-overrides and the template', () => {
  it('works without --template (no MaxLength to check)', async () => {
    // Act
    const result = await run(
      argv('encrypt', {
        'key-id': KEY_ID,
        'function-name': 'f',
        format: 'parameter-overrides',
        name: 'Token',
      }),
      { stdin: 'x' },
    )
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^Token=[A-Za-z0-9+/=]+\n$/)
  })

  it.each([
    [
      'a template without Parameters',
      'Resources:\n  T:\n    Type: AWS::SNS::Topic\n',
      '(parameters: none)',
    ],
    ['a parameter the template lacks', TEMPLATE, '(parameters: ApiTokenCiphertext, Suffix)'],
  ])(
    'refuses a --name that is not a parameter, with %s, before KMS (exit 2)',
    async (_, text, known) => {
      // Prepare
      writeFileSync(tmp.path('t.yaml'), text)
      // Act
      const result = await run(
        argv('encrypt', {
          'key-id': KEY_ID,
          'function-name': 'f',
          template: 't.yaml',
          format: 'parameter-overrides',
          name: 'NotAParameter',
        }),
        { stdin: 'x', cwd: tmp.dir },
      )
      // Assess
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(
        `kms-secrets: --name NotAParameter is not a parameter of ${tmp.path('t.yaml')} ${known}\n`,
      )
      expect(fake.kms.calls()).toHaveLength(0)
    },
  )

  it('other formats never read a --template they do not need', async () => {
    // Prepare: not even YAML
    writeFileSync(tmp.path('t.yaml'), 'a: [b')
    // Act
    const result = await run(
      argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f', template: 't.yaml' }),
      { stdin: 'x', cwd: tmp.dir },
    )
    // Assess
    expect(result.code, result.stderr).toBe(0)
  })
})

describe('bundle', () => {
  it.each([
    [10, 'A0, A1, A2, A3, A4, A5, A6, A7, A8, A9'],
    [11, 'A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, …'],
  ])('names its first ten fields on stderr (%i fields)', async (count, listed) => {
    // Prepare
    const dotenv = Array.from({ length: count }, (_, i) => `A${i}=${i}`).join('\n')
    // Act
    const result = await run(argv('bundle', { 'key-id': KEY_ID, 'function-name': 'f' }), {
      stdin: dotenv,
    })
    // Assess
    expect(result.stderr).toBe(
      `sealed a bundle of ${count} fields (${listed}) with encryption context {"LambdaFunctionName":"f"}\n`,
    )
  })
})

describe('decrypt', () => {
  it('checks a binary value (not UTF-8) as bytes', async () => {
    // Prepare
    const value = await encrypted(Buffer.from([0xff, 0xfe, 0x00, 0xc3]) as unknown as string)
    // Act
    const result = await run(['decrypt', '--function-name', 'f'], { stdin: value })
    // Assess
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe('ok, 4 bytes (raw KMS blob)\n')
  })
})

describe('reencrypt', () => {
  it('reads --in FILE', async () => {
    // Prepare
    writeFileSync(tmp.path('value.txt'), await encrypted())
    // Act
    const result = await run(
      argv('reencrypt', { 'key-id': KEY_ID, 'function-name': 'f', 'to-function-name': 'g' }),
      { cwd: tmp.dir, stdin: 'not this' },
    )
    const fromFile = await run(
      argv('reencrypt', {
        'key-id': KEY_ID,
        'function-name': 'f',
        'to-function-name': 'g',
        in: 'value.txt',
      }),
      { cwd: tmp.dir, stdin: 'not this' },
    )
    // Assess
    expect(result.code).toBe(2)
    expect(fromFile.code, fromFile.stderr).toBe(0)
    expect(fake.plaintextOf(fromFile.stdout.trim(), { LambdaFunctionName: 'g' }).toString()).toBe(
      's3cr3t',
    )
  })

  it('refuses blank input as empty (exit 2), like the other commands', async () => {
    // Act
    const result = await run(
      argv('reencrypt', { 'key-id': KEY_ID, 'function-name': 'f', 'to-function-name': 'g' }),
      { stdin: ' \n' },
    )
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('kms-secrets: the input is empty\n')
  })
})

describe('wiping', () => {
  /** The buffers Buffer.concat made from these chunks (how stdin is joined). */
  const joinedFrom = (
    spy: { mock: { calls: unknown[][]; results: { value: unknown }[] } },
    chunk: Buffer,
  ) =>
    spy.mock.calls.flatMap((args, i) =>
      Array.isArray(args[0]) && args[0].includes(chunk)
        ? [spy.mock.results[i]?.value as Buffer]
        : [],
    )

  it.each([
    ['encrypt', 'pässwörd€-123'],
    ['bundle', 'A=pässwörd€-123'],
  ])('%s wipes the input it read once the value is made', async (command, secret) => {
    // Prepare
    const concat = vi.spyOn(Buffer, 'concat')
    const chunk = Buffer.from(secret)
    // Act
    const result = await run([command, '--key-id', KEY_ID, '--function-name', 'f'], {
      stdin: chunk,
    })
    // Assess
    expect(result.code, result.stderr).toBe(0)
    const joined = joinedFrom(concat, chunk)
    expect(joined).toHaveLength(1)
    expect(joined[0]?.length).toBe(Buffer.byteLength(secret))
    expect(joined[0]?.every((byte) => byte === 0)).toBe(true)
  })

  it('decrypt (without --show) wipes the plaintext the library handed over', async () => {
    // Prepare
    const value = await encrypted('pässwörd€-123')
    const from = vi.spyOn(Uint8Array, 'from')
    // Act
    const result = await run(['decrypt', '--function-name', 'f'], { stdin: value })
    // Assess
    expect(result.code, result.stderr).toBe(0)
    const handed = from.mock.results
      .map((r) => r.value as Uint8Array)
      .filter((bytes) => bytes.length === Buffer.byteLength('pässwörd€-123'))
    expect(handed.length).toBeGreaterThan(0)
    for (const bytes of handed) expect(bytes.every((byte) => byte === 0)).toBe(true)
  })
})
