// npm start: the whole product, end to end, on this machine (see HELP in scripts/demo/args.ts).
// Progress on stderr, the report on stdout; everything started is stopped at the end, on
// failure and on Ctrl-C.

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline/promises'
import { KMSClient } from '@aws-sdk/client-kms'
import { awsNotice, type DemoOptions, HELP, isYes, parseDemoArgs } from './demo/args.ts'
import { buildIfStale } from './demo/build.ts'
import { formatDrill, runDrill } from './demo/drill.ts'
import {
  type Demo,
  type FunctionRun,
  fetchCalls,
  itemsCalls,
  runFunction,
} from './demo/functions.ts'
import { encryptedLines, functionLines, summaryLines } from './demo/report.ts'
import { encryptSecrets, generateSecrets, writeSecretsForTest } from './demo/secrets.ts'
import { LOCAL_REGION } from './local/aws-env.ts'
import { createTestPki, spkiPin } from './local/tls.ts'
import { cleanup, createStack, startLocalAws, startUpstream, templateScope } from './local-stack.ts'

const stderr = (line: string) => process.stderr.write(`${line}\n`)

let options: DemoOptions
try {
  options = parseDemoArgs(process.argv.slice(2))
} catch (error) {
  stderr(`npm start: ${(error as Error).message} (see npm start -- --help)`)
  process.exit(2)
}
if (options.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
if (options.mode === 'local' && process.env.AWS_PROFILE) {
  stderr(
    'npm start: AWS_PROFILE is set, but the demo runs on the local AWS (moto); --aws for real AWS',
  )
}
if (options.mode === 'aws') {
  // Prints what it creates, then asks (unless --yes).
  process.stderr.write(awsNotice(process.env.AWS_REGION))
  if (!options.yes && !process.stdin.isTTY) {
    stderr('npm start: --aws asks before creating anything; without a terminal, pass --yes')
    process.exit(2)
  }
  if (!options.yes) {
    const prompt = createInterface({ input: process.stdin, output: process.stderr })
    const answer = await prompt.question('Create them? [y/N] ')
    prompt.close()
    if (!isYes(answer)) {
      stderr('npm start: nothing created')
      process.exit(1)
    }
  }
}

const started = performance.now()
const progress = (line: string) =>
  stderr(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`)
const controller = new AbortController()
const { signal } = controller
let current = 'starting'
const begin = (what: string) => {
  signal.throwIfAborted()
  current = what
  progress(`${what}...`)
}
const { defer, stopAll } = cleanup() // what the demo started
// SIGINT / SIGTERM / SIGHUP: abort (children are killed), stop everything, exit 128 + signal.
// A second signal exits at once (moto's own exit hook still kills its process group).
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }
const onSignal = async (name: keyof typeof SIGNALS) => {
  const code = 128 + SIGNALS[name]
  if (signal.aborted) process.exit(code)
  progress(`interrupted (${name}): stopping everything the demo started`)
  controller.abort(new Error(`interrupted (${name})`))
  const failures = await stopAll()
  for (const failure of failures) progress(`cleanup: ${failure}`)
  const how = failures.length
    ? 'some cleanup failed, see above'
    : 'everything it started is stopped'
  stderr(`npm start interrupted (${name}): ${how}`)
  process.exit(code)
}
for (const name of Object.keys(SIGNALS)) process.on(name, onSignal)

const lines: string[] = [] // the report
const runs: FunctionRun[] = []
const failures: string[] = [] // why the demo failed, one line each
let running: Promise<unknown> | undefined // a function run (or the drill): workDir outlives it

/** Local: moto behind the counting proxy, this process pointed at it only. --aws: the real thing. */
async function startAws() {
  if (options.mode === 'aws') {
    begin('checking the AWS configuration')
    const region = process.env.AWS_REGION ?? (await new KMSClient({}).config.region())
    process.env.AWS_REGION = region
    // The functions get no HOME: name the config files.
    process.env.AWS_CONFIG_FILE ??= join(process.env.HOME ?? '', '.aws', 'config')
    process.env.AWS_SHARED_CREDENTIALS_FILE ??= join(process.env.HOME ?? '', '.aws', 'credentials')
    const profile = process.env.AWS_PROFILE
    const where = `real AWS, region ${region}${profile ? `, profile ${profile}` : ''}`
    progress('mode: real AWS (--aws); creates a throwaway key, alias and table, removed at the end')
    return { region, where }
  }
  begin('starting the local AWS (moto) and the fault proxy')
  const { moto, proxy } = await startLocalAws(defer, true)
  const [at, behind] = [moto.port, proxy?.port].map((port) => `127.0.0.1:${port}`)
  progress(`moto answers on ${at}, the fault proxy on ${behind}`)
  return {
    region: LOCAL_REGION,
    where: `local AWS, moto on ${at}, behind the fault proxy on ${behind} (it counts the KMS calls)`,
    proxyDecrypts: () => proxy?.counts()['TrentService.Decrypt'] ?? 0,
  }
}

/** The steps, in order, into the report; the drill's rows with --drill. */
async function demo(): Promise<string[][] | undefined> {
  await buildIfStale(begin, progress, options.verbose, signal)
  const workDir = mkdtempSync(join(tmpdir(), 'kms-secrets-demo-'))
  defer(`remove ${workDir}`, async () => {
    await running?.catch(() => {})
    rmSync(workDir, { recursive: true, force: true })
  })
  const { region, where, proxyDecrypts } = await startAws()
  const random = proxyDecrypts ? '' : `-${randomBytes(3).toString('hex')}`
  const scope = templateScope(`kms-secrets-demo${random}`, region)
  const { stackName, names } = scope
  begin('creating the KMS key, its alias and the DynamoDB table (template.yaml)')
  // moto forgets everything when it stops; real AWS needs each resource removed.
  const stack = await createStack(scope, proxyDecrypts ? () => {} : defer, signal)
  lines.push(
    `middy-kms-secrets demo: ${where}`,
    `stack ${stackName}: KMS key ${stack.alias}, DynamoDB table ${stack.tableName} (from template.yaml)`,
    '',
  )

  begin('generating the demo secrets and a PKI (CA, server and client certificates)')
  const pki = await createTestPki()
  const client = await pki.issue({ usage: 'client', commonName: 'secure-fetch demo client' })
  const secrets = generateSecrets(client)
  if (process.env.DEMO_SECRETS_OUT) writeSecretsForTest(process.env.DEMO_SECRETS_OUT, secrets)
  const run: Demo = {
    ...{ workDir, stackName, keyAlias: stack.alias, region, parameterOverrides: {}, signal },
    ...{ verbose: options.verbose, progress, ...(proxyDecrypts && { proxyDecrypts }) },
    ...(options.built !== undefined && { built: resolve(options.built) }),
  }
  begin(`encrypting them with kms-secrets (key ${stack.alias})`)
  const encrypted = await encryptSecrets(secrets, run)
  if (options.verbose) process.stderr.write(encrypted.log)
  lines.push(...encryptedLines(stack.alias, names, encrypted.commands))

  begin('starting the HTTPS upstream (mutual TLS, bearer token)')
  const { server, tally, caFile } = await startUpstream(pki, secrets.apiToken, workDir, true)
  defer('stop the HTTPS upstream', () => server.stop())
  const upstream = {
    UpstreamUrl: `${server.url}/v1`,
    UpstreamCaFile: caFile,
    UpstreamSpkiPins: spkiPin(pki.server.cert),
  }
  const summary = () => {
    const tls = [...new Set(server.connections.map((c) => c.tlsVersion))].join(', ')
    const n = server.tlsHandshakes
    return `upstream ${server.url}: ${tally.accepted} requests with the right bearer token, ${tally.rejected} rejected; mutual TLS (${tls || 'no handshake'}), ${n} TLS handshake${n === 1 ? '' : 's'} (keep-alive)`
  }
  const { drill } = options
  const expiry: Record<string, string> = drill ? { SecretsCacheExpiry: `${drill}` } : {}
  run.parameterOverrides = { ...encrypted.parameters, ...upstream, ...expiry }
  if (drill !== undefined && proxyDecrypts) {
    begin('the drill: both functions under aws-lambda-ric, the key changed step by step')
    running = runDrill(run, secrets.items, stack.keyArn, drill)
    return running as Promise<string[][]>
  }
  const plan = {
    SecureItemsFunction: itemsCalls(secrets.items, options.warm),
    SecureFetchFunction: fetchCalls(options.warm),
  }
  for (const [id, calls] of Object.entries(plan)) {
    const how = options.built
      ? `taking ${id} from ${options.built}`
      : `building ${id} (esbuild, template Metadata)`
    begin(`${how} and invoking it ${calls.length} times under aws-lambda-ric`)
    running = runFunction(id, calls, run)
    const done = await (running as ReturnType<typeof runFunction>)
    runs.push(done)
    lines.push(...functionLines(done, names[id], id === 'SecureFetchFunction' ? [summary()] : []))
    const bad = done.calls.filter((c) => !c.ok).map((c) => `${c.request}: ${c.summary}`)
    if (done.failure) bad.push(done.failure)
    failures.push(...bad.map((line) => `${id} ${line}`))
    if (bad.length > 0 && !options.verbose && !signal.aborted) {
      // The functions never log a secret (their contract): their last lines explain.
      const tail = done.logs.trimEnd().split('\n').slice(-20).join('\n')
      stderr(`--- last lines of ${id}'s output ---\n${tail}\n---`)
    }
  }
  return undefined
}

let drill: string[][] | undefined
try {
  drill = await demo()
} catch (error) {
  const message = String(((signal.aborted ? signal.reason : error) as Error).message ?? error)
  failures.push(`${current}: ${message.split('\n')[0]}`)
}
progress('stopping everything the demo started')
for (const failure of await stopAll()) failures.push(`cleanup: ${failure}`)
for (const name of Object.keys(SIGNALS)) process.off(name, onSignal)
const seconds = ((performance.now() - started) / 1000).toFixed(1)
progress('done')

const calls = runs.reduce((n, run) => n + run.calls.length, 0)
const ok = [`OK: ${calls} calls, all as expected, in ${seconds} s`]
lines.push(...summaryLines(runs), ...(failures.length ? failures.map((f) => `FAILED: ${f}`) : ok))
if (drill !== undefined) process.stdout.write(formatDrill(drill, options.drill as number))
else if (lines.length > 1) process.stdout.write(`${lines.join('\n')}\n`)
if (failures.length > 0) {
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''
  stderr(`npm start failed: ${failures[0]}${more}`)
}
process.exitCode = failures.length > 0 ? 1 : 0
// SDK keep-alive sockets (real AWS) must not hold the exit.
setTimeout(() => process.exit(), 200).unref()
