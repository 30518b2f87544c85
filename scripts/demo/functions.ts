// Both sample functions, built from template.yaml and run through the local invoke
// (scripts/invoke.ts): one process per function, a cold start, then warm invocations. Each
// answer is summed up in a line that holds no secret: values are compared, never shown.

import { randomUUID } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { invoke } from '../invoke.ts'
import { ROOT } from '../local-stack.ts'

/** What a run of the demo shares with the functions, the CLI and the drill. */
export interface Demo {
  workDir: string
  stackName: string
  keyAlias: string
  region: string
  parameterOverrides: Record<string, string>
  signal: AbortSignal
  verbose: boolean
  progress: (line: string) => void
  proxyDecrypts?: () => number // KMS Decrypt requests the fault proxy saw so far (local AWS)
  built?: string // a `sam build` output folder to run instead of building
  skipBuild?: boolean // run what workDir/build holds (the drill's later processes)
}

/** One call's outcome; `summary` is one line with no secret in it; KMS counts from the proxy. */
export interface CallResult {
  request: string
  ok: boolean
  status?: number
  summary: string
  initMs: number
  durationMs: number
  kmsDecrypt?: number
}

/** `failure`: why the invoke itself failed (build, process). */
export interface FunctionRun {
  logicalId: string
  calls: CallResult[]
  initDecrypts?: number
  logs: string
  failure?: string
}

type Body = Record<string, unknown>

/** A call: its answer must have `status` and a body `describe` accepts (its summary). */
export interface Call {
  request: string
  event: Body
  describe: (body: Body) => string | false
  status?: number
}

/** What each function decrypts, by name (the report masks them). */
export const DECRYPTED: Record<string, string[]> = {
  SecureItemsFunction: ['DATA_KEY'],
  SecureFetchFunction: ['API_TOKEN', 'CLIENT_TLS_FILE#cert', 'CLIENT_TLS_FILE#key'],
}

const event = (name: string, more: Body = {}): Body => ({
  ...JSON.parse(readFileSync(join(ROOT, 'events', `${name}.json`), 'utf8')),
  ...more,
})

/** The calls on secure-items: create, then get, create, list, get... from events/*.json. */
export function itemsCalls(secrets: string[], warm: number): Call[] {
  const owner = 'demo'
  const [first, second] = secrets.map((secret, index) => {
    const item = { owner, id: randomUUID(), name: `demo item ${index + 1}`, secret }
    const short = `${owner}/${item.id.slice(0, 8)}…`
    const get = { rawPath: `/items/${owner}/${item.id}`, pathParameters: { owner, id: item.id } }
    const create: Call = {
      request: 'POST /items',
      event: event('secure-items-create', { body: JSON.stringify(item) }),
      describe: (body) =>
        body.id === item.id && `created ${short}, secret sealed with DATA_KEY ****`,
      status: 201,
    }
    return {
      create,
      get: {
        request: `GET /items/${short}`,
        event: event('secure-items-get', get),
        describe: (body: Body) => body.secret === secret && 'secret opened, same as stored (****)',
      },
    }
  })
  const list: Call = {
    request: `GET /items/${owner}`,
    event: event('secure-items-list', { rawPath: `/items/${owner}`, pathParameters: { owner } }),
    describe: ({ items = [] }) =>
      (items as Body[]).every((item) => !('secret' in item)) &&
      `${(items as Body[]).length} items listed, no secret attribute in the list`,
  }
  const then = [first?.get, second?.create]
  const cycle = [list, second?.get, first?.get]
  const warmCalls = Array.from({ length: warm }, (_, i) => then[i] ?? cycle[(i - 2) % 3])
  return [first?.create, ...warmCalls] as Call[]
}

/** The calls on secure-fetch: GET /fetch and GET /fetch/{id}, alternately. */
export function fetchCalls(warm: number): Call[] {
  const calls = ['secure-fetch-get', 'secure-fetch-get-by-id'].map((name): Call => {
    const fetch = event(name)
    const path = `${fetch.rawPath}`.replace('/fetch', '/v1')
    return {
      request: `GET ${fetch.rawPath}`,
      event: fetch,
      describe: (body) =>
        body.path === path &&
        `upstream ${path}: bearer token accepted, ${body.tls}, client cert "${body.client}"`,
    }
  })
  return Array.from({ length: warm + 1 }, (_, i) => calls[i % 2] as Call)
}

/** `ok` and the summary of an answer: `expected 200, got 502 UPSTREAM_STATUS: ...` when not ok. */
function check(call: Call, answer: { statusCode?: number; body?: string }) {
  let body: Body = {}
  try {
    body = JSON.parse(answer.body ?? '')
  } catch {}
  const status = call.status ?? 200
  const summary = answer.statusCode === status && call.describe(body)
  if (summary) return { ok: true, summary }
  // The functions' error bodies hold no secret.
  const detail = [body.code, body.message].filter((part) => typeof part === 'string').join(': ')
  const got = `${answer.statusCode ?? 'no status'} ${detail}`.trim()
  return { ok: false, summary: `expected ${status}, got ${got}` }
}

type Hooks = { beforeCall?: () => Promise<void>; onCall?: (call: CallResult) => void }

/** Builds and invokes one function with `calls` in one process; the drill paces with `hooks`. */
export async function runFunction(id: string, calls: Call[], demo: Demo, hooks: Hooks = {}) {
  const run: FunctionRun = { logicalId: id, calls: [], logs: '' }
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      run.logs += chunk
      if (demo.verbose) process.stderr.write(chunk)
      done()
    },
  })
  const events = calls.map((call, index) => {
    const file = join(demo.workDir, `${id}-${index + 1}.json`)
    writeFileSync(file, JSON.stringify(call.event))
    return file
  })
  let seen = demo.proxyDecrypts?.() ?? 0
  // The proxy's Decrypt requests since the last look (local AWS only).
  const decrypts = () => {
    if (demo.proxyDecrypts === undefined) return undefined
    const before = seen
    seen = demo.proxyDecrypts()
    return seen - before
  }
  const { built, workDir } = demo
  const options = {
    ...{ logicalId: id, events, parameterOverrides: demo.parameterOverrides, samLocal: false },
    ...{ stackName: demo.stackName, region: demo.region, help: false },
    template: join(built ?? '', 'template.yaml'),
    buildDir: built ?? join(workDir, 'build'),
    skipBuild: built !== undefined || demo.skipBuild === true,
  }
  const result = await invoke(options, {
    cwd: ROOT,
    env: process.env,
    log: (line) => logStream.write(`${line}\n`),
    logStream,
    signal: demo.signal,
    ...(hooks.beforeCall && { beforeEvent: hooks.beforeCall }),
    onInit: () => {
      run.initDecrypts = decrypts()
    },
    onInvocation: (invocation, index) => {
      const call = calls[index] as Call
      const answer = invocation.value as Body & { statusCode?: number }
      const error = `function error ${answer?.errorType}: ${answer?.errorMessage}`
      const result: CallResult = {
        request: call.request,
        ...(invocation.ok ? check(call, answer) : { ok: false, summary: error }),
        ...(invocation.ok && { status: answer.statusCode }),
        initMs: invocation.initMs,
        durationMs: invocation.durationMs,
        kmsDecrypt: decrypts(),
      }
      run.calls.push(result)
      hooks.onCall?.(result)
    },
  }).catch((error: Error) => {
    run.failure = error.message
  })
  const missing = calls.length - (result?.invocations.length ?? calls.length)
  if (missing > 0) run.failure = `${missing} of ${calls.length} calls not made: the process ended`
  return run
}
