// Both sample functions, built from template.yaml and run through the local invoke
// (scripts/invoke.ts): one process per function, a cold start, then warm invocations. Each
// answer is summed up in a line that holds no secret: values are compared, never shown.

import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { invoke } from '../invoke.ts'
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
  /** KMS Decrypt requests the proxy saw during this call (local AWS only). */
  kmsDecrypt: number | undefined
}

export interface FunctionRun {
  logicalId: string
  /** Decrypted values, by name (e.g. 'DATA_KEY'); the report masks them. */
  decrypted: string[]
  calls: CallResult[]
  /** KMS Decrypt requests the proxy saw during INIT (local AWS only). */
  initDecrypts: number | undefined
  /** KMS Decrypt requests the function's process counted itself (--aws). */
  processDecrypts: number | undefined
  /** The function's logs and the START / REPORT lines. */
  logs: string
  /** Why the invoke itself failed (build, process), if it did. */
  failure?: string
}

type Body = Record<string, unknown>

/** A call, whose answer must have `status` and a body `describe` accepts (its summary). */
export interface Call {
  request: string
  event: Body
  describe: (body: Body) => string | undefined
  status?: number
}

export interface FunctionsContext {
  root: string
  workDir: string
  stackName: string
  region: string
  env: NodeJS.ProcessEnv
  parameterOverrides: Record<string, string>
  signal: AbortSignal
  verbose: boolean
  /** Decrypt requests the proxy has counted so far (local AWS); else the process counts. */
  proxyDecrypts?: () => number
  /** A \`sam build\` output folder: run its template and artifacts instead of building. */
  built?: string
  /** Run what workDir/build holds (the drill's later processes of a function). */
  skipBuild?: boolean
  /** Awaited before each call; told each call's result (the drill paces warm instances). */
  beforeCall?: () => Promise<void>
  onCall?: (call: CallResult) => void
}

/** What each function decrypts, by name (the report masks them). */
export const DECRYPTED: Record<string, string[]> = {
  SecureItemsFunction: ['DATA_KEY'],
  SecureFetchFunction: ['API_TOKEN', 'CLIENT_TLS_FILE#cert', 'CLIENT_TLS_FILE#key'],
}

const readEvent = (root: string, name: string): Body =>
  JSON.parse(readFileSync(join(root, 'events', name), 'utf8'))

/** An event of events/ at another path (the path parameters and rawPath agree). */
function at(event: Body, path: string, pathParameters: Record<string, string>): Body {
  const context = event.requestContext as { http: object }
  const http = { ...context.http, path }
  return { ...event, rawPath: path, pathParameters, requestContext: { ...context, http } }
}

/** The calls on secure-items: create, then get, create, list, get... from events/*.json. */
export function itemsCalls(root: string, secrets: DemoSecrets, warm: number): Call[] {
  const owner = 'demo'
  const [first, second] = secrets.items.map((secret, index) => {
    const item = { owner, id: randomUUID(), name: `demo item ${index + 1}`, secret }
    const short = `${item.id.slice(0, 8)}…`
    const create: Call = {
      request: 'POST /items',
      event: { ...readEvent(root, 'secure-items-create.json'), body: JSON.stringify(item) },
      describe: (body) =>
        body.id === item.id
          ? `created ${owner}/${short}, secret sealed with DATA_KEY ****`
          : undefined,
      status: 201,
    }
    const get: Call = {
      request: `GET /items/${owner}/${short}`,
      event: at(readEvent(root, 'secure-items-get.json'), `/items/${owner}/${item.id}`, {
        owner,
        id: item.id,
      }),
      describe: (body) =>
        body.secret === secret ? 'secret opened, same as stored (****)' : undefined,
    }
    return { create, get }
  }) as [{ create: Call; get: Call }, { create: Call; get: Call }]
  const list: Call = {
    request: `GET /items/${owner}`,
    event: at(readEvent(root, 'secure-items-list.json'), `/items/${owner}`, { owner }),
    describe: (body) => {
      const listed = (body.items ?? []) as Body[]
      return listed.length > 0 && listed.every((item) => !('secret' in item))
        ? `${listed.length} item${listed.length === 1 ? '' : 's'} listed, no secret attribute in the list`
        : undefined
    },
  }
  const then = [first.get, second.create]
  const cycle = [list, second.get, first.get]
  return [
    first.create,
    ...Array.from({ length: warm }, (_, i) => then[i] ?? (cycle[(i - 2) % 3] as Call)),
  ]
}

/** The calls on secure-fetch: GET /fetch and GET /fetch/{id}, alternately. */
export function fetchCalls(root: string, warm: number): Call[] {
  const byId = readEvent(root, 'secure-fetch-get-by-id.json')
  const id = (byId.pathParameters as { id: string }).id
  const fetch = (event: Body, request: string, path: string): Call => ({
    request,
    event,
    describe: (body) =>
      body.ok === true && body.path === path
        ? `upstream ${path}: bearer token accepted, ${body.tls}, client cert "${body.client}"`
        : undefined,
  })
  const calls = [
    fetch(readEvent(root, 'secure-fetch-get.json'), 'GET /fetch', '/v1'),
    fetch(byId, `GET /fetch/${id}`, `/v1/${id}`),
  ]
  return Array.from({ length: warm + 1 }, (_, i) => calls[i % 2] as Call)
}

/** `ok` and the summary of an answer: `expected 200, got 502 UPSTREAM_STATUS: ...` when not ok. */
function check(call: Call, answer: { statusCode?: number; body?: string }) {
  let body: Body = {}
  try {
    body = JSON.parse(answer.body ?? '')
  } catch {}
  const status = call.status ?? 200
  const summary = answer.statusCode === status ? call.describe(body) : undefined
  if (summary !== undefined) return { ok: true, summary }
  // The functions' error bodies hold no secret.
  const detail = [body.code, body.message].filter((part) => typeof part === 'string').join(': ')
  return {
    ok: false,
    summary: `expected ${status}, got ${answer.statusCode ?? 'no status'} ${detail}`.trim(),
  }
}

/** Builds and invokes one function with `calls` in one process. */
export async function runFunction(
  logicalId: string,
  calls: Call[],
  ctx: FunctionsContext,
): Promise<FunctionRun> {
  const run: FunctionRun = {
    logicalId,
    decrypted: DECRYPTED[logicalId] ?? [],
    calls: [],
    initDecrypts: undefined,
    processDecrypts: undefined,
    logs: '',
  }
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      run.logs += chunk
      if (ctx.verbose) process.stderr.write(chunk)
      done()
    },
  })
  const events = calls.map((_, index) => join(ctx.workDir, `${logicalId}-${index + 1}.json`))
  await Promise.all(
    calls.map((call, index) => writeFile(events[index] as string, JSON.stringify(call.event))),
  )
  // Without the proxy, the function's process counts its own KMS requests (kms-counter.ts).
  const countsFile = join(ctx.workDir, `${logicalId}-kms-counts.json`)
  const envVars = join(ctx.workDir, `${logicalId}-env.json`)
  const counter = new URL(`./kms-counter.ts?out=${encodeURIComponent(countsFile)}`, import.meta.url)
  const nodeOptions = `--enable-source-maps --import=${counter.href}` // the template's, plus the counter
  await writeFile(
    envVars,
    JSON.stringify(ctx.proxyDecrypts ? {} : { [logicalId]: { NODE_OPTIONS: nodeOptions } }),
  )
  let seen = ctx.proxyDecrypts?.() ?? 0
  const decrypts = () => {
    if (ctx.proxyDecrypts === undefined) return undefined
    const before = seen
    seen = ctx.proxyDecrypts()
    return seen - before
  }
  try {
    const result = await invoke(
      {
        logicalId,
        events,
        envVars,
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
        log: (line) => logStream.write(`${line}\n`),
        logStream,
        signal: ctx.signal,
        ...(ctx.beforeCall && { beforeEvent: ctx.beforeCall }),
        onInit: () => {
          run.initDecrypts = decrypts()
        },
        onInvocation: (invocation, index) => {
          const call = calls[index] as Call
          const answer = invocation.value as {
            statusCode?: number
            errorType?: string
            errorMessage?: string
          }
          const result: CallResult = {
            request: call.request,
            cold: index === 0,
            ...(invocation.ok
              ? check(call, answer)
              : {
                  ok: false,
                  summary: `function error ${answer?.errorType}: ${answer?.errorMessage}`,
                }),
            status: invocation.ok ? answer?.statusCode : undefined,
            initMs: invocation.initMs,
            durationMs: invocation.durationMs,
            kmsDecrypt: decrypts(),
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
  try {
    run.processDecrypts = JSON.parse(readFileSync(countsFile, 'utf8'))['TrentService.Decrypt'] ?? 0
  } catch {}
  return run
}
