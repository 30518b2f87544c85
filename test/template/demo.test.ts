// npm start (scripts/demo.ts), run as a newcomer runs it: a fresh process on the real
// template, events and CLI, against moto behind the fault proxy; its command line; and the
// local invoke's several-events mode it relies on (one process: a cold start, then warm).
// Nothing here can reach real AWS: the demo's default is the local AWS, the child gets no
// AWS_* variable, and --aws is only ever parsed, never run.

import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { awsNotice, isYes, parseDemoArgs } from '../../scripts/demo/args.ts'
import { readSecretsForTest } from '../../scripts/demo/secrets.ts'
import { type Invocation, invoke } from '../../scripts/invoke.ts'
import { childEnv } from '../../scripts/local/aws-env.ts'
import { REPO_ROOT, type RunNodeResult, runNode } from '../support/child.ts'
import { expectNoSecrets, type Secret } from '../support/no-leak.ts'

let work = ''

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kms-demo-test-'))
})

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true })
})

/** npm's own script (npm-cli.js, where its `npm` link points): beside this Node, else on PATH. */
const npmCli = () =>
  realpathSync(
    [dirname(process.execPath), ...(process.env.PATH ?? '').split(delimiter)]
      .map((dir) => join(dir, 'npm'))
      .find((path) => existsSync(path)) ?? 'npm',
  )

/** `npm start -- <args>` in a fresh process, from a minimal environment (no AWS_* at all). */
const npmStart = (args: string[], env: Record<string, string>, timeoutMs = 110_000) =>
  runNode(npmCli(), {
    args: ['start', '--', ...args],
    env,
    timeoutMs,
    killSignal: 'SIGINT',
  })

/** Command lines (arguments joined by NUL) of every process this user can see. */
function processCommandLines(): string[] {
  const lines: string[] = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue
    try {
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))
    } catch {
      // Gone meanwhile.
    }
  }
  return lines
}

/** One function's section of the report, up to the next blank line. */
function section(report: string, logicalId: string): string {
  const start = report.indexOf(`\n${logicalId} (`)
  expect(start, `no section for ${logicalId}`).toBeGreaterThanOrEqual(0)
  const end = report.indexOf('\n\n', start + 1)
  return report.slice(start + 1, end < 0 ? undefined : end)
}

describe('npm start: the local demo end to end (moto, kms-secrets, HTTPS upstream, both functions)', () => {
  let run: RunNodeResult
  let demoTmp = ''
  let secrets: Secret[] = []
  let wall = 0

  beforeAll(async () => {
    // Prepare: the demo's temp folders go under demoTmp; the test learns the generated
    // secrets through DEMO_SECRETS_OUT (a file outside demoTmp).
    demoTmp = join(work, 'demo-tmp')
    mkdirSync(demoTmp)
    const secretsFile = join(work, 'demo-secrets.json')
    // Act: --verbose puts the functions' own logs in the output the leak check reads;
    // AWS_PROFILE must not take the demo to real AWS (only --aws does).
    const started = performance.now()
    run = await npmStart(['--verbose'], {
      TMPDIR: demoTmp,
      DEMO_SECRETS_OUT: secretsFile,
      AWS_PROFILE: 'anything',
    })
    wall = performance.now() - started
    secrets = readSecretsForTest(secretsFile)
  }, 120_000)

  it('runs on the local AWS although AWS_PROFILE is set, and says so', () => {
    // Assess
    expect(run.stdout).toMatch(/^middy-kms-secrets demo: local AWS, moto on 127\.0\.0\.1:\d+/m)
    expect(run.stderr).toContain(
      'npm start: AWS_PROFILE is set, but the demo runs on the local AWS (moto); --aws for real AWS',
    )
  })

  it('exits 0 with a report of every call, each as expected', () => {
    // Assess
    expect(run.code, run.stderr.slice(-3000)).toBe(0)
    expect(run.stdout).toMatch(/^OK: 8 calls, all as expected, in \d+\.\d s$/m)
    expect(run.stdout).not.toMatch(/FAIL/)
    const items = section(run.stdout, 'SecureItemsFunction')
    expect(items).toMatch(/^ {2}ok {3}cold +POST \/items +201 /m)
    expect(items).toMatch(/^ {2}ok {3}warm +GET \/items\/demo\/[0-9a-f]{8}… +200 .*same as stored/m)
    expect(items).toMatch(/^ {2}ok {3}warm +GET \/items\/demo +200 .*2 items listed, no secret/m)
    const fetch = section(run.stdout, 'SecureFetchFunction')
    expect(fetch).toMatch(/^ {2}ok {3}cold +GET \/fetch +200 .*bearer token accepted/m)
    expect(fetch.match(/^ {2}ok {3}warm /gm)).toHaveLength(3)
    expect(fetch).toContain('client cert "secure-fetch demo client"')
    expect(fetch).toMatch(/4 requests with the right bearer token, 0 rejected; mutual TLS/)
  })

  it('counts the KMS Decrypt calls per cold start: 1 (data key), 2 (token + secrets file); none warm', () => {
    // Assess
    const items = section(run.stdout, 'SecureItemsFunction')
    const fetch = section(run.stdout, 'SecureFetchFunction')
    // Under the runtime client, the round completes within INIT (the handlers await ready()):
    // counted when the runtime first asks for an event; the first invocation makes none.
    expect(items).toContain(
      'KMS Decrypt calls per cold start: 1 (0 on 3 warm invocations) [INIT 1, first invocation 0]',
    )
    expect(fetch).toContain(
      'KMS Decrypt calls per cold start: 2 (0 on 3 warm invocations) [INIT 2, first invocation 0]',
    )
    expect(run.stdout).toMatch(/^ {2}SecureItemsFunction +1 +\d+(\.\d)? ms +\d+(\.\d)? ms$/m)
    expect(run.stdout).toMatch(/^ {2}SecureFetchFunction +2 +\d+(\.\d)? ms +\d+(\.\d)? ms$/m)
  })

  it('shows cold and warm timings, and names what was decrypted with the values masked', () => {
    // Assess
    for (const id of ['SecureItemsFunction', 'SecureFetchFunction']) {
      expect(section(run.stdout, id)).toMatch(
        /cold start \d+(\.\d)? ms \(init \d+(\.\d)? ms \+ first call \d+(\.\d)? ms\); warm: median \d+(\.\d)? ms .* over 3 calls/,
      )
    }
    expect(run.stdout).toContain('decrypted DATA_KEY ****')
    expect(run.stdout).toContain(
      'decrypted API_TOKEN ****, CLIENT_TLS_FILE#cert ****, CLIENT_TLS_FILE#key ****',
    )
    expect(run.stdout).toMatch(/^ {4}kms-secrets encrypt .*--function SecureFetchFunction/m)
    expect(run.stdout).toMatch(/^ {4}kms-secrets bundle .*--out \$TMP\/client-tls\.kse/m)
    expect(run.stderr).toMatch(/^\[ +\d+\.\d s\] starting the local AWS \(moto\)/m)
  })

  it('prints no secret value anywhere, in any encoding (report, progress, function logs)', () => {
    // Assess: the check is meaningful (secrets known, function logs present)...
    expect(secrets.length).toBeGreaterThanOrEqual(6)
    expect(run.stderr).toContain('"message":"item created"')
    // ...and nothing leaks.
    expectNoSecrets(run.stdout + run.stderr, secrets)
  })

  it('leaves no process and no temporary file behind', () => {
    // Assess
    const port = /moto on 127\.0\.0\.1:(\d+)/.exec(run.stdout)?.[1]
    expect(port).toBeDefined()
    const leftovers = processCommandLines().filter(
      (line) =>
        line.includes(demoTmp) || (line.includes('moto_server') && line.includes(`\0${port}\0`)),
    )
    expect(leftovers).toEqual([])
    // It did work there (the functions were built in it), and removed it (npm's own
    // node-compile-cache aside).
    expect(run.stderr).toMatch(/^Built SecureItemsFunction into .*demo-tmp\/kms-secrets-demo-/m)
    expect(readdirSync(demoTmp).filter((name) => name.startsWith('kms-secrets-demo'))).toEqual([])
  })

  it('stays well within a minute', () => {
    // Assess
    expect(wall).toBeLessThan(60_000)
  })
})

describe('npm start: Ctrl-C', () => {
  it('stops everything it started (moto, function process, temp folder) and exits 130', async () => {
    // Prepare
    const demoTmp = join(work, 'interrupted-tmp')
    mkdirSync(demoTmp)
    const child = spawn(process.execPath, ['scripts/demo.ts', '--warm', '20'], {
      cwd: REPO_ROOT,
      env: childEnv({ TMPDIR: demoTmp }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    // Act: SIGINT while the first function's process runs its invocations.
    child.stderr.on('data', (chunk: Buffer) => {
      const before = stderr
      stderr += chunk.toString('utf8')
      if (
        !before.includes('building SecureItemsFunction') &&
        stderr.includes('building SecureItemsFunction')
      ) {
        // Soon after: on a quiet machine the whole demo takes under 3 s.
        setTimeout(() => child.kill('SIGINT'), 100)
      }
    })
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    // Assess
    expect(code, stderr).toBe(130)
    expect(stderr).toMatch(/interrupted \(SIGINT\): stopping everything the demo started/)
    expect(stderr.trimEnd().split('\n').at(-1)).toBe(
      'npm start interrupted (SIGINT): everything it started is stopped',
    )
    expect(stdout).toBe('')
    const port = /moto answers on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]
    expect(port).toBeDefined()
    const leftovers = processCommandLines().filter(
      (line) =>
        line.includes(demoTmp) || (line.includes('moto_server') && line.includes(`\0${port}\0`)),
    )
    expect(leftovers).toEqual([])
    expect(readdirSync(demoTmp).filter((name) => name.startsWith('kms-secrets-demo'))).toEqual([])
  }, 60_000)
})

describe('npm start: command line (parsed only: --aws never runs here)', () => {
  it('--built DIR runs the functions from a sam build output instead of building them', () => {
    // Prepare / Act
    const built = parseDemoArgs(['--built', '.aws-sam/build'])
    const plain = parseDemoArgs([])
    // Assess
    expect(built.built).toBe('.aws-sam/build')
    expect(plain).not.toHaveProperty('built')
  })

  it('defaults to the local AWS; real AWS only with --aws', () => {
    // Prepare / Act / Assess
    expect(parseDemoArgs([])).toMatchObject({ mode: 'local', yes: false, warm: 3 })
    expect(parseDemoArgs(['--aws'])).toMatchObject({ mode: 'aws', yes: false })
    expect(parseDemoArgs(['--aws', '-y', '--warm', '20'])).toMatchObject({
      mode: 'aws',
      yes: true,
      warm: 20,
    })
  })

  it('--aws prints what it creates and what it costs, and asks: only a yes goes on', () => {
    // Act
    const notice = awsNotice('eu-west-1')
    // Assess
    expect(notice).toContain('region eu-west-1')
    expect(notice).toContain('a KMS customer managed key: US$1/month prorated hourly')
    expect(notice).toContain('KMS waits 7 days before deleting it')
    expect(notice).toContain('a DynamoDB table')
    expect(awsNotice(undefined)).toContain('region from your AWS configuration')
    expect(['y', 'Y', ' yes ', 'YES'].map(isYes)).toEqual([true, true, true, true])
    expect(['', 'n', 'no', 'yess', 'sure'].map(isYes)).toEqual([false, false, false, false, false])
  })

  it('--aws without a terminal and without --yes stops before creating anything (exit 2)', async () => {
    // Act
    const result = await runNode(join(REPO_ROOT, 'scripts/demo.ts'), { args: ['--aws'] })
    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('npm start -- --aws creates in your AWS account')
    expect(result.stderr.trim().split('\n').at(-1)).toBe(
      'npm start: --aws asks before creating anything; without a terminal, pass --yes',
    )
    expect(result.stdout).toBe('')
  })

  it.each([
    [['--warm', '0'], /--warm is a whole number from 1 to 20/],
    [['--warm', '2.5'], /--warm is a whole number from 1 to 20/],
    [['--yes'], /--yes applies to --aws only/],
    [['--local'], /Unknown option '--local'/],
  ])('refuses %j', (argv, message) => {
    // Prepare / Act / Assess
    expect(() => parseDemoArgs(argv)).toThrow(message)
  })

  it('prints its help and exits 0 without starting anything; exits 2 on a bad option', async () => {
    // Prepare / Act
    const help = await runNode(join(REPO_ROOT, 'scripts/demo.ts'), { args: ['--help'] })
    const bad = await runNode(join(REPO_ROOT, 'scripts/demo.ts'), { args: ['--warm', '99'] })
    // Assess
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: npm start/)
    expect(help.stdout).toContain('--aws')
    expect(help.stderr).toBe('')
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toEqual([
      'npm start: --warm is a whole number from 1 to 20 (see npm start -- --help)',
    ])
  })
})

describe('npm run invoke with several events: one process, a cold start then warm invocations', () => {
  let fixture = ''
  let template = ''
  const events: Record<string, string> = {}

  beforeAll(() => {
    fixture = mkdtempSync(join(work, 'fixture-'))
    template = join(fixture, 'template.yaml')
    writeFileSync(
      template,
      `Transform: AWS::Serverless-2016-10-31
Globals:
  Function: { Runtime: nodejs24.x, Timeout: 1 }
Resources:
  Counter:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: esbuild, BuildProperties: { Format: esm, EntryPoints: [fns/counter.ts] } }
    Properties: { FunctionName: counter, Handler: counter.handler, CodeUri: . }
  Patient:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: esbuild, BuildProperties: { Format: esm, EntryPoints: [fns/counter.ts] } }
    Properties: { Handler: counter.handler, CodeUri: ., Timeout: 60 }
  Broken:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: esbuild, BuildProperties: { Format: esm, EntryPoints: [fns/broken.ts] } }
    Properties: { Handler: broken.handler, CodeUri: . }
`,
    )
    mkdirSync(join(fixture, 'fns'))
    writeFileSync(
      join(fixture, 'fns', 'counter.ts'),
      `const loadedAt = Date.now()
let calls = 0
export const handler = async (event: { hang?: boolean; fail?: boolean }, context: { awsRequestId: string }) => {
  calls++
  if (event.hang) await new Promise(() => setInterval(() => {}, 1000))
  if (event.fail) throw new Error('failed on purpose')
  return { calls, pid: process.pid, loadedAt, requestId: context.awsRequestId }
}
`,
    )
    writeFileSync(join(fixture, 'fns', 'broken.ts'), "throw new Error('no config')\n")
    for (const [name, event] of Object.entries({
      ok: {},
      fail: { fail: true },
      hang: { hang: true },
    })) {
      events[name] = join(fixture, `${name}.json`)
      writeFileSync(events[name] as string, JSON.stringify(event))
    }
  })

  const cli = (id: string, names: string[]): Promise<RunNodeResult> =>
    runNode(join(REPO_ROOT, 'scripts/invoke.ts'), {
      args: [
        id,
        ...names.flatMap((name) => ['-e', events[name] ?? name]),
        '-t',
        template,
        '--build-dir',
        join(fixture, 'build'),
      ],
      timeoutMs: 60_000,
    })
  const lines = (run: RunNodeResult) =>
    run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)

  it('invokes each event in turn in the same process: one JSON line each, Init Duration once', async () => {
    // Prepare / Act
    const run = await cli('Counter', ['ok', 'ok', 'ok'])
    // Assess
    expect(run.code, run.stderr).toBe(0)
    const results = lines(run)
    expect(results.map((r) => r.calls)).toEqual([1, 2, 3])
    expect(new Set(results.map((r) => r.pid)).size).toBe(1)
    expect(new Set(results.map((r) => r.loadedAt)).size).toBe(1)
    expect(new Set(results.map((r) => r.requestId)).size).toBe(3)
    expect(run.stderr.match(/^START RequestId: /gm)).toHaveLength(3)
    expect(run.stderr.match(/^REPORT RequestId: /gm)).toHaveLength(3)
    expect(run.stderr.match(/Init Duration: /g)).toHaveLength(1)
    for (const result of results) {
      expect(run.stderr).toContain(`START RequestId: ${result.requestId} Version: $LATEST`)
    }
  }, 60_000)

  it('goes on after a handler error (exit 1), as Lambda keeps the environment', async () => {
    // Prepare / Act
    const run = await cli('Counter', ['ok', 'fail', 'ok'])
    // Assess
    expect(run.code).toBe(1)
    const results = lines(run)
    expect(results).toHaveLength(3)
    expect(results[1]).toMatchObject({ errorType: 'Error', errorMessage: 'failed on purpose' })
    expect(results[2]?.calls).toBe(3)
  }, 60_000)

  it('stops at a timeout or an init failure: the remaining events are not invoked', async () => {
    // Prepare / Act
    const timedOut = await cli('Counter', ['ok', 'hang', 'ok'])
    const broken = await cli('Broken', ['ok', 'ok'])
    // Assess
    expect(timedOut.code).toBe(1)
    expect(lines(timedOut)).toHaveLength(2)
    expect(lines(timedOut)[1]).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'Task timed out after 1.00 seconds',
    })
    expect(timedOut.stderr.match(/^START RequestId: /gm)).toHaveLength(2)
    expect(broken.code).toBe(1)
    expect(lines(broken)).toEqual([expect.objectContaining({ errorMessage: 'no config' })])
  }, 60_000)

  it('reads stdin at most once', async () => {
    // Prepare / Act
    const run = await cli('Counter', ['-', '-'])
    // Assess
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('-e -: stdin can be read only once')
  })

  it('as a function: reports each invocation as it arrives, and an abort kills the process', async () => {
    // Prepare
    const seen: Array<[number, Invocation]> = []
    const controller = new AbortController()
    const io = {
      cwd: fixture,
      env: {},
      log: () => {},
      logStream: process.stderr,
    }
    const options = {
      events: [events.ok as string, events.ok as string],
      parameterOverrides: {},
      template,
      buildDir: join(fixture, 'build-api'),
      skipBuild: false,
      samLocal: false,
      help: false,
    }
    // Act
    const result = await invoke(
      { ...options, logicalId: 'Counter' },
      { ...io, onInvocation: (invocation, index) => seen.push([index, invocation]) },
    )
    await invoke({ ...options, logicalId: 'Patient', events: [events.ok as string] }, io)
    const started = performance.now()
    setTimeout(() => controller.abort(), 500)
    const aborted = await invoke(
      { ...options, logicalId: 'Patient', events: [events.hang as string], skipBuild: true },
      { ...io, signal: controller.signal },
    )
    const abortMs = performance.now() - started
    // Assess
    expect(result.exitCode).toBe(0)
    expect(seen.map(([index]) => index)).toEqual([0, 1])
    expect(result.invocations).toEqual(seen.map(([, invocation]) => invocation))
    expect(result.invocations[0]).toMatchObject({ ok: true, phase: 'invoke', value: { calls: 1 } })
    expect(result.invocations[1]?.value).toMatchObject({ calls: 2 })
    expect(result.invocations[0]?.initMs).toBeGreaterThan(0)
    expect(aborted.exitCode).toBe(1)
    expect(aborted.invocations[0]?.value).toMatchObject({ errorType: 'Runtime.ExitError' })
    expect(abortMs).toBeLessThan(10_000) // Patient's Timeout is 60 s
  }, 60_000)
})
