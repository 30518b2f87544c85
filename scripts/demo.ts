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
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline/promises'
import { fileURLToPath } from 'node:url'
import { KMSClient } from '@aws-sdk/client-kms'
import { awsNotice, DemoUsageError, HELP, isYes, type Mode, parseDemoArgs } from './demo/args.ts'
import { distStaleness, runBuild } from './demo/build.ts'
import { type BundleCheck, checkBundle } from './demo/bundle-check.ts'
import { createTeardown, onInterrupt } from './demo/cleanup.ts'
import { type DrillRow, drillPlan, formatDrill, runDrill } from './demo/drill.ts'
import { fetchCalls, itemsCalls, runFunction } from './demo/functions.ts'
import { countKmsRequests } from './demo/kms-counter.ts'
import { type DemoReport, formatReport } from './demo/report.ts'
import { encryptSecrets, generateSecrets, writeSecretsForTest } from './demo/secrets.ts'
import { createStack } from './demo/stack.ts'
import { startUpstream } from './demo/upstream.ts'
import { awsEnv, isAwsConfigVariable } from './local/aws-env.ts'
import { type FaultProxy, startFaultProxy } from './local/fault-proxy.ts'
import { LOCAL_REGION, startMoto } from './local/moto.ts'
import { createTestPki } from './local/tls.ts'
import { functionsOf, type ResolveScope, readTemplate, resolveValue } from './template.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DECRYPT = 'TrentService.Decrypt'

/** Points this process (the in-process CLI, every SDK client, the invoked functions) at `endpoint` only. */
function useLocalAws(endpoint: string): void {
  for (const name of Object.keys(process.env))
    if (isAwsConfigVariable(name)) delete process.env[name]
  Object.assign(process.env, awsEnv(endpoint))
}

/** Real AWS: one region for everything; config files named (the functions get no HOME). */
async function useRealAws(region: string | undefined): Promise<string> {
  const resolved =
    region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    (await new KMSClient({}).config.region().catch(() => undefined))
  if (!resolved) throw new Error('no AWS region: pass --region or set AWS_REGION')
  process.env.AWS_REGION = resolved
  const home = process.env.HOME
  if (home) {
    process.env.AWS_CONFIG_FILE ??= join(home, '.aws', 'config')
    process.env.AWS_SHARED_CREDENTIALS_FILE ??= join(home, '.aws', 'credentials')
  }
  return resolved
}

function functionName(template: ReturnType<typeof readTemplate>, ctx: ResolveScope, id: string) {
  const fn = functionsOf(template).find((f) => f.logicalId === id)
  const name = fn?.functionName === undefined ? undefined : resolveValue(fn.functionName, ctx)
  if (typeof name !== 'string') throw new Error(`template.yaml: no FunctionName for ${id}`)
  return name
}

async function run(argv: string[]): Promise<number> {
  const stderr = (line: string) => process.stderr.write(`${line}\n`)
  let options: ReturnType<typeof parseDemoArgs>
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
  if (options.mode === 'aws') {
    process.stderr.write(awsNotice(options.region ?? process.env.AWS_REGION))
    if (!options.yes) {
      if (!process.stdin.isTTY) {
        stderr('npm start: --aws asks before creating anything; without a terminal, pass --yes')
        return 2
      }
      const prompt = createInterface({ input: process.stdin, output: process.stderr })
      const answer = await prompt.question('Create them? [y/N] ')
      prompt.close()
      if (!isYes(answer)) {
        stderr('npm start: nothing created')
        return 1
      }
    }
  } else if ((process.env.AWS_PROFILE ?? '') !== '') {
    stderr(
      'npm start: AWS_PROFILE is set, but the demo runs on the local AWS (moto); --aws for real AWS',
    )
  }

  const started = performance.now()
  const progress = (line: string) =>
    stderr(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`)
  const controller = new AbortController()
  const { signal } = controller
  const teardown = createTeardown()
  let functionRun: Promise<unknown> | undefined
  let proxy: FaultProxy | undefined
  let drill: DrillRow[] | undefined
  const removeHandlers = onInterrupt(controller, teardown, progress)

  const mode: Mode = options.mode
  const report: DemoReport = {
    mode,
    where: '',
    stackName: '',
    keyAlias: '',
    tableName: '',
    encrypted: [],
    commands: [],
    bundle: undefined,
    functions: [],
    upstream: undefined,
    totalMs: 0,
    failures: [],
  }
  let step = 'starting'
  const begin = (what: string) => {
    signal.throwIfAborted()
    step = what
    progress(`${what}...`)
  }

  try {
    if (mode === 'aws') {
      progress(
        `mode: real AWS (${options.modeReason}); creates a throwaway key, alias and table, removed at the end`,
      )
    }
    // 1. The library the functions bundle (dist/).
    if (options.skipBuild) progress('using dist/ as it is (--skip-build)')
    else {
      const why = distStaleness(ROOT)
      if (why === undefined) progress('library: dist/ is up to date')
      else {
        begin(`building the library (npm run build: ${why})`)
        const output = await runBuild(ROOT, signal)
        if (options.verbose) process.stderr.write(output)
      }
    }

    const workDir = mkdtempSync(join(tmpdir(), 'kms-secrets-demo-'))
    // A function build still running on Ctrl-C would write into workDir after its removal.
    teardown.defer(`remove ${workDir}`, async () => {
      await functionRun?.catch(() => {})
      rmSync(workDir, { recursive: true, force: true })
    })

    // 2. AWS: moto behind the counting proxy, or the real thing.
    let region = LOCAL_REGION
    let decryptCount: () => number | undefined
    let proxyDecrypts: () => number | undefined = () => undefined
    if (mode === 'local') {
      begin('starting the local AWS (moto) and the fault proxy')
      const moto = await startMoto()
      teardown.defer('stop moto', () => moto.stop())
      signal.throwIfAborted()
      const local = await startFaultProxy({ target: moto.endpoint })
      proxy = local
      teardown.defer('stop the fault proxy', () => local.stop())
      useLocalAws(local.endpoint)
      decryptCount = () => local.counts()[DECRYPT] ?? 0
      proxyDecrypts = decryptCount
      report.where = `moto on 127.0.0.1:${moto.port}, behind the fault proxy on 127.0.0.1:${local.port} (it counts the KMS calls)`
      progress(`moto answers on 127.0.0.1:${moto.port}, the fault proxy on 127.0.0.1:${local.port}`)
    } else {
      begin('checking the AWS configuration')
      region = await useRealAws(options.region)
      const counter = countKmsRequests()
      decryptCount = () => counter.counts()[DECRYPT] ?? 0
      const profile = process.env.AWS_PROFILE
      report.where = `region ${region}${profile ? `, profile ${profile}` : ''}`
    }
    const stackName =
      options.stackName ??
      (mode === 'local' ? 'kms-secrets-demo' : `kms-secrets-demo-${randomBytes(3).toString('hex')}`)
    report.stackName = stackName

    const template = readTemplate(join(ROOT, 'template.yaml'))
    const ctx: ResolveScope = {
      template,
      pseudo: { 'AWS::StackName': stackName, 'AWS::Region': region },
      unfixed: 'placeholder',
    }
    const itemsName = functionName(template, ctx, 'SecureItemsFunction')
    const fetchName = functionName(template, ctx, 'SecureFetchFunction')

    begin('creating the KMS key, its alias and the DynamoDB table (template.yaml)')
    const stack = await createStack(
      template,
      ctx,
      ({ what, undo }) => {
        // moto forgets everything when it stops; real AWS needs each resource removed.
        if (mode === 'aws') teardown.defer(what, undo)
      },
      signal,
    )
    report.keyAlias = stack.alias
    report.tableName = stack.tableName

    // 3. The secrets, encrypted with kms-secrets.
    begin('generating the demo secrets and a PKI (CA, server and client certificates)')
    const pki = await createTestPki()
    const client = await pki.issue({ usage: 'client', commonName: 'secure-fetch demo client' })
    const secrets = generateSecrets(client)
    const secretsOut = process.env.DEMO_SECRETS_OUT
    if (secretsOut) writeSecretsForTest(secretsOut, secrets)

    begin(`encrypting them with kms-secrets (key ${stack.alias})`)
    const encrypted = await encryptSecrets(secrets, {
      keyId: stack.alias,
      stackName,
      workDir,
      root: ROOT,
      env: process.env,
    })
    if (options.verbose) process.stderr.write(encrypted.log)
    report.commands = encrypted.commands
    report.encrypted = [
      { name: 'API_TOKEN', kind: 'raw KMS value, from stdin', functionName: fetchName },
      {
        name: 'DATA_KEY',
        kind: 'raw KMS value, 32 random bytes from --in FILE',
        functionName: itemsName,
      },
      {
        name: 'DEMO_BUNDLE',
        kind: 'bundle (one envelope)',
        functionName: itemsName,
        fields: Object.keys(secrets.bundle),
      },
      {
        name: 'CLIENT_TLS_FILE',
        kind: 'secrets file client-tls.kse',
        functionName: fetchName,
        fields: ['cert', 'key'],
      },
    ]

    // 4. The bundle, read back as a handler would.
    begin('reading the bundle back with loadSecrets()')
    let bundle: BundleCheck
    try {
      bundle = await checkBundle(encrypted.bundle, secrets.bundle, itemsName, decryptCount)
    } catch (error) {
      bundle = {
        ok: false,
        names: Object.keys(secrets.bundle),
        decrypts: undefined,
        summary: `loadSecrets failed: ${(error as Error).message}`,
      }
    }
    report.bundle = bundle
    if (!bundle.ok) report.failures.push(`bundle DEMO_BUNDLE: ${bundle.summary}`)

    // 5. The upstream secure-fetch calls.
    begin('starting the HTTPS upstream (mutual TLS, bearer token)')
    const upstream = await startUpstream(pki, secrets.apiToken, workDir)
    teardown.defer('stop the HTTPS upstream', () => upstream.server.stop())

    // 6. Both functions, built from template.yaml, through the local invoke.
    const functionsContext = {
      root: ROOT,
      workDir,
      stackName,
      region,
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
      signal,
      verbose: options.verbose,
      proxyDecrypts,
      ...(options.built !== undefined && { built: resolve(options.built) }),
    }
    const plan = [
      {
        id: 'SecureItemsFunction',
        name: itemsName,
        decrypted: ['DATA_KEY'],
        calls: itemsCalls(ROOT, secrets, options.warm),
      },
      {
        id: 'SecureFetchFunction',
        name: fetchName,
        decrypted: ['API_TOKEN', 'CLIENT_TLS_FILE#cert', 'CLIENT_TLS_FILE#key'],
        calls: fetchCalls(ROOT, options.warm),
      },
    ]
    if (options.drill !== undefined) {
      begin('the drill: both functions under aws-lambda-ric, the key changed step by step')
      const target = { keyId: stack.alias, stackName, workDir, root: ROOT, env: process.env }
      const drillRun = runDrill({
        functions: functionsContext,
        plan: drillPlan(ROOT, secrets),
        proxy: proxy as FaultProxy,
        keyArn: stack.keyArn,
        target,
        scope: ctx,
        cacheExpiryMs: options.drill,
        progress,
      })
      functionRun = drillRun
      drill = await drillRun
      for (const row of drill.filter((r) => !r.expected)) {
        report.failures.push(`drill step ${row.step}: ${row.notes}`)
      }
    }
    for (const fn of options.drill === undefined ? plan : []) {
      begin(
        `${options.built === undefined ? `building ${fn.id} (esbuild, template Metadata)` : `taking ${fn.id} from ${options.built}`} and invoking it ${fn.calls.length} times under aws-lambda-ric`,
      )
      const run = runFunction(fn.id, fn.decrypted, fn.calls, functionsContext)
      functionRun = run
      const result = await run
      report.functions.push({ ...result, functionName: fn.name })
      const bad = result.calls.filter((call) => !call.ok)
      for (const call of bad) report.failures.push(`${fn.id} ${call.request}: ${call.summary}`)
      if (result.failure) report.failures.push(`${fn.id}: ${result.failure}`)
      if ((bad.length > 0 || result.failure) && !options.verbose && !signal.aborted) {
        // The functions never log a secret (their contract): their last lines explain.
        const tail = result.logs.trimEnd().split('\n').slice(-20)
        stderr(`--- last lines of ${fn.id}'s output ---\n${tail.join('\n')}\n---`)
      }
    }
    report.upstream = {
      url: upstream.url.replace(/\/v1$/, ''),
      accepted: upstream.accepted(),
      rejected: upstream.rejected(),
      handshakes: upstream.server.tlsHandshakes,
      tls: upstream.server.connections.map((c) => c.tlsVersion ?? '?'),
    }
  } catch (error) {
    const message = signal.aborted
      ? String((signal.reason as Error)?.message ?? 'interrupted')
      : ((error as Error).message ?? String(error)).split('\n')[0]
    report.failures.push(`${step}: ${message}`)
  }

  step = 'cleaning up'
  progress('stopping everything the demo started')
  const cleanupFailures = await teardown.run()
  for (const failure of cleanupFailures) report.failures.push(`cleanup: ${failure}`)
  removeHandlers()
  report.totalMs = performance.now() - started
  progress('done')

  if (drill !== undefined) process.stdout.write(formatDrill(drill, options.drill as number))
  else if (report.stackName !== '') process.stdout.write(formatReport(report))
  if (report.failures.length > 0) {
    const more = report.failures.length > 1 ? ` (and ${report.failures.length - 1} more)` : ''
    stderr(`npm start failed: ${report.failures[0]}${more}`)
    return 1
  }
  return 0
}

const code = await run(process.argv.slice(2))
process.exitCode = code
// SDK keep-alive sockets (real AWS) must not hold the exit.
setTimeout(() => process.exit(code), 200).unref()
