// npm run drill (npm start -- --drill): the key's life on the local stack, and what each step
// does to running functions. One warm instance per function stays up through every step
// (paced call by call); a fresh process per function is the cold start. After each step:
// invocations, then one row of the table (ok / failed, KMS Decrypt calls, notes).
// Dev tooling: never bundled.

import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CancelKeyDeletionCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KMSClient,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import { table } from '../bench/table.ts'
import type { FaultProxy } from '../local/fault-proxy.ts'
import {
  type Call,
  type CallResult,
  DECRYPTED,
  type FunctionsContext,
  fetchCalls,
  itemsCalls,
  runFunction,
} from './functions.ts'
import { type DemoSecrets, type EncryptTarget, runCli } from './secrets.ts'

export interface DrillFunction {
  id: string
  decrypted: string[]
  /** The warm instance's calls, one per turn (more than the drill needs). */
  warm: Call[]
  /** A cold start's one call. */
  cold: Call
}

export interface DrillSetup {
  functions: FunctionsContext
  plan: DrillFunction[]
  proxy: FaultProxy
  keyArn: string
  /** alias, stack name, workDir, root and env for the in-process CLI. */
  target: EncryptTarget
  cacheExpiryMs: number
  progress: (line: string) => void
}

export interface DrillRow {
  step: string
  ok: number
  failed: number
  decrypts: number
  notes: string
  /** Whether the step did what KMS and the library promise. */
  expected: boolean
}

/** What moto cannot show, named in the report. */
export const UNSHOWN = [
  'moto keeps one key material per key: RotateKeyOnDemand is recorded (ListKeyRotations) but every ciphertext stays under the same material, so "reencrypt moves values onto the newest material" is not observable here (KMS does it: ReEncrypt always encrypts under the current material)',
  "moto decrypts under a disabled key: the refusals above are the fault proxy's, KMS's exact answers (DisabledException, KMSInvalidStateException), learnt from the DisableKey/EnableKey/ScheduleKeyDeletion/CancelKeyDeletion calls it forwarded",
  "moto has no CloudTrail and its EventBridge no TestEventPattern nor SNS target: the KeyChangeRule alert (the mail from AlarmTopic, its KMS-encrypted delivery, the dead-letter queue) is not shown; test/template matches the rule against CloudTrail's records",
]

/** Both functions: the warm instance reads one item (or fetches) again and again. */
export function drillPlan(root: string, secrets: DemoSecrets): DrillFunction[] {
  const [create, get] = itemsCalls(root, secrets, 1) as [Call, Call]
  const fetch = fetchCalls(root, 60)
  return [
    {
      id: 'SecureItemsFunction',
      decrypted: DECRYPTED.SecureItemsFunction,
      warm: [create, ...Array.from({ length: 60 }, () => get)],
      cold: get,
    },
    {
      id: 'SecureFetchFunction',
      decrypted: DECRYPTED.SecureFetchFunction,
      warm: fetch,
      cold: fetch[0] as Call,
    },
  ]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A function's process kept warm: each call() hands it one more event; stop() ends it. */
function warmInstance(fn: DrillFunction, ctx: FunctionsContext) {
  let turn = Promise.withResolvers<boolean>()
  let answer = Promise.withResolvers<CallResult | undefined>()
  let ended = false
  const run = runFunction(fn.id, fn.decrypted, fn.warm, {
    ...ctx,
    beforeCall: async () => {
      const go = await turn.promise
      turn = Promise.withResolvers()
      if (!go) throw new Error('the drill is over')
    },
    onCall: (call) => answer.resolve(call),
  }).finally(() => {
    ended = true
    answer.resolve(undefined)
  })
  return {
    call: (): Promise<CallResult | undefined> => {
      if (ended) return Promise.resolve(undefined)
      answer = Promise.withResolvers()
      turn.resolve(true)
      return answer.promise
    },
    stop: async () => {
      turn.resolve(false)
      await run
    },
  }
}

/** Cold calls' logs: the functions answer a bare 500 and log the reason. */
const logsOf = new WeakMap<CallResult, string>()
const refused = (call: CallResult | undefined) =>
  call !== undefined && !call.ok && (logsOf.get(call) ?? '').includes('"KEY_DISABLED"')

/** What the calls answered, once per distinct answer. */
const said = (calls: Array<CallResult | undefined>) =>
  [...new Set(calls.map((call) => call?.summary ?? 'no answer'))].join('; ')

/** `kms-secrets check` of the stack's values, as the pipeline runs it. */
const checkStack = (overrides: Record<string, string>, target: EncryptTarget) =>
  runCli(
    ['check', '--template', 'template.yaml', '--stack-name', target.stackName].concat(
      Object.entries(overrides).flatMap(([k, v]) => ['--parameter-overrides', `${k}=${v}`]),
    ),
    undefined,
    target,
  )

/** Warm calls until each instance has refused once (or two cache lifetimes have passed). */
async function untilRefused(
  warmCalls: () => Promise<Array<CallResult | undefined>>,
  instances: number,
  cacheExpiryMs: number,
) {
  const disabledAt = performance.now()
  const lastOk = Array.from({ length: instances }, () => 0)
  const firstRefusal: Array<number | undefined> = lastOk.map(() => undefined)
  while (performance.now() - disabledAt < 2 * cacheExpiryMs + 2_000) {
    const calls = await warmCalls()
    const at = performance.now() - disabledAt
    calls.forEach((call, i) => {
      if (call?.ok) lastOk[i] = at
      else firstRefusal[i] ??= at
    })
    if (firstRefusal.every((at) => at !== undefined)) break
    await sleep(cacheExpiryMs / 5)
  }
  return { lastOk, firstRefusal }
}

export async function runDrill(setup: DrillSetup): Promise<DrillRow[]> {
  const { functions, plan, proxy, keyArn, target, cacheExpiryMs, progress } = setup
  const kms = new KMSClient({})
  // moto takes only a key id (KMS also an ARN) for DisableKey, EnableKey and the deletions.
  const keyId = keyArn.split('/').at(-1) as string
  const rows: DrillRow[] = []
  let overrides = { ...functions.parameterOverrides }
  const decrypts = () => proxy.counts()['TrentService.Decrypt'] ?? 0
  let tally = { ok: 0, failed: 0 }
  const use = (calls: Array<CallResult | undefined>) => {
    for (const call of calls) tally[call?.ok ? 'ok' : 'failed'] += 1
    return calls
  }
  const step = async (name: string, body: () => Promise<{ expected: boolean; notes: string }>) => {
    progress(`drill: ${name}`)
    tally = { ok: 0, failed: 0 }
    const before = decrypts()
    const { expected, notes } = await body()
    rows.push({ step: name, ...tally, decrypts: decrypts() - before, notes, expected })
  }
  const forFunction = (id: string) => [
    ...['--key-id', target.keyId, '--template', 'template.yaml'],
    ...['--function', id, '--stack-name', target.stackName],
  ]
  const check = () => checkStack(overrides, target)
  let warm: Array<ReturnType<typeof warmInstance>> = []
  const warmCalls = () => Promise.all(warm.map((w) => w.call())).then(use)
  const coldCalls = async () => {
    const calls: Array<CallResult | undefined> = []
    for (const fn of plan) {
      const ctx = { ...functions, skipBuild: true, parameterOverrides: overrides }
      const run = await runFunction(fn.id, fn.decrypted, [fn.cold], ctx)
      const call = run.calls[0]
      if (call !== undefined) logsOf.set(call, run.logs)
      calls.push(call)
    }
    return use(calls)
  }
  const allOk = (calls: Array<CallResult | undefined>) => calls.every((call) => call?.ok)

  try {
    await step('cold start, then warm', async () => {
      warm = plan.map((fn) => warmInstance(fn, { ...functions, parameterOverrides: overrides }))
      const calls = [...(await warmCalls()), ...(await warmCalls())]
      return { expected: allOk(calls), notes: 'both functions, INIT decrypts, warm from cache' }
    })

    await step('RotateKeyOnDemand', async () => {
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyArn }))
      const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: keyArn }))).Rotations
      const calls = [...(await warmCalls()), ...(await coldCalls())]
      const checked = await check()
      return {
        expected: allOk(calls) && checked.code === 0,
        notes: `old ciphertexts decrypt, cold and warm; kms-secrets check exit ${checked.code}; ListKeyRotations: ${rotations?.length ?? 0} (ON_DEMAND)`,
      }
    })

    await step('kms-secrets reencrypt (same key)', async () => {
      const again = async (id: string, value: string) => {
        const out = await runCli(['reencrypt', ...forFunction(id)], Buffer.from(value), target)
        if (out.code !== 0)
          throw new Error(`kms-secrets reencrypt exited ${out.code}: ${out.stderr}`)
        return out.stdout.trim()
      }
      const file = join(target.workDir, 'client-tls-reencrypted.kse')
      const tls = await readFile(overrides.ClientTlsFile as string, 'utf8')
      await writeFile(file, await again('SecureFetchFunction', tls))
      overrides = {
        ...overrides,
        DataKeyCiphertext: await again(
          'SecureItemsFunction',
          overrides.DataKeyCiphertext as string,
        ),
        ApiTokenCiphertext: await again(
          'SecureFetchFunction',
          overrides.ApiTokenCiphertext as string,
        ),
        ClientTlsFile: file,
      }
      const changed = ['DataKeyCiphertext', 'ApiTokenCiphertext', 'ClientTlsFile'].filter(
        (name) => overrides[name] !== functions.parameterOverrides[name],
      )
      const calls = [...(await coldCalls()), ...(await warmCalls())]
      return {
        expected: allOk(calls) && changed.length === 3,
        notes: `${changed.length} values re-encrypted (DATA_KEY, API_TOKEN, CLIENT_TLS_FILE); cold starts decrypt the new values`,
      }
    })

    await step('DisableKey', async () => {
      await kms.send(new DisableKeyCommand({ KeyId: keyId }))
      const { lastOk, firstRefusal } = await untilRefused(warmCalls, warm.length, cacheExpiryMs)
      const cold = await coldCalls()
      const ms = (at: number | undefined) => (at === undefined ? 'never' : `${Math.round(at)} ms`)
      const warmNotes = plan.map(
        (fn, i) => `${fn.id} ok until ${ms(lastOk[i])}, refused from ${ms(firstRefusal[i])}`,
      )
      return {
        expected: cold.every(refused) && firstRefusal.every((at) => at !== undefined),
        notes: `after DisableKey (cacheExpiry ${cacheExpiryMs} ms), warm: ${warmNotes.join(', ')}; last successful use of a secret ${ms(Math.max(...lastOk))}; cold starts refused at once: ${said(cold)}, KEY_DISABLED logged`,
      }
    })

    await step('EnableKey', async () => {
      await kms.send(new EnableKeyCommand({ KeyId: keyId }))
      const calls = [...(await warmCalls()), ...(await coldCalls())]
      return { expected: allOk(calls), notes: 'the next invocation recovers, warm and cold' }
    })

    await step('ScheduleKeyDeletion (7 days)', async () => {
      const scheduled = await kms.send(
        new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }),
      )
      const date = scheduled.DeletionDate?.toISOString() ?? '?'
      const checked = await check()
      const named = checked.stdout.includes(`the key is PendingDeletion, deletion on ${date}`)
      const cold = await coldCalls()
      return {
        expected: checked.code === 1 && named && cold.every(refused),
        notes: `kms-secrets check exit ${checked.code}${named ? `: "PendingDeletion, deletion on ${date}"` : ''}; cold starts refused: ${said(cold)}, KEY_DISABLED logged`,
      }
    })

    await step('CancelKeyDeletion + EnableKey', async () => {
      await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }))
      await kms.send(new EnableKeyCommand({ KeyId: keyId }))
      const calls = [...(await warmCalls()), ...(await coldCalls())]
      return {
        expected: allOk(calls),
        notes: 'cancelled deletion leaves the key Disabled; enabled again',
      }
    })
  } finally {
    await Promise.all(warm.map((w) => w.stop()))
  }
  return rows
}

/** The report: a Markdown table (as the README shows it), then what moto cannot show. */
export function formatDrill(rows: DrillRow[], cacheExpiryMs: number): string {
  const cells = rows.map((r) => [
    `${r.expected ? '' : 'UNEXPECTED '}${r.step}`,
    ...[r.ok, r.failed, r.decrypts].map(String),
    r.notes,
  ])
  return [
    `middy-kms-secrets drill: the key's life, both functions cold and warm (SecretsCacheExpiry ${cacheExpiryMs} ms).`,
    'ok / failed: invocations after the step; KMS Decrypt: requests the fault proxy saw during it (INIT rounds, background refreshes every cacheExpiry, refused ones included).',
    '',
    table(['step', 'ok', 'failed', 'KMS Decrypt', 'notes'], cells, [
      'left',
      'right',
      'right',
      'right',
      'left',
    ]),
    '',
    'What moto cannot show:',
    '',
    ...UNSHOWN.map((line) => `- ${line}`),
    '',
  ].join('\n')
}
