// Both sample functions, built from template.yaml and run through the local invoke
// (scripts/invoke.ts): one process per function, a cold start, then warm invocations.
// Each call's answer is checked here (status, round trips) and summed up in a line that
// holds no secret: the values are compared, never shown.

import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { type Invocation, invoke } from '../invoke.ts'
import type { DemoSecrets } from './secrets.ts'

export interface CallResult {
  /** e.g. 'POST /items' */
  request: string
  cold: boolean
  ok: boolean
  status: number | undefined
  /** One line, no secret in it. */
  summary: string
  initMs: number
  durationMs: number
  /** KMS Decrypt requests seen by the proxy during this call (local mode only). */
  kmsDecrypt: number | undefined
}

export interface FunctionRun {
  logicalId: string
  /** Decrypted values, by name (e.g. 'DATA_KEY'); the report masks them. */
  decrypted: string[]
  calls: CallResult[]
  /** KMS Decrypt requests of the cold start (INIT + first call), counted by the proxy (local mode). */
  proxyDecrypts: number | undefined
  /** Of those, the ones sent during INIT: before the runtime asked for the first event. */
  initDecrypts: number | undefined
  /** KMS Decrypt requests the function's process counted itself (whole process). */
  processDecrypts: number | undefined
  /** The function's logs and the START / REPORT lines. */
  logs: string
  /** Why the invoke itself failed (build, process), if it did. */
  failure?: string
}

export interface Call {
  request: string
  event: unknown
  check: (answer: ApiAnswer | undefined, invocation: Invocation) => { ok: boolean; summary: string }
}

interface ApiAnswer {
  statusCode?: number
  body?: string
}

export interface FunctionsContext {
  root: string
  workDir: string
  stackName: string
  region: string
  env: NodeJS.ProcessEnv
  parameterOverrides: Record<string, string>
  warm: number
  signal: AbortSignal
  verbose: boolean
  /** Decrypt requests the proxy has counted so far (local mode), else undefined. */
  proxyDecrypts: () => number | undefined
  /** A \`sam build\` output folder: run its template and artifacts instead of building. */
  built?: string
  /** Run what workDir/build holds (the drill's second process of a function). */
  skipBuild?: boolean
  /** Awaited before each call; told each call's result (the drill paces warm instances). */
  beforeCall?: (index: number) => Promise<void>
  onCall?: (call: CallResult) => void
}

/** What each function decrypts, by name (the report masks them). */
export const DECRYPTED = {
  SecureItemsFunction: ['DATA_KEY'],
  SecureFetchFunction: ['API_TOKEN', 'CLIENT_TLS_FILE#cert', 'CLIENT_TLS_FILE#key'],
}

const readEvent = (root: string, name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(root, 'events', name), 'utf8')) as Record<string, unknown>

const short = (id: string) => `${id.slice(0, 8)}…`

function parseBody(answer: ApiAnswer | undefined): unknown {
  try {
    return JSON.parse(answer?.body ?? '')
  } catch {
    return undefined
  }
}

/** `502 UPSTREAM_STATUS: the upstream answered HTTP 401`: status and the error body's code and message (the functions' error bodies hold no secret). */
function got(answer: ApiAnswer | undefined): string {
  const body = parseBody(answer) as { code?: unknown; message?: unknown } | undefined
  const detail = [body?.code, body?.message].filter((part) => typeof part === 'string').join(': ')
  return `got ${answer?.statusCode ?? 'no status'}${detail ? ` ${detail}` : ''}`
}

function failed(invocation: Invocation): { ok: false; summary: string } {
  const error = invocation.value as { errorType?: string; errorMessage?: string } | null
  return {
    ok: false,
    summary: `function error ${error?.errorType ?? ''}: ${error?.errorMessage ?? ''}`.trim(),
  }
}

type Body = Record<string, unknown>

/** A call whose answer must have `status` and a body `describe` accepts (its summary). */
function call(
  request: string,
  event: unknown,
  describe: (body: Body) => string | undefined,
  status = 200,
): Call {
  return {
    request,
    event,
    check: (answer, invocation) => {
      if (!invocation.ok) return failed(invocation)
      const body = (parseBody(answer) ?? {}) as Body
      const summary = answer?.statusCode === status ? describe(body) : undefined
      return summary === undefined
        ? { ok: false, summary: `expected ${status}, ${got(answer)}` }
        : { ok: true, summary }
    },
  }
}

/** An event of events/ at another path (the path parameters and rawPath agree). */
function at(template: Body, path: string, pathParameters: Record<string, string>): Body {
  const context = template.requestContext as { http: object }
  return {
    ...template,
    rawPath: path,
    pathParameters,
    requestContext: { ...context, http: { ...context.http, path } },
  }
}

/** The calls on secure-items: create → get → create → list → ..., from events/*.json. */
export function itemsCalls(root: string, secrets: DemoSecrets, warm: number): Call[] {
  const owner = 'demo'
  const items = secrets.items.map((secret, index) => ({
    owner,
    id: randomUUID(),
    name: `demo item ${index + 1}`,
    secret,
  }))
  const create = (item: (typeof items)[number]) =>
    call(
      'POST /items',
      { ...readEvent(root, 'secure-items-create.json'), body: JSON.stringify(item) },
      (body) =>
        body.id === item.id
          ? `created ${owner}/${short(item.id)}, secret sealed with DATA_KEY ****`
          : undefined,
      201,
    )
  const get = (item: (typeof items)[number]) =>
    call(
      `GET /items/${owner}/${short(item.id)}`,
      at(readEvent(root, 'secure-items-get.json'), `/items/${owner}/${item.id}`, {
        owner,
        id: item.id,
      }),
      (body) => (body.secret === item.secret ? 'secret opened, same as stored (****)' : undefined),
    )
  const list = call(
    `GET /items/${owner}`,
    at(readEvent(root, 'secure-items-list.json'), `/items/${owner}`, { owner }),
    (body) => {
      const listed = (body.items ?? []) as Body[]
      return listed.length > 0 && listed.every((item) => !('secret' in item))
        ? `${listed.length} item${listed.length === 1 ? '' : 's'} listed, no secret attribute in the list`
        : undefined
    },
  )
  const [first, second] = items as [(typeof items)[0], (typeof items)[0]]
  const warmCalls = [get(first), create(second), list, get(second)]
  const more = [get(first), list, get(second)]
  return [
    create(first),
    ...Array.from({ length: warm }, (_, i) =>
      i < warmCalls.length
        ? (warmCalls[i] as Call)
        : (more[(i - warmCalls.length) % more.length] as Call),
    ),
  ]
}

/** The calls on secure-fetch: GET /fetch and GET /fetch/{id}, alternately. */
export function fetchCalls(root: string, warm: number): Call[] {
  const byId = readEvent(root, 'secure-fetch-get-by-id.json')
  const id = (byId.pathParameters as { id: string }).id
  const fetch = (event: Body, request: string, upstreamPath: string) =>
    call(request, event, (body) =>
      body.ok === true && body.path === upstreamPath
        ? `upstream ${upstreamPath}: bearer token accepted, ${body.tls}, client cert "${body.client}"`
        : undefined,
    )
  const calls = [
    fetch(readEvent(root, 'secure-fetch-get.json'), 'GET /fetch', '/v1'),
    fetch(byId, `GET /fetch/${id}`, `/v1/${id}`),
  ] as const
  return Array.from({ length: warm + 1 }, (_, i) => calls[i % 2] as Call)
}

class Capture extends Writable {
  text = ''
  readonly echo: boolean
  constructor(echo: boolean) {
    super()
    this.echo = echo
  }
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString('utf8')
    if (this.echo) process.stderr.write(chunk)
    done()
  }
}

/**
 * Builds and invokes one function with `calls` in one process. The function's process loads
 * scripts/demo/kms-counter.ts (NODE_OPTIONS --import) to count its own KMS requests.
 */
export async function runFunction(
  logicalId: string,
  decrypted: string[],
  calls: Call[],
  ctx: FunctionsContext,
): Promise<FunctionRun> {
  const logs = new Capture(ctx.verbose)
  const run: FunctionRun = {
    logicalId,
    decrypted,
    calls: [],
    proxyDecrypts: undefined,
    initDecrypts: undefined,
    processDecrypts: undefined,
    logs: '',
  }
  const eventFiles: string[] = []
  for (const [index, call] of calls.entries()) {
    const file = join(ctx.workDir, `${logicalId}-${index + 1}.json`)
    await writeFile(file, JSON.stringify(call.event))
    eventFiles.push(file)
  }
  const countsFile = join(ctx.workDir, `${logicalId}-kms-counts.json`)
  const counter = new URL('./kms-counter.ts', import.meta.url)
  counter.searchParams.set('out', countsFile)
  const envFile = join(ctx.workDir, `${logicalId}-env.json`)
  // The template's NODE_OPTIONS (Globals) plus the counter.
  await writeFile(
    envFile,
    JSON.stringify({
      [logicalId]: { NODE_OPTIONS: `--enable-source-maps --import=${counter.href}` },
    }),
  )

  const before = ctx.proxyDecrypts()
  let seen = before
  try {
    const result = await invoke(
      {
        logicalId,
        events: eventFiles,
        envVars: envFile,
        parameterOverrides: ctx.parameterOverrides,
        template: ctx.built === undefined ? 'template.yaml' : join(ctx.built, 'template.yaml'),
        stackName: ctx.stackName,
        region: ctx.region,
        buildDir: ctx.built ?? join(ctx.workDir, 'build'),
        skipBuild: ctx.built !== undefined || ctx.skipBuild === true,
        samLocal: false,
        help: false,
      },
      {
        cwd: ctx.root,
        env: ctx.env,
        log: (line) => logs.write(`${line}\n`),
        logStream: logs,
        signal: ctx.signal,
        ...(ctx.beforeCall && { beforeEvent: ctx.beforeCall }),
        onInit: () => {
          const now = ctx.proxyDecrypts()
          run.initDecrypts = now === undefined || seen === undefined ? undefined : now - seen
          seen = now
        },
        onInvocation: (invocation, index) => {
          const now = ctx.proxyDecrypts()
          const kmsDecrypt = now === undefined || seen === undefined ? undefined : now - seen
          seen = now
          const call = calls[index] as Call
          const answer = invocation.ok ? (invocation.value as ApiAnswer) : undefined
          const { ok, summary } = call.check(answer, invocation)
          const result = {
            request: call.request,
            cold: index === 0,
            ok,
            status: answer?.statusCode,
            summary,
            initMs: invocation.initMs,
            durationMs: invocation.durationMs,
            kmsDecrypt,
          }
          run.calls.push(result)
          ctx.onCall?.(result)
        },
      },
    )
    if (result.invocations.length < calls.length) {
      run.failure = `${calls.length - result.invocations.length} of ${calls.length} calls not made: the function's process ended`
    }
  } catch (error) {
    run.failure = (error as Error).message
  }
  run.logs = logs.text
  const first = run.calls[0]?.kmsDecrypt
  run.proxyDecrypts =
    first === undefined || run.initDecrypts === undefined ? undefined : run.initDecrypts + first
  try {
    const counts = JSON.parse(readFileSync(countsFile, 'utf8')) as Record<string, number>
    run.processDecrypts = counts['TrentService.Decrypt'] ?? 0
  } catch {
    run.processDecrypts = undefined
  }
  return run
}
