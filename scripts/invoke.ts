// npm run invoke -- <LogicalId> -e events/x.json [-e events/y.json ...] [--env-vars env.json]
//
// `sam local invoke` for machines without Docker: reads template.yaml (scripts/template.ts),
// builds the function with esbuild from the template's own BuildProperties into
// .build/<LogicalId>/, and runs the BUILT bundle in a fresh Node process with the
// template's environment (parameters from --parameter-overrides, else their Default),
// the --env-vars overrides, the Lambda runtime's variables and a realistic context.
// Several events (-e repeated) are invoked in turn in that one process: one cold start, then
// warm invocations, as in one Lambda execution environment. The result (or the Lambda-style
// error) of each is printed as JSON on stdout, one line each; the function's logs and the
// START / END / REPORT lines go to stderr. `invoke()` is the same thing as a function (used
// by the demo, scripts/demo.ts). Dev tooling: never bundled.

import { spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import {
  buildFunction,
  builtHandlerPath,
  functionsOf,
  NO_VALUE,
  type ResolveContext,
  readTemplate,
  resolveValue,
  type TemplateFunction,
} from './template.ts'

export const HELP = `Usage: npm run invoke -- <LogicalId> [options]

Builds a function of template.yaml with esbuild (its Metadata.BuildProperties) into
.build/<LogicalId>/ and invokes the built handler in a fresh Node process, like
\`sam local invoke\` without Docker.

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
      --skip-build              reuse DIR/<LogicalId>/ from the previous run
  -h, --help                    this text

The function gets the template's Environment, then the env-vars overrides, then the Lambda
runtime's variables (AWS_LAMBDA_FUNCTION_NAME = the template's FunctionName, LAMBDA_TASK_ROOT
= the build folder, ...), plus this shell's AWS_* variables (credentials, AWS_ENDPOINT_URL
for a local endpoint), as sam local passes your credentials. Its context has the real
functionName, a fresh awsRequestId and getRemainingTimeInMillis() counting down the
template's Timeout (module loading, Lambda's INIT, is not counted).

Output: the handler's result as JSON on stdout (exit 0), or Lambda's error shape
{"errorType","errorMessage","trace"} on stdout (exit 1: the handler threw, initialisation
failed or the Timeout passed; after an initialisation failure or a timeout the remaining
events are not invoked). Exit 2: bad command line, template, event or env-vars file, or a
build failure.
`

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
  functions: TemplateFunction[],
  fn: TemplateFunction,
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
  fn: TemplateFunction,
  ctx: ResolveContext,
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

/**
 * The child: loads the handler (INIT), then invokes it with each event of the JSON array on
 * stdin in turn, each with a fresh Lambda-like context; one JSON line per result on fd 3.
 * After an init failure or a timeout it exits (Lambda discards that execution environment).
 */
const RUNNER = `
import { readFileSync, writeSync } from 'node:fs'
const [handlerUrl, exportName, contextJson] = process.argv.slice(-3)
const events = JSON.parse(readFileSync(0, 'utf8')) // stdin: events can be larger than an argument
const spec = JSON.parse(contextJson)
const fail = (error, extra = {}) => ({
  ok: false,
  error: {
    errorType: (error && error.name) || 'Error',
    errorMessage: (error && error.message) || String(error),
    trace: String((error && error.stack) || '').split('\\n'),
  },
  ...extra,
})
const send = (result) => {
  result.maxRssKb = process.resourceUsage().maxRSS
  writeSync(3, JSON.stringify(result) + '\\n')
}
const initStart = performance.now()
let handler
try {
  const mod = await import(handlerUrl)
  handler = mod[exportName]
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(exportName + ' is undefined or not exported'), { name: 'Runtime.HandlerNotFound' })
  }
} catch (error) {
  send(fail(error, { phase: 'init', initMs: performance.now() - initStart }))
  process.exit(0)
}
const initMs = performance.now() - initStart
for (const [index, event] of events.entries()) {
  const deadline = Date.now() + spec.timeoutMs
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: spec.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: spec.invokedFunctionArn,
    memoryLimitInMB: spec.memoryLimitInMB,
    awsRequestId: spec.awsRequestIds[index],
    logGroupName: spec.logGroupName,
    logStreamName: spec.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
  const started = performance.now()
  const timer = setTimeout(() => {
    send({
      ok: false,
      phase: 'invoke',
      initMs,
      durationMs: performance.now() - started,
      error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after ' + (spec.timeoutMs / 1000).toFixed(2) + ' seconds' },
    })
    process.exit(0)
  }, spec.timeoutMs)
  try {
    const result = await handler(event, context)
    clearTimeout(timer)
    send({ ok: true, phase: 'invoke', initMs, durationMs: performance.now() - started, result: result === undefined ? null : result })
  } catch (error) {
    clearTimeout(timer)
    send(fail(error, { phase: 'invoke', initMs, durationMs: performance.now() - started }))
  }
}
process.exit(0)
`

interface RunnerResult {
  ok: boolean
  phase: 'init' | 'invoke'
  initMs?: number
  durationMs?: number
  maxRssKb?: number
  result?: unknown
  error?: { errorType: string; errorMessage: string; trace?: string[] }
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
}

export async function invoke(options: InvokeOptions, io: InvokeIo): Promise<InvokeResult> {
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
  const ctx: ResolveContext = {
    template,
    parameters: options.parameterOverrides,
    pseudo: { 'AWS::StackName': stackName, 'AWS::Region': region },
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
  const functionName = resolveValue(fn.functionName ?? fn.logicalId, ctx)
  if (typeof functionName !== 'string') {
    throw new InvokeUsageError(`${fn.logicalId}.FunctionName does not resolve to a string`)
  }

  // Build exactly what sam build would, from the template's BuildProperties.
  const buildDir =
    options.buildDir === undefined ? join(root, '.build') : resolve(io.cwd, options.buildDir)
  const outdir = join(buildDir, fn.logicalId)
  let handlerFile: string
  if (options.skipBuild) {
    handlerFile = join(outdir, builtHandlerPath(fn))
    if (!existsSync(handlerFile)) {
      throw new InvokeUsageError(`--skip-build: ${relative(io.cwd, handlerFile)} is not built yet`)
    }
  } else {
    rmSync(outdir, { recursive: true, force: true })
    const started = performance.now()
    try {
      handlerFile = (await buildFunction(fn, resolve(root, fn.codeUri), outdir)).handlerFile
    } catch (error) {
      throw new InvokeUsageError(`build of ${fn.logicalId} failed: ${(error as Error).message}`)
    }
    io.log(
      `Built ${fn.logicalId} into ${relative(io.cwd, outdir) || outdir} in ${Math.round(performance.now() - started)} ms`,
    )
  }

  const requestIds = events.map(() => randomUUID())
  const account = '123456789012'
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/')
  const contextSpec = {
    functionName,
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB: String(fn.memorySize),
    awsRequestIds: requestIds,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    timeoutMs: fn.timeout * 1000,
  }
  const runtime = fn.runtime ?? 'nodejs24.x'
  const childEnv: Record<string, string> = {
    PATH: io.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    ...passThrough(io.env),
    ...environment,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: contextSpec.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: contextSpec.logStreamName,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    LAMBDA_TASK_ROOT: outdir,
    _HANDLER: fn.handler,
  }

  const invocations: Invocation[] = []
  const record = (raw: RunnerResult): Invocation => {
    const index = invocations.length
    const requestId = requestIds[index] ?? randomUUID()
    const value = raw.ok ? (raw.result ?? null) : raw.error
    const invocation: Invocation = {
      requestId,
      ok: raw.ok,
      phase: raw.phase,
      value,
      output: JSON.stringify(value),
      initMs: raw.initMs ?? 0,
      durationMs: raw.durationMs ?? 0,
      maxRssKb: raw.maxRssKb ?? 0,
    }
    invocations.push(invocation)
    const duration = invocation.durationMs
    const init = index === 0 ? `\tInit Duration: ${invocation.initMs.toFixed(2)} ms` : ''
    io.log(`END RequestId: ${requestId}`)
    io.log(
      `REPORT RequestId: ${requestId}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${Math.ceil(duration)} ms\tMemory Size: ${fn.memorySize} MB\tMax Memory Used: ${Math.round(invocation.maxRssKb / 1024)} MB${init}`,
    )
    io.onInvocation?.(invocation, index)
    const next = requestIds[index + 1]
    const goesOn = raw.phase === 'invoke' && raw.error?.errorType !== 'Sandbox.Timedout'
    if (goesOn && next !== undefined) io.log(`START RequestId: ${next} Version: $LATEST`)
    return invocation
  }

  io.log(`START RequestId: ${requestIds[0]} Version: $LATEST`)
  await new Promise<void>((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '--eval',
        RUNNER,
        '--',
        pathToFileURL(handlerFile).href,
        fn.handlerExport,
        JSON.stringify(contextSpec),
      ],
      {
        cwd: outdir,
        env: childEnv,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        ...(io.signal !== undefined && { signal: io.signal, killSignal: 'SIGKILL' as const }),
      },
    )
    child.stdin?.on('error', () => {})
    child.stdin?.end(JSON.stringify(events))
    child.stdout?.pipe(io.logStream, { end: false })
    child.stderr?.pipe(io.logStream, { end: false })
    let pending = ''
    const channel = child.stdio[3] as NodeJS.ReadableStream
    channel.setEncoding('utf8')
    channel.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) if (line !== '') record(JSON.parse(line) as RunnerResult)
    })
    child.once('error', (error) => {
      // An abort (io.signal) kills the child; its 'close' still follows.
      if ((error as Error).name !== 'AbortError') reject(error)
    })
    child.once('close', (code, signal) => {
      if (pending.trim() !== '') record(JSON.parse(pending) as RunnerResult)
      const last = invocations.at(-1)
      const ended =
        last !== undefined &&
        (last.phase === 'init' ||
          (last.value as { errorType?: string } | null)?.errorType === 'Sandbox.Timedout')
      if (!ended && invocations.length < events.length) {
        record({
          ok: false,
          phase: 'invoke',
          error: {
            errorType: 'Runtime.ExitError',
            errorMessage: `the function's process exited (${signal ?? `code ${code}`}) before returning`,
          },
        })
      }
      resolvePromise()
    })
  })
  return {
    exitCode: invocations.every((i) => i.ok) ? 0 : 1,
    output: invocations.map((i) => i.output).join('\n'),
    invocations,
  }
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`)
  try {
    const options = parseInvokeArgs(process.argv.slice(2))
    if (options.help) {
      process.stdout.write(HELP)
      return
    }
    const { exitCode, output } = await invoke(options, {
      cwd: process.cwd(),
      env: process.env,
      log,
      logStream: process.stderr,
    })
    if (output !== undefined) process.stdout.write(`${output}\n`)
    process.exitCode = exitCode
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
