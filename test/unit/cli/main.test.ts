import { readFileSync } from 'node:fs'
import { describe, expect, it, vi } from 'vitest'
import { CliUsageError, describeError } from '../../../cli/src/errors.ts'
import { COMMAND_HELP, TOP_HELP } from '../../../cli/src/help.ts'
import { KmsSecretsError } from '../../../src/core/errors.ts'
import { argv, cliTestSetup, KEY_ID, run } from './harness.ts'

const { fake } = cliTestSetup()

const pkg = JSON.parse(
  readFileSync(new URL('../../../cli/package.json', import.meta.url), 'utf8'),
) as {
  name: string
  version: string
  bin: Record<string, string>
}

describe('kms-secrets (top level)', () => {
  it.each([['--help'], ['-h'], ['help']])(
    '%s prints the overview to stdout, exit 0',
    async (flag) => {
      // Act
      const result = await run([flag])
      // Assess
      expect(result.code).toBe(0)
      expect(result.stdout).toBe(TOP_HELP)
      expect(result.stdout).toContain('encrypt')
      expect(result.stdout).toContain('reencrypt')
    },
  )

  it('without a command prints the overview to stderr, exit 2', async () => {
    // Act
    const result = await run([])
    // Assess
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(TOP_HELP)
  })

  it('--version prints the package version', async () => {
    // Act
    const result = await run(['--version'])
    // Assess
    expect(result.stdout).toBe(`${pkg.version}\n`)
  })

  it('is the package bin kms-secrets, built to cli/dist/kms-secrets.js', () => {
    // Assess
    expect(pkg.name).toBe('kms-secrets')
    expect(pkg.bin['kms-secrets']).toBe('dist/kms-secrets.js')
    expect(
      readFileSync(new URL('../../../cli/src/kms-secrets.ts', import.meta.url), 'utf8').startsWith(
        '#!/usr/bin/env node\n',
      ),
    ).toBe(true)
  })

  it('names the position and the commands, with a did-you-mean, never the word typed', async () => {
    // Act
    const typo = await run(['encrpyt'])
    const secretLike = await run(['Sup3r$ecret!'])
    // Assess
    expect(typo.code).toBe(2)
    expect(typo.stderr).toBe(
      'kms-secrets: argument 1 is not a command; did you mean encrypt? (commands: encrypt, decrypt, bundle, reencrypt, check; see kms-secrets --help)\n',
    )
    expect(secretLike.code).toBe(2)
    expect(secretLike.stderr).toBe(
      'kms-secrets: argument 1 is not a command (commands: encrypt, decrypt, bundle, reencrypt, check; see kms-secrets --help)\n',
    )
  })

  it.each([['constructor'], ['__proto__'], ['toString']])(
    'does not take the Object.prototype name %s as a command',
    async (command) => {
      // Act
      const result = await run([command])
      // Assess
      expect(result.code).toBe(2)
      expect(result.stderr).toContain('argument 1 is not a command')
    },
  )
})

describe.each(['encrypt', 'decrypt', 'bundle', 'reencrypt', 'check'])(
  'kms-secrets %s --help',
  (command) => {
    it('names each option once and gives one line of exit codes', async () => {
      // Act
      const { stdout } = await run([command, '--help'])
      // Assess
      const options = [...stdout.matchAll(/^ {2}(--[a-z-]+(?: [a-z][a-z-]*)?)/gm)].map(
        (match) => match[1],
      )
      expect(options.length).toBeGreaterThan(3)
      expect(options.filter((option, index) => options.indexOf(option) !== index)).toEqual([])
      expect(stdout.match(/Exit codes/g)).toHaveLength(1)
    })
  },
)

describe.each(['encrypt', 'decrypt', 'bundle', 'reencrypt'])('kms-secrets %s', (command) => {
  it('--help prints its own help, exit 0, without calling KMS', async () => {
    // Act
    const long = await run([command, '--help'])
    const short = await run([command, '-h'])
    // Assess
    expect(long.code).toBe(0)
    expect(long.stdout).toBe(COMMAND_HELP[command])
    expect(long.stdout).toContain(`Usage: kms-secrets ${command}`)
    expect(long.stdout).toContain(
      'Exit codes: 0 ok, 1 KMS refused or failed, 2 bad command line or input (found before\nany KMS call).',
    )
    expect(long.stdout).toContain(
      command === 'decrypt'
        ? '--key-id ID                 optional pin: refuse values under any other key'
        : '--key-id ID                 KMS key id, key ARN, alias/NAME',
    )
    if (command !== 'decrypt') {
      expect(long.stdout).toContain('--format value              the bare value (default)')
    }
    expect(short.stdout).toBe(long.stdout)
    expect(fake.kms.calls()).toHaveLength(0)
  })

  it('an unknown option is a one-line usage error, exit 2', async () => {
    // Act
    const result = await run([command, '--key-id', KEY_ID, '--bogus'])
    const near = await run([command, '--key', KEY_ID])
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      new RegExp(
        `^kms-secrets: argument 4 is not an option of ${command} \\(options: --key-id, --function-name, .*, --help, .*\\)\n$`,
      ),
    )
    expect(near.stderr).toContain(
      `argument 2 is not an option of ${command}; did you mean --key-id?`,
    )
  })

  it('a positional argument is refused without being echoed', async () => {
    // Act
    const result = await run([command, '--function-name', 'f', 'hunter2'])
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).not.toContain('hunter2')
    expect(result.stderr).toContain(
      'secrets are read from stdin or --in FILE, never from the command line',
    )
  })

  it('an option missing its value, or a flag given one, is a usage error', async () => {
    // Act
    const missing = await run([command, '--function-name'])
    const extra = await run([command, '--no-context=yes'])
    const empty = await run([command, '--key-id', KEY_ID, '--function-name='])
    const emptyItem = await run([command, '--context', 'a=b', '--context='])
    // Assess
    expect(missing.stderr).toBe(
      `kms-secrets: argument 2: --function-name needs a value (one that starts with - is written --function-name=VALUE) (see kms-secrets ${command} --help)\n`,
    )
    expect(extra.stderr).toBe(
      `kms-secrets: argument 2: --no-context takes no value (see kms-secrets ${command} --help)\n`,
    )
    expect(empty.stderr).toBe('kms-secrets: --function-name needs a non-empty value\n')
    expect(emptyItem.stderr).toBe('kms-secrets: --context needs a non-empty value\n')
    expect([missing.code, extra.code, empty.code, emptyItem.code]).toEqual([2, 2, 2, 2])
  })
})

describe('describeError', () => {
  it('prints only the name and code of an unexpected error, never its message', () => {
    // Act
    const withCode = describeError(
      Object.assign(new TypeError('secret in here'), { code: 'ERR_X' }),
    )
    const bare = describeError(undefined)
    // Assess
    expect(withCode).toEqual({ line: 'unexpected failure (TypeError ERR_X)', exitCode: 1 })
    expect(bare).toEqual({ line: 'unexpected failure', exitCode: 1 })
  })

  // Found by test/fuzz: messages echo what was typed, newlines included.
  it('always one line: newlines in a message become spaces', () => {
    // Act
    const usage = describeError(new CliUsageError('has no function a\nb \r\n c'))
    const library = describeError(new KmsSecretsError('THROTTLED', 'x\n\ny'))
    // Assess
    expect(usage).toEqual({ line: 'has no function a b c', exitCode: 2 })
    expect(library.line).toBe('x y [THROTTLED]')
  })

  it('KmsSecretsError: exit 2 for INVALID_OPTIONS, 1 otherwise', () => {
    // Act / Assess
    expect(describeError(new KmsSecretsError('INVALID_OPTIONS', 'bad')).exitCode).toBe(2)
    expect(describeError(new KmsSecretsError('THROTTLED', 'slow')).exitCode).toBe(1)
    expect(describeError(new KmsSecretsError('THROTTLED', 'slow')).line).toBe('slow [THROTTLED]')
  })
})

describe('the region', () => {
  it.each([
    [{ AWS_REGION: 'eu-west-1' }, 'eu-west-1'],
    [{ AWS_DEFAULT_REGION: 'eu-central-1' }, 'eu-central-1'],
  ])('comes from the environment given (%j)', async (env, region) => {
    // Act
    await run(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f' }), { stdin: 's', env })
    // Assess
    const client = fake.kms.calls()[0]?.thisValue as { config: { region: () => Promise<string> } }
    expect(await client.config.region()).toBe(region)
  })

  it('is left to the SDK otherwise: a missing region is a usage error', async () => {
    // Prepare
    fake.kms.restore()
    // Act
    const result = await run(argv('encrypt', { 'key-id': KEY_ID, 'function-name': 'f' }), {
      stdin: 's',
      env: {},
    })
    // Assess
    if (process.env.AWS_REGION === undefined && process.env.AWS_DEFAULT_REGION === undefined) {
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(
        'kms-secrets: stdin: no AWS region: set AWS_REGION (or a region in your AWS profile) [INVALID_OPTIONS]\n',
      )
    } else {
      expect(result.code).toBe(1)
    }
  })
})

describe('the entry point', () => {
  it('runs main with the process arguments and sets the exit code', async () => {
    // Prepare
    const argv = process.argv
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    process.argv = [argv[0] as string, 'kms-secrets', '--version']
    let written: unknown[][]
    // Act
    try {
      await import('../../../cli/src/kms-secrets.ts')
    } finally {
      process.argv = argv
      written = write.mock.calls.map((call) => [...call])
      write.mockRestore()
    }
    const exitCode = process.exitCode
    process.exitCode = undefined
    // Assess
    expect(exitCode).toBe(0)
    expect(written).toContainEqual([`${pkg.version}\n`])
  })
})
