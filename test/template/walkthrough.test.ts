// The first hour, as written (issue 22): every shell block of the README, then of
// docs/DEPLOY.md, in order, on a fresh HOME, against the local stack that the README's
// "shell 1" starts (`npm run local-stack`). Shell 1's lines run in a process of their own;
// every other line runs in one bash session ("shell 2", so `. .local/aws.env` holds for what
// follows), with -e -o pipefail. What needs Docker, real AWS or the CI's fresh clone is not
// run: SKIPPED names each with its reason, and a line that matches nothing here runs.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findTool } from '../../scripts/local/tools.ts'
import { REPO_ROOT } from '../support/child.ts'
import { codeBlocks } from '../support/readme.ts'

/** Commands not run here (a line's `a && b` are two), each with the reason. */
const SKIPPED: ReadonlyArray<readonly [RegExp, string]> = [
  [/^npm (start|test)$/, 'CI runs both on a fresh clone (.ci/run); npm test would run this test'],
  [/^npm (install|i) /, "a stranger's project: the packed package's install has its own test"],
  [/^npm ci$/, 'would reinstall the node_modules the tests run from; CI runs npm ci'],
  [/^sam build$/, 'the real SAM CLI builds in CI (.ci/run), not in the tests'],
  [/^sam local /, 'needs Docker, which these machines do not have'],
  [/^sam deploy\b/, 'deploys to real AWS'],
  [/^aws cloudformation deploy\b/, 'deploys to real AWS'],
  [/^kms-secrets check .*APP_STACK_NAME/, "the pipeline's build step, in its own environment"],
]
/** Whole sections not run here, and why. */
const SKIPPED_SECTIONS: ReadonlyArray<readonly [string, string]> = [
  ['Encrypting values', 'run as written against moto by test/integration/readme-cli.test.ts'],
  [
    'Bundling for Lambda',
    "a stranger's project: test/integration/stranger.test.ts bundles with these flags",
  ],
]

const TOKEN = `walk-${randomBytes(12).toString('hex')}`
const SHELL_1 = 'npm run local-stack'

interface Line {
  file: string
  section: string
  command: string
}

/**
 * The shell commands of a markdown file, in order: continuations joined, comments left out,
 * `a && b` split in two (the same under bash -e).
 */
const linesOf = (file: string): Line[] =>
  codeBlocks(readFileSync(join(REPO_ROOT, file), 'utf8'))
    .filter((block) => block.lang === 'sh')
    .flatMap((block) =>
      block.code
        .replace(/\\\n\s*/g, '')
        .split('\n')
        .map((line) => line.replace(/\s+#.*$/, '').trim())
        .filter((line) => line !== '' && !line.startsWith('#'))
        .flatMap((line) => line.split(' && '))
        .map((command) => ({ file, section: block.section, command })),
    )

const all = [...linesOf('README.md'), ...linesOf('docs/DEPLOY.md')]
const skipReason = ({ section, command }: Line) =>
  SKIPPED_SECTIONS.find(([name]) => section.startsWith(name))?.[1] ??
  SKIPPED.find(([pattern]) => pattern.test(command))?.[1]
const shell1End = all.findIndex((line) => line.command === SHELL_1)
const shell1 = all.slice(0, shell1End + 1).filter((line) => skipReason(line) === undefined)
const shell2 = all.slice(shell1End + 1).filter((line) => skipReason(line) === undefined)

let home: string | undefined
let stack: ChildProcess | undefined
let stackLog = ''
let stackExited: Promise<unknown>

/**
 * The environment of a new shell on a fresh HOME: the machine's node (older than 24 here:
 * each shell must source node24.sh, as the README says), the Python tools, nothing else.
 */
const freshEnv = (): NodeJS.ProcessEnv => {
  const tools = (['moto_server', 'aws'] as const).map((tool) => dirname(findTool(tool) ?? '/'))
  return {
    HOME: home,
    PATH: [...tools, '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter),
    // Node 24 and aws-lambda-ric, built once per machine, stay where node24.sh and ric.ts keep them.
    XDG_CACHE_HOME: process.env.XDG_CACHE_HOME || join(process.env.HOME ?? '', '.cache'),
    LANG: 'C.UTF-8',
    npm_config_update_notifier: 'false',
    UPSTREAM_API_TOKEN: TOKEN,
  }
}

const PARAM_FILES = ['data-key.param', 'api-token.param'].map((name) => join(REPO_ROOT, name))

/** Whether DEPLOY.md's .param files are this test's to remove (never a developer's own). */
let ownParams = false

beforeAll(async () => {
  for (const file of PARAM_FILES) expect(existsSync(file), `${file} is in the way`).toBe(false)
  ownParams = true
  home = mkdtempSync(join(tmpdir(), 'walkthrough-home-'))
  // Shell 1, as written; its own process group, so that Ctrl-C reaches npm and the stack.
  const script = shell1.map((line) => line.command).join(' && ')
  const child = spawn('bash', ['-c', script], {
    cwd: REPO_ROOT,
    env: freshEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  })
  stack = child
  stackExited = new Promise((resolve) => child.once('close', resolve))
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stackLog += chunk.toString('utf8')
      if (stackLog.includes('local-stack: ready:')) resolve()
    })
    child.once('close', () => reject(new Error(`shell 1 ended:\n${stackLog}`)))
  })
}, 180_000)

/** Ctrl-C in shell 1: SIGINT to its process group (bash, npm, the stack), once. */
const stopShell1 = async () => {
  if (stack !== undefined && stack.exitCode === null && stack.signalCode === null)
    process.kill(-(stack.pid as number), 'SIGINT')
  await stackExited
}

afterAll(async () => {
  try {
    await stopShell1()
  } finally {
    if (ownParams) for (const file of PARAM_FILES) rmSync(file, { force: true })
    if (home !== undefined) rmSync(home, { recursive: true, force: true })
  }
})

describe('the README and docs/DEPLOY.md, block by block, as written', () => {
  it('skips only what needs Docker, real AWS or CI, each for a reason', () => {
    // Act
    const skipped = all.filter((line) => skipReason(line) !== undefined)
    // Assess
    // Before shell 1's npm run local-stack: the two commands' and its own node24.sh.
    expect(shell1.map((line) => line.command)).toEqual([
      ...Array(3).fill('. scripts/node24.sh'),
      SHELL_1,
    ])
    expect(skipped.map((line) => line.command)).toEqual(
      expect.arrayContaining([
        'npm ci',
        'npm start',
        'npm test',
        'sam build',
        'sam deploy --guided',
      ]),
    )
    expect(shell2.length).toBeGreaterThanOrEqual(8)
  })

  it('runs every other line in order in one shell: invoke answers, DEPLOY.md encrypts and checks', () => {
    // Prepare: nothing that installs, deploys or needs Docker; a marker before each line, to
    // tell which one failed and what each printed.
    expect(shell2.filter((line) => /^(npm ci|npm i|sam|aws) /.test(`${line.command} `))).toEqual([])
    const script = shell2
      .map((line, index) => `echo "@@${index}"; echo "@@${index}" >&2\n${line.command}`)
      .join('\n')
    // Act
    const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: REPO_ROOT,
      env: freshEnv(),
      encoding: 'utf8',
      timeout: 400_000,
    })
    const outputs = run.stdout.split(/^@@\d+\n/m).slice(1)
    const failedAt = Number(/@@(\d+)\n(?![\s\S]*@@\d+\n)/.exec(run.stderr)?.[1])
    const failed = shell2[failedAt]
    const of = (start: string) => outputs[shell2.findIndex((l) => l.command.startsWith(start))]
    const answers = shell2.flatMap((line, index) =>
      line.command.startsWith('npm run invoke')
        ? [JSON.parse((outputs[index] ?? '').split('\n').find((l) => l.startsWith('{')) ?? '{}')]
        : [],
    )
    // Assess
    expect(
      run.status,
      `${failed?.file} (${failed?.section}): ${failed?.command}\n${run.stderr}`,
    ).toBe(0)
    expect(answers.map((answer: { statusCode?: number }) => answer.statusCode)).toEqual([201, 200])
    expect(readFileSync(PARAM_FILES[0] as string, 'utf8')).toMatch(/^DataKeyCiphertext=\S{60,}\n$/)
    expect(readFileSync(PARAM_FILES[1] as string, 'utf8')).toMatch(/^ApiTokenCiphertext=\S{60,}\n$/)
    expect(of('npm run -s kms-secrets -- check')).toMatch(
      /SecureItemsFunction +DATA_KEY +ok[^\n]*\n[\s\S]*SecureFetchFunction +API_TOKEN +ok/,
    )
    expect(run.stdout + run.stderr + stackLog).not.toContain(TOKEN)
  }, 420_000)

  it("keeps the ciphertexts in .local/env.json (mode 600), out of the stack's output", () => {
    // Prepare
    const path = join(REPO_ROOT, '.local', 'env.json')
    const env = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, string>>
    const values = [env.SecureItemsFunction?.DATA_KEY, env.SecureFetchFunction?.API_TOKEN]
    // Act
    const mode = statSync(path).mode & 0o777
    // Assess
    expect(values.every((v) => typeof v === 'string' && v.length > 40)).toBe(true)
    for (const value of values) expect(stackLog).not.toContain(value)
    expect(mode).toBe(0o600)
  })

  it('stops shell 1 on Ctrl-C and removes .local/', async () => {
    // Act
    await stopShell1()
    // Assess
    expect(stackLog).toMatch(/local-stack: stopped\n/)
    expect(existsSync(join(REPO_ROOT, '.local'))).toBe(false)
  })
})
