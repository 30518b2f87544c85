// npm run drill (npm start -- --drill): the key's life on the local stack, and what each step
// does to running functions. One warm instance per function stays up through every step
// (paced call by call); a fresh process per function is the cold start. After each step:
// invocations, then one row of the table (ok / failed, KMS Decrypt calls, notes).

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
import { markdownTable } from 'markdown-table'
import {
  type Call,
  type CallResult,
  type FunctionsContext,
  fetchCalls,
  itemsCalls,
  runFunction,
} from './functions.ts'
import { cliTarget, type DemoSecrets, type EncryptTarget, runCli } from './secrets.ts'

export interface DrillSetup {
  functions: FunctionsContext
  secrets: DemoSecrets
  /** Decrypt requests the fault proxy has counted so far. */
  decrypts: () => number
  keyArn: string
  /** For the in-process CLI. */
  target: EncryptTarget
  cacheExpiryMs: number
  progress: (line: string) => void
}

/** What moto cannot show, named in the report. */
export const UNSHOWN = [
  'moto keeps one key material per key: RotateKeyOnDemand is recorded (ListKeyRotations) but every ciphertext stays under the same material, so "reencrypt moves values onto the newest material" is not observable here (KMS does it: ReEncrypt always encrypts under the current material)',
  "moto decrypts under a disabled key: the refusals above are the fault proxy's, KMS's exact answers (DisabledException, KMSInvalidStateException), learnt from the DisableKey/EnableKey/ScheduleKeyDeletion/CancelKeyDeletion calls it forwarded",
  "moto has no CloudTrail and its EventBridge no TestEventPattern nor SNS target: the KeyChangeRule alert (the mail from AlarmTopic, its KMS-encrypted delivery, the dead-letter queue) is not shown; test/template matches the rule against CloudTrail's records",
]

type Answer = CallResult | undefined

/** A function's process kept warm: each call() hands it one more event; stop() ends it. */
function warmInstance(id: string, calls: Call[], ctx: FunctionsContext) {
  let turn = Promise.withResolvers<boolean>()
  let answer = Promise.withResolvers<Answer>()
  let ended = false
  const run = runFunction(id, calls, {
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
    call: () => {
      if (ended) return Promise.resolve(undefined)
      answer = Promise.withResolvers()
      turn.resolve(true)
      return answer.promise
    },
    stop: () => {
      turn.resolve(false)
      return run
    },
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const ms = (at: number | undefined) => (at === undefined ? 'never' : `${Math.round(at)} ms`)

export async function runDrill(setup: DrillSetup): Promise<string[][]> {
  const { functions, secrets, decrypts, keyArn, target, cacheExpiryMs, progress } = setup
  const root = functions.root
  const [create, get] = itemsCalls(root, secrets, 1) as [Call, Call]
  const fetches = fetchCalls(root, 60)
  const plan = [
    { id: 'SecureItemsFunction', warm: [create, ...Array(60).fill(get)], cold: get },
    { id: 'SecureFetchFunction', warm: fetches, cold: fetches[0] as Call },
  ]
  const kms = new KMSClient({})
  // moto takes only a key id (KMS also an ARN) for DisableKey, EnableKey and the deletions.
  const KeyId = keyArn.split('/').at(-1)
  let overrides = { ...functions.parameterOverrides }
  const rows: string[][] = []
  let tally = { ok: 0, failed: 0 }
  const use = (calls: Answer[]) => {
    for (const call of calls) tally[call?.ok ? 'ok' : 'failed'] += 1
    return calls
  }
  const step = async (name: string, body: () => Promise<string>) => {
    progress(`drill: ${name}`)
    tally = { ok: 0, failed: 0 }
    const before = decrypts()
    const notes = await body()
    rows.push([name, String(tally.ok), String(tally.failed), String(decrypts() - before), notes])
  }
  const check = async () => {
    const values = Object.entries(overrides).flatMap(([k, v]) => [
      '--parameter-overrides',
      `${k}=${v}`,
    ])
    const argv = ['check', '--template', 'template.yaml', '--stack-name', target.stackName]
    return runCli([...argv, ...values], undefined, target)
  }
  let warm: Array<ReturnType<typeof warmInstance>> = []
  const warmCalls = () => Promise.all(warm.map((w) => w.call())).then(use)
  let coldLogs = ''
  const coldCalls = async () => {
    const calls: Answer[] = []
    coldLogs = ''
    for (const fn of plan) {
      const ctx = { ...functions, skipBuild: true, parameterOverrides: overrides }
      const run = await runFunction(fn.id, [fn.cold], ctx)
      calls.push(run.calls[0])
      coldLogs += run.logs
    }
    return use(calls)
  }
  /** What the cold starts answered, once per distinct answer; the functions log the reason. */
  const refusals = (calls: Answer[]) =>
    `${[...new Set(calls.map((call) => call?.summary ?? 'no answer'))].join('; ')}${coldLogs.includes('"KEY_DISABLED"') ? ', KEY_DISABLED logged' : ''}`

  try {
    await step('cold start, then warm', async () => {
      warm = plan.map((fn) => warmInstance(fn.id, fn.warm, functions))
      await warmCalls()
      await warmCalls()
      return 'both functions, INIT decrypts, warm from cache'
    })

    await step('RotateKeyOnDemand', async () => {
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyArn }))
      const { Rotations = [] } = await kms.send(new ListKeyRotationsCommand({ KeyId: keyArn }))
      await warmCalls()
      await coldCalls()
      return `old ciphertexts decrypt, cold and warm; kms-secrets check exit ${(await check()).code}; ListKeyRotations: ${Rotations.length} (ON_DEMAND)`
    })

    await step('kms-secrets reencrypt (same key)', async () => {
      const again = async (id: string, value: string) => {
        const out = await runCli(
          ['reencrypt', ...cliTarget(target, id)],
          Buffer.from(value),
          target,
        )
        if (out.code !== 0)
          throw new Error(`kms-secrets reencrypt exited ${out.code}: ${out.stderr}`)
        return out.stdout.trim()
      }
      const file = join(target.workDir, 'client-tls-reencrypted.kse')
      await writeFile(
        file,
        await again(
          'SecureFetchFunction',
          await readFile(overrides.ClientTlsFile as string, 'utf8'),
        ),
      )
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
      await coldCalls()
      await warmCalls()
      return `${changed.length} values re-encrypted (DATA_KEY, API_TOKEN, CLIENT_TLS_FILE); cold starts decrypt the new values`
    })

    await step('DisableKey', async () => {
      await kms.send(new DisableKeyCommand({ KeyId }))
      // Warm calls until each instance has refused once (or two cache lifetimes have passed).
      const disabledAt = performance.now()
      const lastOk = plan.map(() => 0)
      const refused: Array<number | undefined> = plan.map(() => undefined)
      while (
        refused.includes(undefined) &&
        performance.now() - disabledAt < 2 * cacheExpiryMs + 2_000
      ) {
        const calls = await warmCalls()
        const at = performance.now() - disabledAt
        calls.forEach((call, i) => {
          if (call?.ok) lastOk[i] = at
          else refused[i] ??= at
        })
        if (refused.includes(undefined)) await sleep(cacheExpiryMs / 5)
      }
      const cold = await coldCalls()
      const each = plan.map(
        (fn, i) => `${fn.id} ok until ${ms(lastOk[i])}, refused from ${ms(refused[i])}`,
      )
      return `after DisableKey (cacheExpiry ${cacheExpiryMs} ms), warm: ${each.join(', ')}; last successful use of a secret ${ms(Math.max(...lastOk))}; cold starts refused at once: ${refusals(cold)}`
    })

    await step('EnableKey', async () => {
      await kms.send(new EnableKeyCommand({ KeyId }))
      await warmCalls()
      await coldCalls()
      return 'the next invocation recovers, warm and cold'
    })

    await step('ScheduleKeyDeletion (7 days)', async () => {
      const scheduled = await kms.send(
        new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }),
      )
      const date = scheduled.DeletionDate?.toISOString()
      const checked = await check()
      const named = checked.stdout.includes(`the key is PendingDeletion, deletion on ${date}`)
      const cold = await coldCalls()
      return `kms-secrets check exit ${checked.code}${named ? `: "PendingDeletion, deletion on ${date}"` : ''}; cold starts refused: ${refusals(cold)}`
    })

    await step('CancelKeyDeletion + EnableKey', async () => {
      await kms.send(new CancelKeyDeletionCommand({ KeyId }))
      await kms.send(new EnableKeyCommand({ KeyId }))
      await warmCalls()
      await coldCalls()
      return 'cancelled deletion leaves the key Disabled; enabled again'
    })
  } finally {
    await Promise.all(warm.map((w) => w.stop()))
  }
  return rows
}

/** The report: a Markdown table (as the README shows it), then what moto cannot show. */
export function formatDrill(rows: string[][], cacheExpiryMs: number): string {
  // ' ok': biome's Markdown columns are at least 3 wide.
  const head = ['step', ' ok', 'failed', 'KMS Decrypt', 'notes']
  return `middy-kms-secrets drill: the key's life, both functions cold and warm (SecretsCacheExpiry ${cacheExpiryMs} ms).
ok / failed: invocations after the step; KMS Decrypt: requests the fault proxy saw during it (INIT rounds, background refreshes every cacheExpiry, refused ones included).

${markdownTable([head, ...rows], { align: ['', 'r', 'r', 'r', ''] })}

What moto cannot show:

${UNSHOWN.map((line) => `- ${line}`).join('\n')}
`
}
