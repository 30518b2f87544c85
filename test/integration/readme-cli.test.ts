// Issue 16 item 10: the README's CLI commands, run as written (bash, npx) against moto.
// The blocks come from test/support/readme.ts, the one extractor the README tests share.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CreateAliasCommand, CreateKeyCommand, ListAliasesCommand } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { awsEnv } from '../../scripts/local/aws-env.ts'
import { kmsClient } from '../support/aws.ts'
import { REPO_ROOT, TMP_DIR } from '../support/child.ts'
import { recordOutput, registerSecrets } from '../support/leak-log.ts'
import { readmeBlocks } from '../support/readme.ts'

const motoEndpoint = inject('motoEndpoint')
const blocks = readmeBlocks('sh', 'Encrypting values')
const TOKEN = `tok-${randomBytes(12).toString('hex')}`
const DB_PASSWORD = `db-${randomBytes(12).toString('hex')}`
let dir: string

/** Runs shell text in the user's folder, with npx finding the package's bin locally. */
const shell = (code: string) => {
  const run = spawnSync('/bin/bash', ['-e', '-o', 'pipefail', '-c', code], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: dir,
      TOKEN,
      // npx must use the local bin, never download anything.
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      ...awsEnv(motoEndpoint),
    },
  })
  recordOutput({ command: 'bash', args: ['-c', code], stdout: run.stdout, stderr: run.stderr })
  return run
}

beforeAll(async () => {
  // Prepare: the alias the README uses, and a folder like a user's project: the template,
  // samconfig.toml, the dotenv files the commands read, the package's bin for npx.
  const kms = kmsClient(motoEndpoint)
  const aliases = (await kms.send(new ListAliasesCommand({}))).Aliases ?? []
  if (!aliases.some((alias) => alias.AliasName === 'alias/app')) {
    const key = await kms.send(new CreateKeyCommand({ Description: 'README alias/app' }))
    await kms.send(
      new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: key.KeyMetadata?.KeyId }),
    )
  }
  mkdirSync(TMP_DIR, { recursive: true })
  dir = mkdtempSync(join(TMP_DIR, 'readme-cli-'))
  for (const file of ['template.yaml', 'samconfig.toml'])
    copyFileSync(join(REPO_ROOT, file), join(dir, file))
  writeFileSync(join(dir, 'secrets.env'), `DB_PASSWORD=${DB_PASSWORD}\nSMTP_PASSWORD=smtp-x\n`)
  writeFileSync(join(dir, 'tls.env'), "cert='-----BEGIN CERTIFICATE-----'\nkey='k'\n")
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true })
  const bin = join(dir, 'node_modules', '.bin', 'kms-secrets')
  writeFileSync(bin, `#!/bin/sh\nexec node "${join(REPO_ROOT, 'cli/dist/kms-secrets.js')}" "$@"\n`)
  chmodSync(bin, 0o755)
  registerSecrets([TOKEN, DB_PASSWORD])
  // The value the "check a value" commands read.
  const value = shell(
    'printf %s "$TOKEN" | npx kms-secrets encrypt --key-id alias/app --function-name my-fn --out value.txt',
  )
  expect(value.status, value.stderr).toBe(0)
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('README: the kms-secrets CLI section, as written', () => {
  it('has the commands this test runs', () => {
    // Assess
    expect(blocks).toHaveLength(1)
    expect(blocks[0]?.code).toContain('npx kms-secrets reencrypt')
  })

  it('every command of the block succeeds, in order, with bash -e -o pipefail', () => {
    // Prepare: one command per README line (continuations joined), to say which failed
    const commands = (blocks[0]?.code ?? '')
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    // Act
    const runs = commands.map((command) => ({ command, run: shell(command) }))
    // Assess
    expect(commands.length).toBeGreaterThanOrEqual(5)
    for (const { command, run } of runs) expect(run.status, `${command}\n${run.stderr}`).toBe(0)
    expect(runs[0]?.run.stdout).toMatch(/^ApiTokenCiphertext=[A-Za-z0-9+/=]+\n$/)
    expect(runs.find(({ command }) => command.includes(' decrypt '))?.run.stdout).toBe(
      `ok, ${TOKEN.length} bytes (raw KMS blob)\n`,
    )
    expect(runs.find(({ command }) => command.includes('--out secrets.enc'))?.run.stderr).toContain(
      'wrote secrets.enc',
    )
  })
})
