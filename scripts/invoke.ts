// npm run invoke -- <LogicalId> -e events/x.json [-e events/y.json ...] [--env-vars env.json]
//
// Runs a function of template.yaml the way Lambda's nodejs runtime does, without Docker:
// builds it with esbuild from the template's own BuildProperties into .build/<LogicalId>/
// (or takes a \`sam build\` output with --skip-build), then starts aws-lambda-ric (the Runtime
// Interface Client Lambda's Node runtime is built on) in a fresh Node process, with the
// template's Handler, environment and LoggingConfig and the variables the runtime sets, behind
// a loopback Runtime API (scripts/local/runtime-api.ts) that hands it the events. Several
// events (-e repeated) go to that one process in turn: one cold start, then warm invocations.
// The result (or Lambda's error shape) of each is printed as JSON on stdout, one line each;
// the function's logs and the START / END / REPORT lines go to stderr. \`invoke()\` is the same
// thing as a function (used by the demo, scripts/demo.ts). Dev tooling: never bundled.

import { spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
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
} from './template.ts'

export const HELP = `Usage: npm run invoke -- <LogicalId> [options]

Builds a function of template.yaml with esbuild (its Metadata.BuildProperties) into
.build/<LogicalId>/ and runs it as Lambda's nodejs runtime does: aws-lambda-ric (installed
once per machine into a cache folder) in a fresh Node process, with the template's Handler,
behind a Runtime API on 127.0.0.1.

Options:
  -e, --event FILE              event JSON (- for stdin); default {}. Repeat it to invoke
                                several events in turn in the same process: a cold start,
                                then warm invocations (stdout: one JSON line per event)
  -n, --env-vars FILE           environment overrides, sam local's format:
                                {"<LogicalId>": {"VAR": "value"}, "Parameters": {"VAR": "value"}}
                                (only variables the template declares; anything else is an error)
      --parameter-overrides K=V template parameter values (repeatable, or "K=V K2=V2");
                                other parameters take their Default
  -t, --template FILE           default template.yaml
      --stack-name NAME         \${AWS::StackName}; default samconfig.toml's stack_name
      --region REGION           \${AWS::Region} and AWS_REGION; default $AWS_REGION, then
                                samconfig.toml's region, then us-east-1
      --build-dir DIR           default .build (beside the template); the bundle goes to
                                DIR/<LogicalId>/
      --skip-build              run DIR/<LogicalId>/ as it is: the previous run's build, or
                                \`sam build\`'s (-t .aws-sam/build/template.yaml --build-dir .aws-sam/build)
      --sam-local               name the function as \`sam local invoke\` does: its logical id
                                (then set KMS_SECRETS_FUNCTION_NAME in --env-vars to the name the
                                values were encrypted for)
  -h, --help                    this text

The function gets the template's Environment, then the env-vars overrides, then what the
nodejs runtime sets: _HANDLER (the template's Handler), LAMBDA_TASK_ROOT (the build folder),
AWS_LAMBDA_FUNCTION_NAME (the template's FunctionName as deployed; the logical id with
--sam-local), AWS_LAMBDA_FUNCTION_VERSION / MEMORY_SIZE, AWS_LAMBDA_LOG_FORMAT and
AWS_LAMBDA_LOG_LEVEL from LoggingConfig, AWS_REGION, TZ, a fresh _X_AMZN_TRACE_ID per
invocation, plus this shell's AWS_* variables (credentials, AWS_ENDPOINT_URL for a local
endpoint). The context is the runtime client's own: a fresh awsRequestId and
getRemainingTimeInMillis() counting down the template's Timeout from each event.

Output: the handler's result as JSON on stdout (exit 0; exit 1 when it is an API answer
with a statusCode of 500 or more), or Lambda's error shape {"errorType","errorMessage",
"trace"} on stdout (exit 1: the handler threw, initialisation failed or the Timeout passed;
after an initialisation failure or a timeout the remaining events are not invoked). Exit 2:
bad command line, template, event or env-vars file, a build failure, or the local stack
not ready: .local/env.json missing (start npm run local-stack), this shell not pointing at
it (. .local/aws.env), nothing answering at a loopback AWS_ENDPOINT_URL.
`

/** The placeholders of env.json ("REPLACE_WITH_CIPHERTEXT_..."). */
const PLACEHOLDER = /^REPLACE_WITH_/

/** A problem with the command line or its inputs (exit 2). */
export class InvokeUsageError extends Error {
  override name = 'InvokeUsageError'
}

export interface InvokeOptions {
  logicalId?: string
  /** Event files, invoked in turn in one process; none: one invocation with {}. */
  events: string[]
  envVars?: string
  parameterOverrides: Record<string, string>
  template: string
  stackName?: string
  region?: string
  buildDir?: string
  skipBuild: boolean
  /** Name the function by its logical id, as \`sam local invoke\` does. */
  samLocal: boolean
  help: boolean
}

export function parseInvokeArgs(argv: string[]): InvokeOptions {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        event: { type: 'string', short: 'e', multiple: true },
        'env-vars': { type: 'string', short: 'n' },
        'parameter-overrides': { type: 'string', multiple: true },
        template: { type: 'string', short: 't' },
        'stack-name': { type: 'string' },
        region: { type: 'string' },
        'build-dir': { type: 'string' },
        'skip-build': { type: 'boolean' },
        'sam-local': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    throw new InvokeUsageError(`${(error as Error).message}\nSee npm run invoke -- --help`)
  }
  const { values, positionals } = parsed
  if (positionals.length > 1) {
    throw new InvokeUsageError(`one LogicalId at a time, got: ${positionals.join(' ')}`)
  }
  const overrides: Record<string, string> = {}
  for (const chunk of (values['parameter-overrides'] as string[] | undefined) ?? []) {
    for (const pair of chunk.split(/\s+/).filter(Boolean)) {
      const at = pair.indexOf('=')
      if (at <= 0) throw new InvokeUsageError(`--parameter-overrides: "${pair}" is not NAME=value`)
      overrides[pair.slice(0, at)] = pair.slice(at + 1)
    }
  }
  const str = (name: string): string | undefined => values[name] as string | undefined
  const events = (values.event as string[] | undefined) ?? []
  if (events.filter((e) => e === '-').length > 1) {
    throw new InvokeUsageError('-e -: stdin can be read only once')
  }
  const options: InvokeOptions = {
    events,
    parameterOverrides: overrides,
    template: str('template') ?? 'template.yaml',
    skipBuild: values['skip-build'] === true,
    samLocal: values['sam-local'] === true,
    help: values.help === true,
  }
  const set = (key: 'logicalId' | 'envVars' | 'stackName' | 'region' | 'buildDir', v?: string) => {
    if (v !== undefined) options[key] = v
  }
  set('logicalId', positionals[0])
  set('envVars', str('env-vars'))
  set('stackName', str('stack-name'))
  set('region', str('region'))
  set('buildDir', str('build-dir'))
  return options
}

/** `key = "value"` of `[section]` in a samconfig.toml (the few keys this script reads). */
export function samconfigValue(path: string, key: string, env = 'default'): string | undefined {
  if (!existsSync(path)) return undefined
  const sections = [`${env}.deploy.parameters`, `${env}.global.parameters`]
  let section = ''
  const found = new Map<string, string>()
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim()
    const header = /^\[([^\]]+)\]$/.exec(line)
    if (header) {
      section = header[1] ?? ''
      continue
    }
    const pair = /^([A-Za-z0-9_]+)\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(line)
    if (pair && pair[1] === key && sections.includes(section) && !found.has(section)) {
      found.set(section, pair[2] ?? '')
    }
  }
  for (const s of sections) if (found.has(s)) return found.get(s)
  return undefined
}

function readJsonFile(path: string, what: string): unknown {
  let text: string
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8')
  } catch (error) {
    throw new InvokeUsageError(`cannot read ${what} ${path}: ${(error as Error).message}`)
  }
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new InvokeUsageError(`${what} ${path} is not valid JSON: ${(error as Error).message}`)
  }
}

/**
 * Checks an env-vars file against the template and returns the overrides for `fn`
 * (Parameters first, then the function's own entry), as sam local applies them. Unlike
 * sam local, anything that would be silently ignored is an error.
 */
export function envOverrides(
  data: unknown,
  functions: LocalFunction[],
  fn: LocalFunction,
  source: string,
): Record<string, string> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InvokeUsageError(`${source}: expected {"<LogicalId>": {"VAR": "value"}, ...}`)
  }
  const ids = functions.map((f) => f.logicalId)
  const problems: string[] = []
  for (const [key, vars] of Object.entries(data)) {
    const target = functions.find((f) => f.logicalId === key)
    if (key !== 'Parameters' && target === undefined) {
      problems.push(
        `"${key}" is not a function of the template (functions: ${ids.join(', ')}; or "Parameters" for all)`,
      )
      continue
    }
    if (vars === null || typeof vars !== 'object' || Array.isArray(vars)) {
      problems.push(`"${key}" must map variable names to string values`)
      continue
    }
    const declared = target
      ? Object.keys(target.environment)
      : functions.flatMap((f) => Object.keys(f.environment))
    for (const [name, value] of Object.entries(vars as Record<string, unknown>)) {
      if (!declared.includes(name)) {
        problems.push(
          `${key}.${name} is not an environment variable of ${target ? key : 'any function'} in the template (declared: ${[...new Set(declared)].join(', ')})`,
        )
      } else if (typeof value !== 'string') {
        problems.push(`${key}.${name} must be a string, got ${JSON.stringify(value)}`)
      }
    }
  }
  if (problems.length > 0) throw new InvokeUsageError(`${source}:\n  ${problems.join('\n  ')}`)
  const record = data as Record<string, Record<string, string>>
  const own = Object.keys(fn.environment)
  const fromParameters = Object.fromEntries(
    Object.entries(record.Parameters ?? {}).filter(([name]) => own.includes(name)),
  )
  return { ...fromParameters, ...(record[fn.logicalId] ?? {}) }
}

/** The function's environment: template values resolved, then the overrides. */
export function functionEnvironment(
  fn: LocalFunction,
  ctx: ResolveScope,
  overrides: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, raw] of Object.entries(fn.environment)) {
    const override = overrides[name]
    if (override !== undefined) {
      env[name] = override
      continue
    }
    let value: ReturnType<typeof resolveValue>
    try {
      value = resolveValue(raw, ctx)
    } catch (error) {
      throw new InvokeUsageError(
        `${fn.logicalId}.${name}: ${(error as Error).message} (or set ${name} with --env-vars)`,
      )
    }
    if (value === NO_VALUE) continue
    if (value === null || typeof value === 'object') {
      throw new InvokeUsageError(`${fn.logicalId}.${name} does not resolve to a string`)
    }
    env[name] = String(value)
  }
  return env
}

/** Variables of the caller passed through: AWS credentials, region, local endpoint. */
function passThrough(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (
      value !== undefined &&
      (/^AWS_/.test(name) || name === '_X_AMZN_TRACE_ID') &&
      !/^AWS_LAMBDA_|^AWS_EXECUTION_ENV$/.test(name)
    ) {
      out[name] = value
    }
  }
  return out
}

/** One invocation of the handler (or the failed initialisation). */
export interface Invocation {
  requestId: string
  ok: boolean
  phase: 'init' | 'invoke'
  /** The handler's result, or Lambda's error shape {errorType, errorMessage, trace}. */
  value: unknown
  /** `value` as JSON (what the CLI prints). */
  output: string
  /** Module load (Lambda's Init Duration) of the process; reported on the first invocation. */
  initMs: number
  /** The handler's run time (Lambda's Duration). */
  durationMs: number
  maxRssKb: number
}

export interface InvokeResult {
  /** 0 every handler call returned, 1 a function error, 2 could not invoke. */
  exitCode: 0 | 1 | 2
  /** What goes to stdout (one JSON document per invocation, one per line). */
  output?: string
  /** In order; fewer than the events when initialisation failed or a timeout ended the process. */
  invocations: Invocation[]
}

export interface InvokeIo {
  cwd: string
  env: NodeJS.ProcessEnv
  log: (line: string) => void
  /** Where the child's stdout and stderr go (the function's logs). */
  logStream: NodeJS.WritableStream
  /** Aborting it kills the function's process (SIGKILL). */
  signal?: AbortSignal
  /**
   * Called as each result arrives from the function's process (which goes on with the next
   * event meanwhile), e.g. to read a request counter between a cold and a warm invocation.
   */
  onInvocation?: (invocation: Invocation, index: number) => void
  /** Called when the runtime first asks for an event (INIT is over), before it gets one. */
  onInit?: () => void
  /** Awaited before each event is handed over (the drill paces a warm instance with it). */
  beforeEvent?: (index: number) => Promise<void>
}

/** The function as this run names, configures and builds it, and the events it gets. */
interface Prepared {
  fn: LocalFunction
  region: string
  functionName: string
  /** The template's Environment resolved, then the env-vars overrides. */
  environment: Record<string, string>
  logLevels: Record<string, string>
  events: unknown[]
  /** The build: LAMBDA_TASK_ROOT. */
  outdir: string
}

/** Reads the template, events and env-vars, resolves the function's settings and builds it. */
async function prepare(options: InvokeOptions, io: InvokeIo): Promise<Prepared> {
  const templatePath = resolve(io.cwd, options.template)
  const root = dirname(templatePath)
  const template = readTemplate(templatePath)
  const functions = functionsOf(template)
  const ids = functions.map((f) => f.logicalId)
  if (options.logicalId === undefined) {
    throw new InvokeUsageError(`which function? give a LogicalId: ${ids.join(', ')}`)
  }
  const fn = functions.find((f) => f.logicalId === options.logicalId)
  if (fn === undefined) {
    throw new InvokeUsageError(
      `${options.logicalId} is not a function of ${relative(io.cwd, templatePath) || templatePath} (functions: ${ids.join(', ')})`,
    )
  }
  const samconfig = join(root, 'samconfig.toml')
  const stackName = options.stackName ?? samconfigValue(samconfig, 'stack_name') ?? 'local'
  const region =
    options.region ??
    io.env.AWS_REGION ??
    io.env.AWS_DEFAULT_REGION ??
    samconfigValue(samconfig, 'region') ??
    'us-east-1'
  for (const name of Object.keys(options.parameterOverrides)) {
    if (template.Parameters?.[name] === undefined) {
      throw new InvokeUsageError(`--parameter-overrides: the template has no parameter ${name}`)
    }
  }
  const ctx: ResolveScope = {
    template,
    parameters: options.parameterOverrides,
    pseudo: { 'AWS::StackName': stackName, 'AWS::Region': region },
    unfixed: 'placeholder',
  }
  const events =
    options.events.length === 0
      ? [{}]
      : options.events.map((file) => readJsonFile(resolve(io.cwd, file), 'event'))
  const overrides =
    options.envVars === undefined
      ? {}
      : envOverrides(
          readJsonFile(resolve(io.cwd, options.envVars), 'env-vars file'),
          functions,
          fn,
          options.envVars,
        )
  const environment = functionEnvironment(fn, ctx, overrides)
  // A placeholder would only come back as a 500 with the reason in a log line: say it now.
  const placeholders = Object.keys(environment).filter((name) =>
    PLACEHOLDER.test(environment[name] ?? ''),
  )
  if (placeholders.length > 0) {
    throw new InvokeUsageError(
      `${fn.logicalId}: ${placeholders.join(', ')} ${placeholders.length === 1 ? 'is a placeholder' : 'are placeholders'}${options.envVars === undefined ? '' : ` (${options.envVars})`}, not an encrypted value. Against the local AWS: npm run local-stack, then --env-vars .local/env.json; otherwise encrypt one: npx kms-secrets encrypt --template template.yaml --function ${fn.logicalId} ...`,
    )
  }
  const functionName = options.samLocal
    ? fn.logicalId
    : resolveValue(fn.functionName ?? fn.logicalId, ctx)
  if (typeof functionName !== 'string') {
    throw new InvokeUsageError(`${fn.logicalId}.FunctionName does not resolve to a string`)
  }
  const buildDir =
    options.buildDir === undefined ? join(root, '.build') : resolve(io.cwd, options.buildDir)
  const outdir = join(buildDir, fn.logicalId)
  await buildOrFind(fn, resolve(root, fn.codeUri), outdir, options.skipBuild, io)
  const levels = logLevels(fn, ctx)
  return { fn, region, functionName, environment, logLevels: levels, events, outdir }
}

/** Builds exactly what sam build would, from the template's BuildProperties (or --skip-build). */
async function buildOrFind(
  fn: LocalFunction,
  codeRoot: string,
  outdir: string,
  skipBuild: boolean,
  io: InvokeIo,
): Promise<void> {
  const shown = relative(io.cwd, outdir) || outdir
  if (skipBuild) {
    if (runtimeHandlerFile(outdir, fn.handler) !== undefined) return
    throw new InvokeUsageError(
      `--skip-build: ${shown} holds no module for Handler ${fn.handler} (not built yet?)`,
    )
  }
  rmSync(outdir, { recursive: true, force: true })
  const started = performance.now()
  try {
    await buildFunction(fn, codeRoot, outdir)
  } catch (error) {
    throw new InvokeUsageError(`build of ${fn.logicalId} failed: ${(error as Error).message}`)
  }
  io.log(`Built ${fn.logicalId} into ${shown} in ${Math.round(performance.now() - started)} ms`)
}

/** What the nodejs24.x runtime sets (the Runtime API's address is this process's server). */
function runtimeEnv(p: Prepared, io: InvokeIo, runtimeApi: string): Record<string, string> {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/')
  return {
    PATH: io.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    ...passThrough(io.env),
    ...p.environment,
    ...p.logLevels,
    AWS_REGION: p.region,
    AWS_DEFAULT_REGION: p.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${p.fn.runtime ?? 'nodejs24.x'}`,
    AWS_LAMBDA_FUNCTION_NAME: p.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(p.fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${p.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_RUNTIME_API: runtimeApi,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    LAMBDA_TASK_ROOT: p.outdir,
    _HANDLER: p.fn.handler,
  }
}

/** Resolves with Lambda's timeout error after the function's Timeout; clear() cancels it. */
function timeoutOf(fn: LocalFunction) {
  let timer: NodeJS.Timeout | undefined
  const promise = new Promise<RuntimeOutcome>((resolveTimeout) => {
    timer = setTimeout(() => {
      const errorMessage = `Task timed out after ${fn.timeout.toFixed(2)} seconds`
      resolveTimeout({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage } })
    }, fn.timeout * 1000)
  })
  return { promise, clear: () => clearTimeout(timer) }
}

export async function invoke(options: InvokeOptions, io: InvokeIo): Promise<InvokeResult> {
  const p = await prepare(options, io)
  const { fn } = p
  const requestIds = p.events.map(() => randomUUID())
  const invokedFunctionArn = `arn:aws:lambda:${p.region}:123456789012:function:${p.functionName}`
  const api = await startRuntimeApi()
  const invocations: Invocation[] = []
  const record = (
    outcome: RuntimeOutcome,
    phase: Invocation['phase'],
    initMs: number,
    durationMs: number,
  ) => {
    const index = invocations.length
    const requestId = requestIds[index] ?? randomUUID()
    const value = outcome.ok ? outcome.value : outcome.error
    const maxRssKb = peakRssKb(child.pid)
    const invocation = {
      requestId,
      ok: outcome.ok,
      phase,
      value,
      output: JSON.stringify(value),
      initMs,
      durationMs,
      maxRssKb,
    }
    invocations.push(invocation)
    const init = index === 0 ? `\tInit Duration: ${initMs.toFixed(2)} ms` : ''
    io.log(`END RequestId: ${requestId}`)
    io.log(
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\tMemory Size: ${fn.memorySize} MB\tMax Memory Used: ${Math.round(maxRssKb / 1024)} MB${init}`,
    )
    io.onInvocation?.(invocation, index)
  }

  // The function's process: aws-lambda-ric, as Lambda's nodejs runtime starts it.
  const entry = ricEntry(io.log)
  const started = performance.now()
  const child = spawn(process.execPath, [entry], {
    cwd: p.outdir,
    env: runtimeEnv(p, io, api.address),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(io.signal !== undefined && { signal: io.signal, killSignal: 'SIGKILL' as const }),
  })
  child.stdout?.pipe(io.logStream, { end: false })
  child.stderr?.pipe(io.logStream, { end: false })
  const exited = new Promise<RuntimeOutcome>((resolveExit) => {
    child.once('error', () => {}) // an abort kills it; 'close' follows
    child.once('close', (code, signal) => {
      const errorMessage = `the function's process exited (${signal ?? `code ${code}`}) before returning`
      resolveExit({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage } })
    })
  })
  try {
    const init = await Promise.race([api.init, exited])
    const initMs = performance.now() - started
    io.log(`START RequestId: ${requestIds[0]} Version: $LATEST`)
    if (!init.ok) record(init, 'init', initMs, 0)
    else {
      io.onInit?.()
      for (const [index, payload] of p.events.entries()) {
        await io.beforeEvent?.(index)
        if (index > 0) io.log(`START RequestId: ${requestIds[index]} Version: $LATEST`)
        const begun = performance.now()
        const timeout = timeoutOf(fn)
        const outcome = await Promise.race([
          api.invoke({
            payload,
            requestId: requestIds[index] as string,
            deadlineMs: Date.now() + fn.timeout * 1000,
            invokedFunctionArn,
            // A trace header given by the caller (e.g. Sampled=0) wins, as an upstream would.
            traceId: io.env._X_AMZN_TRACE_ID ?? traceHeader(),
          }),
          timeout.promise,
          exited,
        ])
        timeout.clear()
        record(outcome, 'invoke', initMs, performance.now() - begun)
        const error = outcome.ok ? undefined : outcome.error.errorType
        if (error === 'Sandbox.Timedout' || error === 'Runtime.ExitError') break
      }
    }
  } finally {
    // Lambda ends the environment with SIGTERM (then SIGKILL).
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 2000)
    await exited
    clearTimeout(killer)
    await api.close()
  }
  return {
    exitCode: invocations.every((i) => i.ok) ? 0 : 1,
    output: invocations.map((i) => i.output).join('\n'),
    invocations,
  }
}

/** AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL, as Lambda sets them from LoggingConfig. */
export function logLevels(fn: LocalFunction, ctx: ResolveScope): Record<string, string> {
  const config = resolveValue(fn.properties.LoggingConfig ?? {}, ctx) as Record<string, unknown>
  if (config === null || typeof config !== 'object' || config.LogFormat !== 'JSON') {
    return { AWS_LAMBDA_LOG_FORMAT: 'Text' }
  }
  return {
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_LOG_LEVEL: String(config.ApplicationLogLevel ?? 'INFO'),
  }
}

/** A sampled X-Ray trace header, as Lambda passes it with Tracing: Active. */
function traceHeader(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16)
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`
}

/** The process's peak resident memory (Lambda's Max Memory Used), from /proc on Linux. */
function peakRssKb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0)
  } catch {
    return 0
  }
}

/**
 * Before anything runs, what the local stack's users get wrong: its env.json before it was
 * started, a shell that does not point at it (`. .local/aws.env`), an endpoint nothing answers
 * on (the stack stopped). Each is one line and exit 2, instead of a 500 whose cause is in a log.
 */
export async function checkLocalStack(
  envVars: string | undefined,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const path = envVars === undefined ? undefined : resolve(cwd, envVars)
  if (path !== undefined && basename(dirname(path)) === '.local') {
    if (!existsSync(path)) {
      throw new InvokeUsageError(
        `${envVars} does not exist: start the local stack first (\`npm run local-stack\` in another shell writes it), then \`. .local/aws.env\` in this one`,
      )
    }
    const awsEnvFile = join(dirname(path), 'aws.env')
    const stack = existsSync(awsEnvFile)
      ? /^export AWS_ENDPOINT_URL=(\S+)$/m.exec(readFileSync(awsEnvFile, 'utf8'))?.[1]
      : undefined
    if (stack !== undefined && env.AWS_ENDPOINT_URL !== stack) {
      throw new InvokeUsageError(
        `this shell does not point at the local stack (it is at ${stack}; AWS_ENDPOINT_URL is ${env.AWS_ENDPOINT_URL ?? 'not set'}): run \`. .local/aws.env\` first`,
      )
    }
  }
  const endpoint = env.AWS_ENDPOINT_URL
  if (endpoint !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(endpoint)) {
    if (!(await answers(new URL(endpoint)))) {
      throw new InvokeUsageError(
        `nothing answers at AWS_ENDPOINT_URL ${endpoint}: is \`npm run local-stack\` still running? (started again, it has a new port: \`. .local/aws.env\` again)`,
      )
    }
  }
}

/** Whether a TCP connection to the URL's host and port opens. */
const answers = (url: URL): Promise<boolean> =>
  new Promise((done) => {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    const socket = connect({ host: url.hostname, port, timeout: 2000 })
    const end = (ok: boolean) => {
      socket.destroy()
      done(ok)
    }
    socket.once('connect', () => end(true))
    socket.once('error', () => end(false))
    socket.once('timeout', () => end(false))
  })

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
    const { exitCode, output, invocations } = await invoke(options, {
      cwd: process.cwd(),
      env: process.env,
      log,
      logStream: process.stderr,
    })
    if (output !== undefined) process.stdout.write(`${output}\n`)
    const failed = invocations.filter((i) => serverError(i.value) !== undefined)
    for (const i of failed) {
      log(
        `invoke: ${options.logicalId} answered ${serverError(i.value)} (request ${i.requestId}): the function's log lines above say why`,
      )
    }
    process.exitCode = exitCode === 0 && failed.length > 0 ? 1 : exitCode
  } catch (error) {
    const known = error instanceof InvokeUsageError || (error as Error).name === 'TemplateError'
    log(`invoke: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}`)
    process.exitCode = 2
  }
}

if (
  process.argv[1] !== undefined &&
  resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)
) {
  await main()
}
