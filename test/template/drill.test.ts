// npm run drill (scripts/demo.ts --drill), run as a user runs it: a fresh process on the real
// template and functions under aws-lambda-ric, against moto behind the fault proxy, with a
// short SecretsCacheExpiry so the revocation happens within the test.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDemoArgs } from '../../scripts/demo/args.ts'
import { UNSHOWN } from '../../scripts/demo/drill.ts'
import { readSecretsForTest } from '../../scripts/demo/secrets.ts'
import { REPO_ROOT, type RunNodeResult, runNode } from '../support/child.ts'
import { expectNoSecrets, type Secret } from '../support/no-leak.ts'

const CACHE_EXPIRY_MS = 1500
const STEPS = [
  'cold start, then warm',
  'RotateKeyOnDemand',
  'kms-secrets reencrypt (same key)',
  'DisableKey',
  'EnableKey',
  'ScheduleKeyDeletion (7 days)',
  'CancelKeyDeletion + EnableKey',
]

/** The Markdown table's rows by step: [ok, failed, decrypts, notes]. */
const rowsOf = (stdout: string) =>
  new Map(
    STEPS.flatMap((step) => {
      const line = stdout.split('\n').find((l) => l.startsWith(`| ${step} `))
      const cells = line
        ?.split(' | ')
        .slice(1)
        .map((cell) => cell.replace(/ *\|$/, '').trim())
      return cells === undefined ? [] : [[step, cells] as const]
    }),
  )

let work = ''
let run: RunNodeResult
let secrets: Secret[] = []

beforeAll(async () => {
  // Prepare
  work = mkdtempSync(join(tmpdir(), 'kms-drill-test-'))
  const demoTmp = join(work, 'tmp')
  mkdirSync(demoTmp)
  const secretsFile = join(work, 'secrets.json')
  // Act
  run = await runNode(join(REPO_ROOT, 'scripts/demo.ts'), {
    args: ['--drill', '--cache-expiry', String(CACHE_EXPIRY_MS), '--verbose'],
    cwd: REPO_ROOT,
    env: { TMPDIR: demoTmp, DEMO_SECRETS_OUT: secretsFile },
    timeoutMs: 230_000,
  })
  secrets = readSecretsForTest(secretsFile)
}, 240_000)

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true })
})

describe('npm run drill', () => {
  it('goes through every step as KMS and the library promise, and exits 0', () => {
    // Assess
    expect(run.code, run.stderr.slice(-3000)).toBe(0)
    expect(run.stdout).toContain(`(SecretsCacheExpiry ${CACHE_EXPIRY_MS} ms)`)
    expect([...rowsOf(run.stdout).keys()]).toEqual(STEPS)
  })

  it('keeps both functions working through rotation and re-encryption, cold and warm', () => {
    // Assess
    const rows = rowsOf(run.stdout)
    for (const step of STEPS.slice(0, 3)) expect(rows.get(step)?.slice(0, 2)).toEqual(['4', '0'])
    expect(rows.get('RotateKeyOnDemand')?.[3]).toContain('kms-secrets check exit 0')
    expect(rows.get('kms-secrets reencrypt (same key)')?.[3]).toContain('3 values re-encrypted')
  })

  it('after DisableKey: warm instances answer until their cache expires, then fail closed; cold starts fail at once', () => {
    // Assess
    const [ok, failed, , notes = ''] = rowsOf(run.stdout).get('DisableKey') ?? []
    const times = [...notes.matchAll(/ok until (\d+) ms, refused from (\d+) ms/g)]
    expect(times).toHaveLength(2)
    for (const [, lastOk, refused] of times) expect(Number(refused)).toBeGreaterThan(Number(lastOk))
    expect(Number(ok)).toBeGreaterThan(0)
    // At least one refused warm call each (the drill stops once both refused), one cold start each.
    expect(Number(failed)).toBeGreaterThanOrEqual(4)
    expect(notes).toContain('cold starts refused at once')
    expect(notes).toContain('KEY_DISABLED logged')
  })

  it('recovers on EnableKey; check names PendingDeletion and its date; cancelled, it works again', () => {
    // Assess
    const rows = rowsOf(run.stdout)
    expect(rows.get('EnableKey')?.slice(0, 2)).toEqual(['4', '0'])
    expect(rows.get('ScheduleKeyDeletion (7 days)')?.slice(0, 2)).toEqual(['0', '2'])
    expect(rows.get('ScheduleKeyDeletion (7 days)')?.[3]).toMatch(
      /kms-secrets check exit 1: "PendingDeletion, deletion on \d{4}-\d\d-\d\dT[\d:.]+Z"/,
    )
    expect(rows.get('CancelKeyDeletion + EnableKey')?.slice(0, 2)).toEqual(['4', '0'])
  })

  it('names what moto cannot show, TestEventPattern included', () => {
    // Assess
    for (const line of UNSHOWN) expect(run.stdout).toContain(line)
    expect(run.stdout).toContain('TestEventPattern')
  })

  it('prints no secret value, in the table or the functions logs', () => {
    // Assess
    expect(secrets.length).toBeGreaterThanOrEqual(6)
    expect(run.stderr).toContain('"KEY_DISABLED"')
    expectNoSecrets(run.stdout + run.stderr, secrets)
  })

  it('is in the README as it prints it (the same steps)', () => {
    // Prepare
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
    // Act
    const documented = rowsOf(readme)
    // Assess
    expect([...documented.keys()]).toEqual(STEPS)
    expect(readme).toContain('npm run drill')
  })
})

describe('npm run drill: command line', () => {
  it('takes --cache-expiry with --drill only, on the local AWS only', () => {
    // Act
    const drill = parseDemoArgs(['--drill'])
    const short = parseDemoArgs(['--drill', '--cache-expiry', '800'])
    // Assess
    expect(drill.drill).toBe(5000)
    expect(short.drill).toBe(800)
    expect(parseDemoArgs([]).drill).toBeUndefined()
    expect(() => parseDemoArgs(['--cache-expiry', '800'])).toThrow('applies to --drill')
    expect(() => parseDemoArgs(['--drill', '--aws'])).toThrow('local AWS only')
    expect(() => parseDemoArgs(['--drill', '--cache-expiry', '5m'])).toThrow('500 to 60000')
    expect(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts.drill).toBe(
      'node scripts/need-node24.mjs && node scripts/demo.ts --drill',
    )
  })
})
