// npm run drill (npm start -- --drill): the key's life on the local stack, and what each step
// does to running functions. One warm instance per function stays up through every step
// (paced call by call); a fresh process per function is the cold start. After each step:
// invocations, then one row of the table (ok / failed, KMS Decrypt calls, notes).

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as kms from '@aws-sdk/client-kms'
import { table } from '../bench/table.ts'
import {
  type Call,
  type CallResult,
  type Demo,
  fetchCalls,
  itemsCalls,
  runFunction,
} from './functions.ts'
import { kmsSecrets } from './secrets.ts'

/** What moto cannot show, named in the report. */
export const UNSHOWN = [
  'moto keeps one key material per key: RotateKeyOnDemand is recorded (ListKeyRotations) but every ciphertext stays under the same material, so "reencrypt moves values onto the newest material" is not observable here (KMS does it: ReEncrypt always encrypts under the current material)',
  "moto decrypts under a disabled key: the refusals above are the fault proxy's, KMS's exact answers (DisabledException, KMSInvalidStateException), learnt from the DisableKey/EnableKey/ScheduleKeyDeletion/CancelKeyDeletion calls it forwarded",
  "moto has no CloudTrail and its EventBridge no TestEventPattern nor SNS target: the KeyChangeRule alert (the mail from AlarmTopic, its KMS-encrypted delivery, the dead-letter queue) is not shown; test/template matches the rule against CloudTrail's records",
]

type Answer = CallResult | undefined

/** A function's process kept warm: each call() hands it one more event; stop() ends it. */
function warmInstance(id: string, calls: Call[], demo: Demo) {
  let turn = Promise.withResolvers<boolean>()
  let answer = Promise.withResolvers<Answer>()
  const beforeCall = async () => {
    if (!(await turn.promise)) throw new Error('the drill is over')
    turn = Promise.withResolvers()
  }
  const onCall = (result: CallResult) => answer.resolve(result)
  const ended = runFunction(id, calls, demo, { beforeCall, onCall }).then(() => undefined)
  const call = () => {
    answer = Promise.withResolvers()
    turn.resolve(true)
    return Promise.race([answer.promise, ended]) // no answer once the process has ended
  }
  const stop = () => {
    turn.resolve(false)
    return ended
  }
  return { call, stop }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const ms = (at: number | undefined) => (at === undefined ? 'never' : `${Math.round(at)} ms`)

/** The drill's table rows: step, ok, failed, KMS Decrypt, notes. */
export async function runDrill(demo: Demo, items: string[], keyArn: string, expiry: number) {
  const decrypts = demo.proxyDecrypts as () => number
  const [create, get] = itemsCalls(items, 1) as [Call, Call]
  const fetches = fetchCalls(60)
  const plan = [
    { id: 'SecureItemsFunction', warm: [create, ...Array(60).fill(get)], cold: get },
    { id: 'SecureFetchFunction', warm: fetches, cold: fetches[0] as Call },
  ]
  const client = new kms.KMSClient({})
  // moto takes only a key id (KMS also an ARN) for DisableKey, EnableKey and the deletions.
  const KeyId = keyArn.split('/').at(-1)
  const overrides = { ...demo.parameterOverrides }
  const rows: string[][] = []
  let tally = { ok: 0, failed: 0 }
  const use = (calls: Answer[]) => {
    for (const call of calls) tally[call?.ok ? 'ok' : 'failed'] += 1
    return calls
  }
  const check = () => {
    const values = Object.entries(overrides).map(([name, value]) => `${name}=${value}`)
    return kmsSecrets(demo, ['check', ...values.flatMap((v) => ['--parameter-overrides', v])])
  }
  let warm: Array<ReturnType<typeof warmInstance>> = []
  const warmCalls = () => Promise.all(warm.map((w) => w.call())).then(use)
  let coldLogs = ''
  const coldCalls = async () => {
    const calls: Answer[] = []
    coldLogs = ''
    for (const fn of plan) {
      const cold = { ...demo, parameterOverrides: overrides, skipBuild: true }
      const run = await runFunction(fn.id, [fn.cold], cold)
      calls.push(run.calls[0])
      coldLogs += run.logs
    }
    return use(calls)
  }
  const both = async () => [...(await warmCalls()), ...(await coldCalls())]
  /** What the cold starts answered, once per distinct answer; the functions log the reason. */
  const refused = (calls: Answer[]) => {
    const answers = new Set(calls.map((call) => call?.summary ?? 'no answer'))
    return `${[...answers].join('; ')}${coldLogs.includes('"KEY_DISABLED"') ? ', KEY_DISABLED logged' : ''}`
  }

  const steps: Record<string, () => Promise<string>> = {
    'cold start, then warm': async () => {
      warm = plan.map((fn) => warmInstance(fn.id, fn.warm, demo))
      await warmCalls()
      await warmCalls()
      return 'both functions, INIT decrypts, warm from cache'
    },
    RotateKeyOnDemand: async () => {
      await client.send(new kms.RotateKeyOnDemandCommand({ KeyId }))
      const { Rotations = [] } = await client.send(new kms.ListKeyRotationsCommand({ KeyId }))
      await both()
      const checked = `kms-secrets check exit ${(await check()).code}`
      return `old ciphertexts decrypt, cold and warm; ${checked}; ListKeyRotations: ${Rotations.length} (ON_DEMAND)`
    },
    'kms-secrets reencrypt (same key)': async () => {
      const values = {
        DataKeyCiphertext: 'SecureItemsFunction',
        ApiTokenCiphertext: 'SecureFetchFunction',
        ClientTlsFile: 'SecureFetchFunction', // a file: its content, into a new file
      }
      for (const [name, id] of Object.entries(values)) {
        const file = name === 'ClientTlsFile' && join(demo.workDir, 'client-tls-reencrypted.kse')
        const value = file ? readFileSync(overrides[name] as string) : overrides[name]
        const { stdout } = await kmsSecrets(demo, ['reencrypt'], id, value)
        if (file) writeFileSync(file, stdout)
        overrides[name] = file || stdout.trim()
      }
      const changed = Object.keys(values).filter(
        (name) => overrides[name] !== demo.parameterOverrides[name],
      )
      await coldCalls()
      await warmCalls()
      return `${changed.length} values re-encrypted (DATA_KEY, API_TOKEN, CLIENT_TLS_FILE); cold starts decrypt the new values`
    },
    DisableKey: async () => {
      await client.send(new kms.DisableKeyCommand({ KeyId }))
      // Warm calls until each instance has refused once (or two cache lifetimes have passed).
      const disabledAt = performance.now()
      const lastOk = plan.map(() => 0)
      const refusedAt: Array<number | undefined> = plan.map(() => undefined)
      while (refusedAt.includes(undefined) && performance.now() - disabledAt < 2 * expiry + 2_000) {
        const calls = await warmCalls()
        const at = performance.now() - disabledAt
        calls.forEach((call, i) => {
          if (call?.ok) lastOk[i] = at
          else refusedAt[i] ??= at
        })
        if (refusedAt.includes(undefined)) await sleep(expiry / 5)
      }
      const cold = await coldCalls()
      const each = plan.map(
        (fn, i) => `${fn.id} ok until ${ms(lastOk[i])}, refused from ${ms(refusedAt[i])}`,
      )
      return `after DisableKey (cacheExpiry ${expiry} ms), warm: ${each.join(', ')}; last successful use of a secret ${ms(Math.max(...lastOk))}; cold starts refused at once: ${refused(cold)}`
    },
    EnableKey: async () => {
      await client.send(new kms.EnableKeyCommand({ KeyId }))
      await both()
      return 'the next invocation recovers, warm and cold'
    },
    'ScheduleKeyDeletion (7 days)': async () => {
      const command = new kms.ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 })
      const date = (await client.send(command)).DeletionDate?.toISOString()
      const checked = await check()
      const named = checked.stdout.includes(`the key is PendingDeletion, deletion on ${date}`)
      const quote = named ? `: "PendingDeletion, deletion on ${date}"` : ''
      return `kms-secrets check exit ${checked.code}${quote}; cold starts refused: ${refused(await coldCalls())}`
    },
    'CancelKeyDeletion + EnableKey': async () => {
      await client.send(new kms.CancelKeyDeletionCommand({ KeyId }))
      await client.send(new kms.EnableKeyCommand({ KeyId }))
      await both()
      return 'cancelled deletion leaves the key Disabled; enabled again'
    },
  }
  try {
    for (const [name, body] of Object.entries(steps)) {
      demo.progress(`drill: ${name}`)
      tally = { ok: 0, failed: 0 }
      const before = decrypts()
      const notes = await body()
      rows.push([name, `${tally.ok}`, `${tally.failed}`, `${decrypts() - before}`, notes])
    }
  } finally {
    await Promise.all(warm.map((w) => w.stop()))
  }
  return rows
}

/** The report: a Markdown table (as the README shows it), then what moto cannot show. */
export function formatDrill(rows: string[][], expiry: number): string {
  const head = ['step', 'ok', 'failed', 'KMS Decrypt', 'notes']
  return `middy-kms-secrets drill: the key's life, both functions cold and warm (SecretsCacheExpiry ${expiry} ms).
ok / failed: invocations after the step; KMS Decrypt: requests the fault proxy saw during it (INIT rounds, background refreshes every cacheExpiry, refused ones included).

${table(head, rows, ['left', 'right', 'right', 'right', 'left'])}

What moto cannot show:

${UNSHOWN.map((line) => `- ${line}`).join('\n')}
`
}
