// npm run invoke: runs a function of template.yaml as Lambda's nodejs runtime does, without
// Docker (see HELP). invoke() is the same as a function, for the demo and tests; its runner,
// runLambda(), also runs the bench's cold starts.

import { spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { isRecord, type Json } from '../cli/src/template/read.ts'
import { isText } from '../cli/src/template/resolve.ts'
import { ricEntry } from './local/ric.ts'
import { type RuntimeOutcome, startRuntimeApi } from './local/runtime-api.ts'
import {
  buildFunction,
  functionsOf,
  type LocalFunction,
  NO_VALUE,
  type ResolveScope,
  readTemplate,
  resolveValue,
  runtimeHandlerFile,
  samconfigValue,
} from './template.ts'

export const HELP = `Usage: npm run invoke -- <LogicalId> [options]

Builds a function of template.yaml with esbuild (its Metadata.BuildProperties) and runs it as
Lambda's nodejs runtime does: aws-lambda-ric (built once per machine into a cache folder) in
a fresh Node process behind a Runtime API on 127.0.0.1, with the template's Handler,
Environment, LoggingConfig, MemorySize and Timeout.

Options:
  -e, --event FILE              event JSON (- for stdin); default {}. Repeated: the events go
                                in turn to one process (a cold start, then warm invocations)
  -n, --env-vars FILE           overrides, sam local's format: {"<LogicalId>" or "Parameters":
                                {"VAR": "value"}}; only variables the template declares
      --parameter-overrides K=V template parameters (repeatable, or "K=V K2=V2")
  -t, --template FILE           default template.yaml
      --stack-name NAME         default samconfig.toml's stack_name
      --region REGION           default $AWS_REGION, then samconfig.toml's, then us-east-1
      --build-dir DIR           default .build beside the template; the bundle: DIR/<LogicalId>/
      --skip-build              run DIR/<LogicalId>/ as it is, e.g. \`sam build\`'s
                                (-t .aws-sam/build/template.yaml --build-dir .aws-sam/build)
      --sam-local               name the function by its logical id, as \`sam local invoke\` does
                                (then set KMS_SECRETS_FUNCTION_NAME in --env-vars)
  -h, --help                    this text

The function also gets what the runtime sets (_HANDLER, LAMBDA_TASK_ROOT,
AWS_LAMBDA_FUNCTION_NAME as deployed, AWS_LAMBDA_LOG_FORMAT / LOG_LEVEL, AWS_REGION, a fresh
_X_AMZN_TRACE_ID per event, ...) and this shell's AWS_* variables (credentials, endpoint).
The context is the runtime client's: a fresh awsRequestId, the template's Timeout counting.

Output: one JSON line per event on stdout (the result, or Lambda's error shape); logs and
START / END / REPORT on stderr. Exit 1: the handler threw or answered 500 or more, INIT
failed or the Timeout passed (no further events then). Exit 2: a bad command line,
template, event, env-vars file or build, or the local stack not ready (.local/env.json
missing: npm run local-stack; this shell not pointing at it: . .local/aws.env; nothing
answering at a loopback AWS_ENDPOINT_URL).
`

/** A problem with the command line or its inputs (exit 2). */
export class InvokeUsageError extends Error {
  override name = 'InvokeUsageError'
}

export interface InvokeOptions {
  logicalId?: string
  events: string[]
  envVars?: string
  parameterOverrides: Record<string, string>
  template: string
  stackName?: string
  region?: string
  buildDir?: string
  skipBuild: boolean
  samLocal: boolean
  help: boolean
}

const ARGS = {
  event: { type: 'string', short: 'e', multiple: true, default: [] as string[] },
  'env-vars': { type: 'string', short: 'n' },
  'parameter-overrides': { type: 'string', multiple: true, default: [] as string[] },
  template: { type: 'string', short: 't', default: 'template.yaml' },
  'stack-name': { type: 'string' },
  region: { type: 'string' },
  'build-dir': { type: 'string' },
  'skip-build': { type: 'boolean', default: false },
  'sam-local': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: ARGS })
  } catch (error) {
    throw new InvokeUsageError(`${(error as Error).message}\nSee npm run invoke -- --help`)
  }
}

export function parseInvokeArgs(argv: string[]): InvokeOptions {
  const { values, positionals } = parse(argv)
  if (positionals.length > 1) {
    throw new InvokeUsageError(`one LogicalId at a time, got: ${positionals.join(' ')}`)
  }
  if (values.event.filter((e) => e === '-').length > 1) {
    throw new InvokeUsageError('-e -: stdin can be read only once')
  }
  const pairs = values['parameter-overrides'].flatMap((chunk) => chunk.split(/\s+/))
  const overrides = pairs.filter(Boolean).map((pair) => {
    const at = pair.indexOf('=')
    if (at <= 0) throw new InvokeUsageError(`--parameter-overrides: "${pair}" is not NAME=value`)
    return [pair.slice(0, at), pair.slice(at + 1)]
  })
  return {
    logicalId: positionals[0],
    events: values.event,
    envVars: values['env-vars'],
    parameterOverrides: Object.fromEntries(overrides),
    template: values.template,
    stackName: values['stack-name'],
    region: values.region,
    buildDir: values['build-dir'],
    skipBuild: values['skip-build'],
    samLocal: values['sam-local'],
    help: values.help,
  }
}

function readJsonFile(cwd: string, path: string, what: string): unknown {
  let text: string | undefined
  try {
    text = readFileSync(path === '-' ? 0 : resolve(cwd, path), 'utf8')
    return JSON.parse(text) as unknown
  } catch (error) {
    const why = (error as Error).message
    throw new InvokeUsageError(
      text === undefined
        ? `cannot read ${what} ${path}: ${why}`
        : `${what} ${path} is not valid JSON: ${why}`,
    )
  }
}

/**
 * The env-vars file's overrides for `fn` (Parameters, then its own entry), as sam local
 * applies them; unlike sam local, anything it would silently ignore is an error.
 */
export function envOverrides(
  data: unknown,
  functions: LocalFunction[],
  fn: LocalFunction,
  source: string,
): Record<string, string> {
  if (!isRecord(data)) {
    throw new InvokeUsageError(`${source}: expected {"<LogicalId>": {"VAR": "value"}, ...}`)
  }
  const ids = functions.map((f) => f.logicalId)
  const problems = Object.entries(data).flatMap(([key, vars]) => {
    if (key !== 'Parameters' && !ids.includes(key)) {
      return `"${key}" is not a function of the template (functions: ${ids.join(', ')}; or "Parameters" for all)`
    }
    if (!isRecord(vars)) return `"${key}" must map variable names to string values`
    const scope = key === 'Parameters' ? functions : functions.filter((f) => f.logicalId === key)
    const declared = new Set(scope.flatMap((f) => Object.keys(f.environment)))
    return Object.entries(vars).flatMap(([name, value]) => {
      if (!declared.has(name)) {
        return `${key}.${name} is not an environment variable of ${key === 'Parameters' ? 'any function' : key} in the template (declared: ${[...declared].join(', ')})`
      }
      return typeof value === 'string'
        ? []
        : `${key}.${name} must be a string, got ${JSON.stringify(value)}`
    })
  })
  if (problems.length > 0) throw new InvokeUsageError(`${source}:\n  ${problems.join('\n  ')}`)
  // Strings only, checked above.
  const own = (vars: Json | undefined) =>
    Object.entries((isRecord(vars) ? vars : {}) as Record<string, string>).filter(([name]) =>
      Object.hasOwn(fn.environment, name),
    )
  return Object.fromEntries([...own(data.Parameters), ...own(data[fn.logicalId])])
}

/** The function's environment: the template's values resolved, then the overrides. */
export function functionEnvironment(
  fn: LocalFunction,
  ctx: ResolveScope,
  overrides: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, raw] of Object.entries(fn.environment)) {
    let value: ReturnType<typeof resolveValue>
    try {
      value = overrides[name] ?? resolveValue(raw, ctx)
    } catch (error) {
      throw new InvokeUsageError(
        `${fn.logicalId}.${name}: ${(error as Error).message} (or set ${name} with --env-vars)`,
      )
    }
    if (value === NO_VALUE) continue
    if (!isText(value)) {
      throw new InvokeUsageError(`${fn.logicalId}.${name} does not resolve to a string`)
    }
    env[name] = String(value)
  }
  return env
}

/** One invocation of the handler (or the failed initialisation). */
export interface Invocation {
  requestId: string
  ok: boolean
  phase: 'init' | 'invoke'
  /** The handler's result, or Lambda's error shape {errorType, errorMessage, trace}. */
  value: unknown
  /** Lambda's Init Duration (of the process) and Duration (of this call). */
  initMs: number
  durationMs: number
  maxRssKb: number
}

export interface InvokeIo {
  cwd: string
  env: NodeJS.ProcessEnv
  log: (line: string) => void
  /** The function's stdout and stderr. */
  logStream: NodeJS.WritableStream
  signal?: AbortSignal
  /** As each result arrives (the process goes on with the next event meanwhile). */
  onInvocation?: (invocation: Invocation, index: number) => void
  /** When the runtime first asks for an event (INIT is over). */
  onInit?: () => void
  /** Awaited before each event is handed over (the drill paces a warm instance with it). */
  beforeEvent?: (index: number) => Promise<void>
}

/** A built function as the runtime starts it: its folder, Handler, settings and environment. */
export interface LambdaFunction {
  dir: string
  handler: string
  name: string
  memorySize: number
  /** Seconds. */
  timeout: number
  env: Record<string, string | undefined>
}

/**
 * Runs `fn` as Lambda's nodejs runtime does: aws-lambda-ric in a fresh process behind the
 * loopback Runtime API, the events in turn, START / END / REPORT logged; stops at a failed INIT,
 * a timeout or an exit. Serves invoke() and the bench's cold starts.
 */
export async function runLambda(
  fn: LambdaFunction,
  events: unknown[],
  io: Omit<InvokeIo, 'cwd' | 'env'>,
): Promise<Invocation[]> {
  const requestIds = events.map(() => randomUUID())
  const region = fn.env.AWS_REGION ?? 'us-east-1'
  const arn = `arn:aws:lambda:${region}:123456789012:function:${fn.name}`
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/')
  const api = await startRuntimeApi()
  const invocations: Invocation[] = []
  const record = (outcome: RuntimeOutcome, initMs: number, durationMs?: number) => {
    const index = invocations.length
    const requestId = requestIds[index] as string
    const value = outcome.ok ? outcome.value : outcome.error
    const invocation: Invocation = {
      requestId,
      ok: outcome.ok,
      phase: durationMs === undefined ? 'init' : 'invoke',
      value,
      initMs,
      durationMs: durationMs ?? 0,
      maxRssKb: peakRssKb(child.pid),
    }
    invocations.push(invocation)
    const init = index === 0 ? `\tInit Duration: ${initMs.toFixed(2)} ms` : ''
    const duration = invocation.durationMs
    io.log(`END RequestId: ${requestId}`)
    io.log(
      `REPORT RequestId: ${requestId}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${Math.ceil(duration)} ms\tMemory Size: ${fn.memorySize} MB\tMax Memory Used: ${Math.round(invocation.maxRssKb / 1024)} MB${init}`,
    )
    io.onInvocation?.(invocation, index)
  }

  // The function's process: aws-lambda-ric, with what Lambda's runtime sets besides.
  const entry = ricEntry(io.log)
  const started = performance.now()
  const child = spawn(process.execPath, [entry], {
    cwd: fn.dir,
    env: {
      ...fn.env,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
      AWS_LAMBDA_RUNTIME_API: api.address,
      LAMBDA_TASK_ROOT: fn.dir,
      _HANDLER: fn.handler,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(io.signal !== undefined && { signal: io.signal, killSignal: 'SIGKILL' as const }),
  })
  child.stdout?.pipe(io.logStream, { end: false })
  child.stderr?.pipe(io.logStream, { end: false })
  const exited = new Promise<RuntimeOutcome>((done) => {
    child.once('error', () => {}) // an abort kills it; 'close' follows
    child.once('close', (code, signal) => {
      const errorMessage = `the function's process exited (${signal ?? `code ${code}`}) before returning`
      done({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage } })
    })
  })
  const errorMessage = `Task timed out after ${fn.timeout.toFixed(2)} seconds`
  const timedOut = { ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage } } as const
  try {
    const init = await Promise.race([api.init, exited])
    const initMs = performance.now() - started
    io.log(`START RequestId: ${requestIds[0]} Version: $LATEST`)
    if (!init.ok) record(init, initMs)
    else io.onInit?.()
    for (const [index, payload] of events.entries()) {
      if (!init.ok) break
      await io.beforeEvent?.(index)
      if (index > 0) io.log(`START RequestId: ${requestIds[index]} Version: $LATEST`)
      const begun = performance.now()
      const timer = new AbortController()
      const outcome: RuntimeOutcome = await Promise.race([
        api.invoke({
          payload,
          requestId: requestIds[index] as string,
          deadlineMs: Date.now() + fn.timeout * 1000,
          invokedFunctionArn: arn,
          // A trace header given by the caller (e.g. Sampled=0) wins, as an upstream would.
          traceId: fn.env._X_AMZN_TRACE_ID ?? traceHeader(),
        }),
        sleep(fn.timeout * 1000, timedOut, { signal: timer.signal }).catch(
          (): RuntimeOutcome => timedOut,
        ),
        exited,
      ])
      timer.abort()
      record(outcome, initMs, performance.now() - begun)
      const error = outcome.ok ? undefined : outcome.error.errorType
      if (error === 'Sandbox.Timedout' || error === 'Runtime.ExitError') break
    }
  } finally {
    // Lambda ends the environment with SIGTERM (then SIGKILL).
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 2000)
    await exited
    clearTimeout(killer)
    await api.close()
  }
  return invocations
}

/** Exit code 1 when INIT or an invocation failed; fewer invocations than events then. */
export async function invoke(options: InvokeOptions, io: InvokeIo) {
  const { fn, events } = await prepare(options, io)
  const invocations = await runLambda(fn, events, io)
  return { exitCode: invocations.every((i) => i.ok) ? 0 : 1, invocations }
}

/** A sampled X-Ray trace header, as Lambda passes it with Tracing: Active. */
function traceHeader(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16)
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`
}

/** The process's peak resident memory (Lambda's Max Memory Used), from /proc on Linux. */
function peakRssKb(pid: number | undefined): number {
  try {
    return Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** Reads the template, events and env-vars; builds the function; its environment as Lambda's. */
async function prepare(options: InvokeOptions, io: InvokeIo) {
  const templatePath = resolve(io.cwd, options.template)
  const root = dirname(templatePath)
  const template = readTemplate(templatePath)
  const functions = functionsOf(template)
  const ids = functions.map((f) => f.logicalId).join(', ')
  if (options.logicalId === undefined) {
    throw new InvokeUsageError(`which function? give a LogicalId: ${ids}`)
  }
  const fn = functions.find((f) => f.logicalId === options.logicalId)
  if (fn === undefined) {
    throw new InvokeUsageError(
      `${options.logicalId} is not a function of ${relative(io.cwd, templatePath) || templatePath} (functions: ${ids})`,
    )
  }
  const unknown = Object.keys(options.parameterOverrides).find(
    (name) => template.Parameters?.[name] === undefined,
  )
  if (unknown !== undefined) {
    throw new InvokeUsageError(`--parameter-overrides: the template has no parameter ${unknown}`)
  }
  const samconfig = join(root, 'samconfig.toml')
  const region =
    options.region ??
    io.env.AWS_REGION ??
    io.env.AWS_DEFAULT_REGION ??
    samconfigValue(samconfig, 'region') ??
    'us-east-1'
  const stackName = options.stackName ?? samconfigValue(samconfig, 'stack_name') ?? 'local'
  const ctx: ResolveScope = {
    template,
    parameters: options.parameterOverrides,
    pseudo: { 'AWS::StackName': stackName, 'AWS::Region': region },
    unfixed: 'placeholder',
  }
  const events = options.events.map((file) => readJsonFile(io.cwd, file, 'event'))
  const { envVars } = options
  const overrides =
    envVars === undefined
      ? {}
      : envOverrides(readJsonFile(io.cwd, envVars, 'env-vars file'), functions, fn, envVars)
  const environment = functionEnvironment(fn, ctx, overrides)
  // A placeholder would only come back as a 500 with the reason in a log line: say it now.
  const placeholders = Object.keys(environment).filter((name) =>
    environment[name]?.startsWith('REPLACE_WITH_'),
  )
  if (placeholders.length > 0) {
    throw new InvokeUsageError(
      `${fn.logicalId}: ${placeholders.join(', ')} ${placeholders.length === 1 ? 'is a placeholder' : 'are placeholders'}${envVars === undefined ? '' : ` (${envVars})`}, not an encrypted value. Against the local AWS: npm run local-stack, then --env-vars .local/env.json; otherwise encrypt one: npx kms-secrets encrypt --template template.yaml --function ${fn.logicalId} ...`,
    )
  }
  const name = options.samLocal ? fn.logicalId : resolveValue(fn.functionName ?? fn.logicalId, ctx)
  if (typeof name !== 'string') {
    throw new InvokeUsageError(`${fn.logicalId}.FunctionName does not resolve to a string`)
  }
  const logging = resolveValue(fn.properties.LoggingConfig ?? {}, ctx)
  const json = isRecord(logging) && logging.LogFormat === 'JSON'
  const buildDir = resolve(io.cwd, options.buildDir ?? join(root, '.build'))
  const outdir = join(buildDir, fn.logicalId)
  const shown = relative(io.cwd, outdir) || outdir
  if (!options.skipBuild) {
    rmSync(outdir, { recursive: true, force: true })
    const started = performance.now()
    await buildFunction(fn, resolve(root, fn.codeUri), outdir).catch((error: Error) => {
      throw new InvokeUsageError(`build of ${fn.logicalId} failed: ${error.message}`)
    })
    io.log(`Built ${fn.logicalId} into ${shown} in ${Math.round(performance.now() - started)} ms`)
  } else if (runtimeHandlerFile(outdir, fn.handler) === undefined) {
    throw new InvokeUsageError(
      `--skip-build: ${shown} holds no module for Handler ${fn.handler} (not built yet?)`,
    )
  }
  // The caller's AWS_* variables (credentials, endpoint), then the function's, then the runtime's.
  const passed = Object.entries(io.env).filter(
    ([variable, value]) =>
      value !== undefined &&
      /^(AWS_|_X_AMZN_TRACE_ID$)/.test(variable) &&
      !/^AWS_(LAMBDA_|EXECUTION_ENV$)/.test(variable),
  )
  const env = {
    PATH: io.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    ...Object.fromEntries(passed),
    ...environment,
    AWS_LAMBDA_LOG_FORMAT: json ? 'JSON' : 'Text',
    ...(json && { AWS_LAMBDA_LOG_LEVEL: String(logging.ApplicationLogLevel ?? 'INFO') }),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime ?? 'nodejs24.x'}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  }
  const { handler, memorySize, timeout } = fn
  const lambda: LambdaFunction = { dir: outdir, handler, name, memorySize, timeout, env }
  return { fn: lambda, events: events.length === 0 ? [{}] : events }
}

/**
 * What the local stack's users get wrong, said in one line before anything runs: its
 * env.json before it was started, a shell not pointing at it, an endpoint nothing answers on.
 */
export async function checkLocalStack(
  envVars: string | undefined,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const path = resolve(cwd, envVars ?? '')
  if (envVars !== undefined && basename(dirname(path)) === '.local') {
    if (!existsSync(path)) {
      throw new InvokeUsageError(
        `${envVars} does not exist: start the local stack first (\`npm run local-stack\` in another shell writes it), then \`. .local/aws.env\` in this one`,
      )
    }
    const awsEnv = join(dirname(path), 'aws.env')
    const stack = existsSync(awsEnv)
      ? /^export AWS_ENDPOINT_URL=(\S+)$/m.exec(readFileSync(awsEnv, 'utf8'))?.[1]
      : undefined
    if (stack !== undefined && env.AWS_ENDPOINT_URL !== stack) {
      throw new InvokeUsageError(
        `this shell does not point at the local stack (it is at ${stack}; AWS_ENDPOINT_URL is ${env.AWS_ENDPOINT_URL ?? 'not set'}): run \`. .local/aws.env\` first`,
      )
    }
  }
  const endpoint = env.AWS_ENDPOINT_URL
  if (endpoint && /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(endpoint)) {
    const url = new URL(endpoint)
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    const socket = connect({ host: url.hostname, port })
    const answers = await once(socket, 'connect', { signal: AbortSignal.timeout(2000) }).then(
      () => true,
      () => false,
    )
    socket.destroy()
    if (!answers) {
      throw new InvokeUsageError(
        `nothing answers at AWS_ENDPOINT_URL ${endpoint}: is \`npm run local-stack\` still running? (started again, it has a new port: \`. .local/aws.env\` again)`,
      )
    }
  }
}

/** An API answer of 500 or more: the function failed, whatever the runtime saw. */
export const serverError = (value: unknown): number | undefined => {
  const status = (value as { statusCode?: unknown } | null)?.statusCode
  return typeof status === 'number' && status >= 500 ? status : undefined
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`)
  try {
    const options = parseInvokeArgs(process.argv.slice(2))
    if (options.help) {
      process.stdout.write(HELP)
      return
    }
    await checkLocalStack(options.envVars, process.cwd(), process.env)
    const io = { cwd: process.cwd(), env: process.env, log, logStream: process.stderr }
    const { exitCode, invocations } = await invoke(options, io)
    process.stdout.write(`${invocations.map((i) => JSON.stringify(i.value)).join('\n')}\n`)
    const failed = invocations.filter((i) => serverError(i.value) !== undefined)
    for (const i of failed) {
      log(
        `invoke: ${options.logicalId} answered ${serverError(i.value)} (request ${i.requestId}): the function's log lines above say why`,
      )
    }
    process.exitCode = failed.length > 0 ? 1 : exitCode
  } catch (error) {
    const known = error instanceof InvokeUsageError || (error as Error).name === 'TemplateError'
    log(`invoke: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}`)
    process.exitCode = 2
  }
}

if (resolve(process.argv[1] ?? '') === import.meta.filename) await main()
