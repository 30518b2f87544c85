// npm start: the whole product, end to end, on this machine (see HELP in scripts/demo/args.ts).
// Local AWS (moto behind the fault proxy, which counts the KMS calls) -> key, alias and table
// of template.yaml -> the demo secrets encrypted with this project's CLI -> an HTTPS upstream
// with mutual TLS -> both functions invoked through the local invoke -> a report. Progress on
// stderr, the report on stdout; everything started is stopped at the end, on failure and on
// Ctrl-C.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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
import { formatDrill, runDrill } from './demo/drill.ts'
import { type FunctionsContext, fetchCalls, itemsCalls, runFunction } from './demo/functions.ts'
import { type DemoReport, formatReport } from './demo/report.ts'
import { encryptSecrets, generateSecrets, writeSecretsForTest } from './demo/secrets.ts'
import { createStack } from './demo/stack.ts'
import { awsEnv, isAwsConfigVariable } from './local/aws-env.ts'
import { startFaultProxy } from './local/fault-proxy.ts'
import { startHttpsServer } from './local/https-server.ts'
import { LOCAL_REGION, startMoto } from './local/moto.ts'
import { createTestPki, spkiPin } from './local/tls.ts'
import { functionsOf, type ResolveScope, readTemplate, resolveValue } from './template.ts'

const ROOT = resolve(import.meta.dirname, '..')
const stderr = (line: string) => process.stderr.write(`${line}\n`)

/** --aws: prints what it creates, then asks (unless --yes). An exit code means stop. */
async function confirmAws(options: DemoOptions): Promise<number | undefined> {
  if (options.mode === 'local') {
    if (process.env.AWS_PROFILE) {
      stderr(
        'npm start: AWS_PROFILE is set, but the demo runs on the local AWS (moto); --aws for real AWS',
      )
    }
    return undefined
  }
  process.stderr.write(awsNotice(process.env.AWS_REGION))
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

/** Stop and remove steps, run last-in first-out, once; returns the failures. */
function createTeardown() {
  const steps: Array<{ what: string; step: () => unknown }> = []
  let running: Promise<string[]> | undefined
  const runAll = async () => {
    const failures: string[] = []
    // A step deferred meanwhile (Ctrl-C mid-start) still runs.
    for (let next = steps.pop(); next; next = steps.pop()) {
      await Promise.resolve()
        .then(next.step)
        .catch((error: Error) => failures.push(`${next.what}: ${error.message}`))
    }
    return failures
  }
  return {
    defer: (what: string, step: () => unknown) => steps.push({ what, step }),
    run: () => {
      running ??= runAll()
      return running
    },
  }
}

async function run(argv: string[]): Promise<number> {
  let options: DemoOptions
  try {
    options = parseDemoArgs(argv)
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
  const { signal } = controller
  const teardown = createTeardown()
  let step = 'starting'
  const begin = (what: string) => {
    signal.throwIfAborted()
    step = what
    progress(`${what}...`)
  }
  // SIGINT / SIGTERM / SIGHUP: abort (children are killed), stop everything, exit 128 + signal.
  // A second signal exits at once (moto's own exit hook still kills its process group).
  const numbers = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }
  const onSignal = (name: keyof typeof numbers) => {
    const code = 128 + numbers[name]
    if (signal.aborted) process.exit(code)
    progress(`interrupted (${name}): stopping everything the demo started`)
    controller.abort(new Error(`interrupted (${name})`))
    void teardown.run().then((failures) => {
      for (const failure of failures) progress(`cleanup: ${failure}`)
      const how =
        failures.length === 0
          ? 'everything it started is stopped'
          : 'some cleanup failed, see above'
      stderr(`npm start interrupted (${name}): ${how}`)
      process.exit(code)
    })
  }
  for (const name of Object.keys(numbers)) process.on(name, onSignal)

  const report: DemoReport = {
    mode: options.mode,
    where: '',
    stackName: '',
    keyAlias: '',
    tableName: '',
    names: {},
    commands: [],
    functions: [],
    upstream: '',
    totalMs: 0,
    failures: [],
  }
  let drill: string[][] | undefined
  let running: Promise<unknown> | undefined // a function run in flight: workDir outlives it
  try {
    const why = await distStaleness(ROOT)
    if (why === undefined) progress('library: dist/ is up to date')
    else {
      begin(`building the library (npm run build: ${why})`)
      const output = await runBuild(ROOT, signal)
      if (options.verbose) process.stderr.write(output)
    }
    const workDir = mkdtempSync(join(tmpdir(), 'kms-secrets-demo-'))
    teardown.defer(`remove ${workDir}`, async () => {
      await running?.catch(() => {})
      rmSync(workDir, { recursive: true, force: true })
    })

    let region = LOCAL_REGION
    let proxyDecrypts: (() => number) | undefined
    if (options.mode === 'aws') {
      begin('checking the AWS configuration')
      region = process.env.AWS_REGION ?? (await new KMSClient({}).config.region())
      process.env.AWS_REGION = region
      // The functions get no HOME: name the config files.
      process.env.AWS_CONFIG_FILE ??= join(process.env.HOME ?? '', '.aws', 'config')
      process.env.AWS_SHARED_CREDENTIALS_FILE ??= join(
        process.env.HOME ?? '',
        '.aws',
        'credentials',
      )
      const profile = process.env.AWS_PROFILE
      report.where = `region ${region}${profile ? `, profile ${profile}` : ''}`
      progress(
        'mode: real AWS (--aws); creates a throwaway key, alias and table, removed at the end',
      )
    } else {
      begin('starting the local AWS (moto) and the fault proxy')
      const moto = await startMoto()
      teardown.defer('stop moto', () => moto.stop())
      signal.throwIfAborted()
      const proxy = await startFaultProxy({ target: moto.endpoint })
      teardown.defer('stop the fault proxy', () => proxy.stop())
      for (const name of Object.keys(process.env).filter(isAwsConfigVariable))
        delete process.env[name]
      Object.assign(process.env, awsEnv(proxy.endpoint))
      progress(`moto answers on 127.0.0.1:${moto.port}, the fault proxy on 127.0.0.1:${proxy.port}`)
      report.where = `moto on 127.0.0.1:${moto.port}, behind the fault proxy on 127.0.0.1:${proxy.port} (it counts the KMS calls)`
      proxyDecrypts = () => proxy.counts()['TrentService.Decrypt'] ?? 0
    }
    const stackName = proxyDecrypts
      ? 'kms-secrets-demo'
      : `kms-secrets-demo-${randomBytes(3).toString('hex')}`
    report.stackName = stackName
    const template = readTemplate(join(ROOT, 'template.yaml'))
    const pseudo = { 'AWS::StackName': stackName, 'AWS::Region': region }
    const ctx: ResolveScope = { template, pseudo, unfixed: 'placeholder' }
    for (const fn of functionsOf(template))
      report.names[fn.logicalId] = String(resolveValue(fn.functionName ?? '', ctx))

    begin('creating the KMS key, its alias and the DynamoDB table (template.yaml)')
    // moto forgets everything when it stops; real AWS needs each resource removed.
    const stack = await createStack(
      template,
      ctx,
      ({ what, undo }) => {
        if (!proxyDecrypts) teardown.defer(what, undo)
      },
      signal,
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

    begin('starting the HTTPS upstream (mutual TLS, bearer token)')
    // Bearer tokens compared as digests: constant time whatever the length.
    const digest = (text: string) => createHash('sha256').update(text).digest()
    const expected = digest(`Bearer ${secrets.apiToken}`)
    const tally = { accepted: 0, rejected: 0 }
    const upstream = await startHttpsServer({
      ...pki.server,
      ca: pki.ca.cert,
      requestCert: true, // with `ca`: no verified client certificate, no handshake
      minVersion: 'TLSv1.2',
      handler: ({ headers, path, tlsVersion, clientCertSubject }) => {
        if (!timingSafeEqual(digest(headers.authorization ?? ''), expected)) {
          tally.rejected++
          return { status: 401, json: { error: 'missing or wrong bearer token' } }
        }
        tally.accepted++
        return { json: { ok: true, path, tls: tlsVersion, client: clientCertSubject ?? null } }
      },
    })
    teardown.defer('stop the HTTPS upstream', () => upstream.stop())
    const caFile = join(workDir, 'upstream-ca.pem')
    writeFileSync(caFile, pki.ca.cert)

    const functions: FunctionsContext = {
      root: ROOT,
      workDir,
      stackName,
      region,
      env: process.env,
      parameterOverrides: {
        DataKeyCiphertext: encrypted.dataKey,
        ApiTokenCiphertext: encrypted.apiToken,
        UpstreamUrl: `${upstream.url}/v1`,
        UpstreamCaFile: caFile,
        UpstreamSpkiPins: spkiPin(pki.server.cert),
        ClientTlsFile: encrypted.clientTlsFile,
        ...(options.drill !== undefined && { SecretsCacheExpiry: String(options.drill) }),
      },
      signal,
      verbose: options.verbose,
      ...(proxyDecrypts && { proxyDecrypts }),
      ...(options.built !== undefined && { built: resolve(options.built) }),
    }
    if (options.drill !== undefined && proxyDecrypts) {
      begin('the drill: both functions under aws-lambda-ric, the key changed step by step')
      const { keyArn } = stack
      running = runDrill({
        functions,
        secrets,
        decrypts: proxyDecrypts,
        keyArn,
        target,
        cacheExpiryMs: options.drill,
        progress,
      })
      drill = (await running) as string[][]
    } else {
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
        running = runFunction(id, calls, functions)
        const result = (await running) as Awaited<ReturnType<typeof runFunction>>
        report.functions.push(result)
        const bad = result.calls
          .filter((call) => !call.ok)
          .map((call) => `${id} ${call.request}: ${call.summary}`)
        report.failures.push(...bad, ...(result.failure ? [`${id}: ${result.failure}`] : []))
        if ((bad.length > 0 || result.failure) && !options.verbose && !signal.aborted) {
          // The functions never log a secret (their contract): their last lines explain.
          const tail = result.logs.trimEnd().split('\n').slice(-20)
          stderr(`--- last lines of ${id}'s output ---\n${tail.join('\n')}\n---`)
        }
      }
      const { accepted, rejected } = tally
      const handshakes = upstream.tlsHandshakes
      const tls =
        [...new Set(upstream.connections.map((c) => c.tlsVersion ?? '?'))].join(', ') ||
        'no handshake'
      report.upstream = `upstream ${upstream.url}: ${accepted} requests with the right bearer token, ${rejected} rejected; mutual TLS (${tls}), ${handshakes} TLS handshake${handshakes === 1 ? '' : 's'} (keep-alive)`
    }
  } catch (error) {
    const message = signal.aborted
      ? (signal.reason as Error).message
      : String((error as Error).message ?? error).split('\n')[0]
    report.failures.push(`${step}: ${message}`)
  }

  progress('stopping everything the demo started')
  for (const failure of await teardown.run()) report.failures.push(`cleanup: ${failure}`)
  for (const name of Object.keys(numbers)) process.off(name, onSignal)
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
