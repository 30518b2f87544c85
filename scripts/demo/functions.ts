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

/** The calls on secure-items: create → get → create → list → ..., from events/*.json. */
export function itemsCalls(root: string, secrets: DemoSecrets, warm: number): Call[] {
  const owner = 'demo'
  const items = secrets.items.map((secret, index) => ({
    owner,
    id: randomUUID(),
    name: `demo item ${index + 1}`,
    secret,
  }))
  const createTemplate = readEvent(root, 'secure-items-create.json')
  const getTemplate = readEvent(root, 'secure-items-get.json')
  const listTemplate = readEvent(root, 'secure-items-list.json')
  const http = (event: Record<string, unknown>, path: string) => ({
    ...(event.requestContext as Record<string, unknown>),
    http: { ...((event.requestContext as { http: object }).http ?? {}), path },
  })
  const create = (item: (typeof items)[number]): Call => ({
    request: 'POST /items',
    event: { ...createTemplate, body: JSON.stringify(item) },
    check: (answer, invocation) => {
      if (!invocation.ok) return failed(invocation)
      const body = parseBody(answer) as { id?: string } | undefined
      const ok = answer?.statusCode === 201 && body?.id === item.id
      return {
        ok,
        summary: ok
          ? `created ${owner}/${short(item.id)}, secret sealed with DATA_KEY ****`
          : `expected 201 with the item's id, ${got(answer)}`,
      }
    },
  })
  const get = (item: (typeof items)[number]): Call => {
    const path = `/items/${owner}/${item.id}`
    return {
      request: `GET /items/${owner}/${short(item.id)}`,
      event: {
        ...getTemplate,
        rawPath: path,
        pathParameters: { owner, id: item.id },
        requestContext: http(getTemplate, path),
      },
      check: (answer, invocation) => {
        if (!invocation.ok) return failed(invocation)
        const body = parseBody(answer) as { secret?: unknown } | undefined
        if (answer?.statusCode !== 200) {
          return { ok: false, summary: `expected 200, ${got(answer)}` }
        }
        const same = body?.secret === item.secret
        return {
          ok: same,
          summary: same
            ? 'secret opened, same as stored (****)'
            : 'the secret read back differs from the one stored',
        }
      },
    }
  }
  const list: Call = {
    request: `GET /items/${owner}`,
    event: {
      ...listTemplate,
      rawPath: `/items/${owner}`,
      pathParameters: { owner },
      requestContext: http(listTemplate, `/items/${owner}`),
    },
    check: (answer, invocation) => {
      if (!invocation.ok) return failed(invocation)
      const body = parseBody(answer) as { items?: Array<Record<string, unknown>> } | undefined
      const listed = body?.items ?? []
      const leaks = listed.some((item) => 'secret' in item)
      const ok = answer?.statusCode === 200 && listed.length > 0 && !leaks
      return {
        ok,
        summary: ok
          ? `${listed.length} item${listed.length === 1 ? '' : 's'} listed, no secret attribute in the list`
          : `expected 200 with items and no secret, ${got(answer)} (${listed.length} items)`,
      }
    },
  }
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
  const plain = readEvent(root, 'secure-fetch-get.json')
  const byId = readEvent(root, 'secure-fetch-get-by-id.json')
  const id = (byId.pathParameters as { id: string }).id
  const call = (event: Record<string, unknown>, request: string, upstreamPath: string): Call => ({
    request,
    event,
    check: (answer, invocation) => {
      if (!invocation.ok) return failed(invocation)
      const body = parseBody(answer) as
        | { ok?: boolean; path?: string; client?: string | null; tls?: string }
        | undefined
      const ok = answer?.statusCode === 200 && body?.ok === true && body.path === upstreamPath
      return {
        ok,
        summary: ok
          ? `upstream ${upstreamPath}: bearer token accepted, ${body?.tls}, client cert "${body?.client}"`
          : `expected 200 from the upstream for ${upstreamPath}, ${got(answer)}`,
      }
    },
  })
  const calls = [
    call(plain, 'GET /fetch', '/v1'),
    call(byId, `GET /fetch/${id}`, `/v1/${id}`),
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
