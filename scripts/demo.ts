// npm start: the whole product, end to end, on this machine (see HELP in scripts/demo/args.ts).
//
// Local AWS (moto behind the fault proxy, which counts the KMS calls) -> KMS key, alias and
// DynamoDB table as template.yaml declares them -> the demo secrets encrypted with this
// project's CLI -> an HTTPS upstream with mutual TLS -> both functions built from
// template.yaml and invoked through the local invoke (cold start, then warm) -> a report.
// Progress on stderr, the report on stdout; everything started is stopped at the end, on
// failure and on Ctrl-C. Dev tooling: never bundled.

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline/promises'
import { KMSClient } from '@aws-sdk/client-kms'
import {
  awsNotice,
  type DemoOptions,
  DemoUsageError,
  HELP,
  isYes,
  parseDemoArgs,
} from './demo/args.ts'
import { distStaleness, runBuild } from './demo/build.ts'
import { createTeardown, onInterrupt, type Teardown } from './demo/cleanup.ts'
import { type DrillRow, drillPlan, formatDrill, runDrill } from './demo/drill.ts'
import {
  DECRYPTED,
  type FunctionsContext,
  fetchCalls,
  itemsCalls,
  runFunction,
} from './demo/functions.ts'
import { countKmsRequests } from './demo/kms-counter.ts'
import { type DemoReport, encryptedEntries, formatReport } from './demo/report.ts'
import { encryptSecrets, generateSecrets, writeSecretsForTest } from './demo/secrets.ts'
import { createStack } from './demo/stack.ts'
import { startUpstream } from './demo/upstream.ts'
import { awsEnv, isAwsConfigVariable } from './local/aws-env.ts'
import { type FaultProxy, startFaultProxy } from './local/fault-proxy.ts'
import { LOCAL_REGION, startMoto } from './local/moto.ts'
import { createTestPki } from './local/tls.ts'
import { functionsOf, type ResolveScope, readTemplate, resolveValue } from './template.ts'

const ROOT = resolve(import.meta.dirname, '..')
const DECRYPT = 'TrentService.Decrypt'
const stderr = (line: string) => process.stderr.write(`${line}\n`)

/** What a run shares: the abort signal, the teardown, the progress lines and the current step. */
interface Session {
  options: DemoOptions
  signal: AbortSignal
  teardown: Teardown
  progress: (line: string) => void
  begin: (what: string) => void
  /** A function run (or the drill) in flight: the work folder outlives it. */
  running?: Promise<unknown>
}

/** --aws: prints what it creates, then asks (unless --yes). An exit code means stop. */
async function confirmAws(options: DemoOptions): Promise<number | undefined> {
  if (options.mode !== 'aws') {
    if ((process.env.AWS_PROFILE ?? '') !== '') {
      stderr(
        'npm start: AWS_PROFILE is set, but the demo runs on the local AWS (moto); --aws for real AWS',
      )
    }
    return undefined
  }
  process.stderr.write(awsNotice(options.region ?? process.env.AWS_REGION))
  if (options.yes) return undefined
  if (!process.stdin.isTTY) {
    stderr('npm start: --aws asks before creating anything; without a terminal, pass --yes')
    return 2
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr })
  const answer = await prompt.question('Create them? [y/N] ')
  prompt.close()
  if (isYes(answer)) return undefined
  stderr('npm start: nothing created')
  return 1
}

interface Aws {
  region: string
  /** Where AWS is, for the report's first line. */
  where: string
  /** KMS Decrypt requests so far. */
  decrypts: () => number
  /** Local AWS only: the proxy that counts (and, in the drill, refuses) KMS calls. */
  proxy?: FaultProxy
}

/** Local: moto behind the counting proxy, this process pointed at it only. --aws: the real thing. */
async function startAws(session: Session): Promise<Aws> {
  const { options, teardown, begin } = session
  if (options.mode === 'aws') {
    begin('checking the AWS configuration')
    const region =
      options.region ??
      process.env.AWS_REGION ??
      process.env.AWS_DEFAULT_REGION ??
      (await new KMSClient({}).config.region().catch(() => undefined))
    if (!region) throw new Error('no AWS region: pass --region or set AWS_REGION')
    process.env.AWS_REGION = region
    // The functions get no HOME: name the config files.
    const home = process.env.HOME
    if (home) {
      process.env.AWS_CONFIG_FILE ??= join(home, '.aws', 'config')
      process.env.AWS_SHARED_CREDENTIALS_FILE ??= join(home, '.aws', 'credentials')
    }
    const counter = countKmsRequests()
    const profile = process.env.AWS_PROFILE
    return {
      region,
      where: `region ${region}${profile ? `, profile ${profile}` : ''}`,
      decrypts: () => counter.counts()[DECRYPT] ?? 0,
    }
  }
  begin('starting the local AWS (moto) and the fault proxy')
  const moto = await startMoto()
  teardown.defer('stop moto', () => moto.stop())
  session.signal.throwIfAborted()
  const proxy = await startFaultProxy({ target: moto.endpoint })
  teardown.defer('stop the fault proxy', () => proxy.stop())
  for (const name of Object.keys(process.env)) {
    if (isAwsConfigVariable(name)) delete process.env[name]
  }
  Object.assign(process.env, awsEnv(proxy.endpoint))
  session.progress(
    `moto answers on 127.0.0.1:${moto.port}, the fault proxy on 127.0.0.1:${proxy.port}`,
  )
  return {
    region: LOCAL_REGION,
    where: `moto on 127.0.0.1:${moto.port}, behind the fault proxy on 127.0.0.1:${proxy.port} (it counts the KMS calls)`,
    decrypts: () => proxy.counts()[DECRYPT] ?? 0,
    proxy,
  }
}

function functionName(template: ReturnType<typeof readTemplate>, ctx: ResolveScope, id: string) {
  const fn = functionsOf(template).find((f) => f.logicalId === id)
  const name = fn?.functionName === undefined ? undefined : resolveValue(fn.functionName, ctx)
  if (typeof name !== 'string') throw new Error(`template.yaml: no FunctionName for ${id}`)
  return name
}

/** The steps, in order, into `report`; returns the drill's rows with --drill. */
async function demo(session: Session, report: DemoReport): Promise<DrillRow[] | undefined> {
  const { options, teardown, begin, progress } = session
  if (options.mode === 'aws') {
    progress(
      `mode: real AWS (${options.modeReason}); creates a throwaway key, alias and table, removed at the end`,
    )
  }
  if (options.skipBuild) progress('using dist/ as it is (--skip-build)')
  else {
    const why = distStaleness(ROOT)
    if (why === undefined) progress('library: dist/ is up to date')
    else {
      begin(`building the library (npm run build: ${why})`)
      const output = await runBuild(ROOT, session.signal)
      if (options.verbose) process.stderr.write(output)
    }
  }
  const workDir = mkdtempSync(join(tmpdir(), 'kms-secrets-demo-'))
  // A function build still running on Ctrl-C would write into workDir after its removal.
  teardown.defer(`remove ${workDir}`, async () => {
    await session.running?.catch(() => {})
    rmSync(workDir, { recursive: true, force: true })
  })

  const aws = await startAws(session)
  report.where = aws.where
  const stackName =
    options.stackName ??
    (aws.proxy ? 'kms-secrets-demo' : `kms-secrets-demo-${randomBytes(3).toString('hex')}`)
  report.stackName = stackName
  const template = readTemplate(join(ROOT, 'template.yaml'))
  const ctx: ResolveScope = {
    template,
    pseudo: { 'AWS::StackName': stackName, 'AWS::Region': aws.region },
    unfixed: 'placeholder',
  }
  begin('creating the KMS key, its alias and the DynamoDB table (template.yaml)')
  // moto forgets everything when it stops; real AWS needs each resource removed.
  const stack = await createStack(
    template,
    ctx,
    ({ what, undo }) => {
      if (!aws.proxy) teardown.defer(what, undo)
    },
    session.signal,
  )
  report.keyAlias = stack.alias
  report.tableName = stack.tableName

  begin('generating the demo secrets and a PKI (CA, server and client certificates)')
  const pki = await createTestPki()
  const secrets = generateSecrets(
    await pki.issue({ usage: 'client', commonName: 'secure-fetch demo client' }),
  )
  if (process.env.DEMO_SECRETS_OUT) writeSecretsForTest(process.env.DEMO_SECRETS_OUT, secrets)
  begin(`encrypting them with kms-secrets (key ${stack.alias})`)
  const target = { keyId: stack.alias, stackName, workDir, root: ROOT, env: process.env }
  const encrypted = await encryptSecrets(secrets, target)
  if (options.verbose) process.stderr.write(encrypted.log)
  report.commands = encrypted.commands
  const names = {
    SecureItemsFunction: functionName(template, ctx, 'SecureItemsFunction'),
    SecureFetchFunction: functionName(template, ctx, 'SecureFetchFunction'),
  }
  report.encrypted = encryptedEntries(names)

  begin('starting the HTTPS upstream (mutual TLS, bearer token)')
  const upstream = await startUpstream(pki, secrets.apiToken, workDir)
  teardown.defer('stop the HTTPS upstream', () => upstream.server.stop())

  const functions: FunctionsContext = {
    root: ROOT,
    workDir,
    stackName,
    region: aws.region,
    env: process.env,
    parameterOverrides: {
      DataKeyCiphertext: encrypted.dataKey,
      ApiTokenCiphertext: encrypted.apiToken,
      UpstreamUrl: upstream.url,
      UpstreamCaFile: upstream.caFile,
      UpstreamSpkiPins: upstream.pin,
      ClientTlsFile: encrypted.clientTlsFile,
      ...(options.drill !== undefined && { SecretsCacheExpiry: String(options.drill) }),
    },
    warm: options.warm,
    signal: session.signal,
    verbose: options.verbose,
    proxyDecrypts: aws.proxy ? aws.decrypts : () => undefined,
    ...(options.built !== undefined && { built: resolve(options.built) }),
  }
  if (options.drill !== undefined && aws.proxy) {
    begin('the drill: both functions under aws-lambda-ric, the key changed step by step')
    const drill = runDrill({
      functions,
      plan: drillPlan(ROOT, secrets),
      proxy: aws.proxy,
      keyArn: stack.keyArn,
      target,
      cacheExpiryMs: options.drill,
      progress,
    })
    session.running = drill
    return drill
  }
  const plan = {
    SecureItemsFunction: itemsCalls(ROOT, secrets, options.warm),
    SecureFetchFunction: fetchCalls(ROOT, options.warm),
  }
  for (const [id, calls] of Object.entries(plan)) {
    const how =
      options.built === undefined
        ? `building ${id} (esbuild, template Metadata)`
        : `taking ${id} from ${options.built}`
    begin(`${how} and invoking it ${calls.length} times under aws-lambda-ric`)
    const run = runFunction(id, DECRYPTED[id as keyof typeof DECRYPTED], calls, functions)
    session.running = run
    const result = await run
    report.functions.push({ ...result, functionName: names[id as keyof typeof names] })
    const bad = result.calls.filter((call) => !call.ok)
    for (const call of bad) report.failures.push(`${id} ${call.request}: ${call.summary}`)
    if (result.failure) report.failures.push(`${id}: ${result.failure}`)
    if ((bad.length > 0 || result.failure) && !options.verbose && !session.signal.aborted) {
      // The functions never log a secret (their contract): their last lines explain.
      const tail = result.logs.trimEnd().split('\n').slice(-20)
      stderr(`--- last lines of ${id}'s output ---\n${tail.join('\n')}\n---`)
    }
  }
  report.upstream = {
    url: upstream.url.replace(/\/v1$/, ''),
    accepted: upstream.accepted(),
    rejected: upstream.rejected(),
    handshakes: upstream.server.tlsHandshakes,
    tls: upstream.server.connections.map((c) => c.tlsVersion ?? '?'),
  }
  return undefined
}

async function run(argv: string[]): Promise<number> {
  let options: DemoOptions
  try {
    options = parseDemoArgs(argv, process.env)
  } catch (error) {
    if (!(error instanceof DemoUsageError)) throw error
    stderr(`npm start: ${error.message}`)
    return 2
  }
  if (options.help) {
    process.stdout.write(HELP)
    return 0
  }
  const stop = await confirmAws(options)
  if (stop !== undefined) return stop

  const started = performance.now()
  const progress = (line: string) =>
    stderr(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`)
  const controller = new AbortController()
  const teardown = createTeardown()
  const removeHandlers = onInterrupt(controller, teardown, progress)
  let step = 'starting'
  const session: Session = {
    options,
    signal: controller.signal,
    teardown,
    progress,
    begin: (what) => {
      controller.signal.throwIfAborted()
      step = what
      progress(`${what}...`)
    },
  }
  const report: DemoReport = {
    mode: options.mode,
    where: '',
    stackName: '',
    keyAlias: '',
    tableName: '',
    encrypted: [],
    commands: [],
    functions: [],
    upstream: undefined,
    totalMs: 0,
    failures: [],
  }
  let drill: DrillRow[] | undefined
  try {
    drill = await demo(session, report)
    for (const row of drill?.filter((r) => !r.expected) ?? []) {
      report.failures.push(`drill step ${row.step}: ${row.notes}`)
    }
  } catch (error) {
    const message = controller.signal.aborted
      ? String((controller.signal.reason as Error)?.message ?? 'interrupted')
      : ((error as Error).message ?? String(error)).split('\n')[0]
    report.failures.push(`${step}: ${message}`)
  }

  progress('stopping everything the demo started')
  for (const failure of await teardown.run()) report.failures.push(`cleanup: ${failure}`)
  removeHandlers()
  report.totalMs = performance.now() - started
  progress('done')

  if (drill !== undefined) process.stdout.write(formatDrill(drill, options.drill as number))
  else if (report.stackName !== '') process.stdout.write(formatReport(report))
  if (report.failures.length === 0) return 0
  const more = report.failures.length > 1 ? ` (and ${report.failures.length - 1} more)` : ''
  stderr(`npm start failed: ${report.failures[0]}${more}`)
  return 1
}

const code = await run(process.argv.slice(2))
process.exitCode = code
// SDK keep-alive sockets (real AWS) must not hold the exit.
setTimeout(() => process.exit(code), 200).unref()
