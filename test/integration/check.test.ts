// `kms-secrets check` (the BUILT CLI, a fresh Node process per run) against moto: values
// that decrypt for their function, and the ways they fail after a deploy (another function
// name, another key, a disabled key, an environment over 4 KB, an altered envelope), each
// caught before it. The report never shows a value.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  type KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { CheckLine } from '../../cli/src/commands/check.ts'
import type { KeyReport } from '../../cli/src/commands/key-report.ts'
import { EnvelopeKind, encryptValue, sealWithKms } from '../../cli/src/encrypt.ts'
import { awsEnv } from '../../scripts/local/aws-env.ts'
import { kmsClient } from '../support/aws.ts'
import { REPO_ROOT, runNode, TMP_DIR } from '../support/child.ts'
import { expectNoSecrets } from '../support/no-leak.ts'

const CLI = 'cli/dist/kms-secrets.js'
const STACK = 'chk'
const motoEndpoint = inject('motoEndpoint')
let kms: KMSClient
let dir: string
const secrets: string[] = []

const newKey = async (rotation: boolean) => {
  const keyId = (await kms.send(new CreateKeyCommand({ Description: 'check' }))).KeyMetadata
    ?.KeyId as string
  if (rotation) await kms.send(new EnableKeyRotationCommand({ KeyId: keyId }))
  return keyId
}
const secret = () => {
  const value = `tok_${randomBytes(18).toString('base64url')}`
  secrets.push(value)
  return Buffer.from(value)
}
const raw = (keyId: string, functionName: string) =>
  encryptValue({
    client: kms,
    keyId,
    context: { LambdaFunctionName: functionName },
    plaintext: secret(),
  })
const envelope = (keyId: string, functionName: string) =>
  sealWithKms({
    client: kms,
    keyId,
    context: { LambdaFunctionName: functionName },
    kind: EnvelopeKind.Value,
    plaintext: secret(),
  })

/** A template whose functions each get one value (a NoEcho parameter) and extra settings. */
const templateOf = (functions: Record<string, Record<string, string>>) => {
  const parameters = Object.keys(functions)
    .map((id) => `  ${id}Value:\n    Type: String\n    NoEcho: true\n    Default: ""\n`)
    .join('')
  const resources = Object.entries(functions)
    .map(([id, env]) => {
      const vars = Object.entries(env)
        .map(([name, value]) => `          ${name}: "${value}"\n`)
        .join('')
      return `  ${id}:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub \${AWS::StackName}-${id.toLowerCase()}
      Handler: handler.handler
      Environment:
        Variables:
          SECRET: !Ref ${id}Value
${vars}`
    })
    .join('')
  return `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
${parameters}Resources:
${resources}`
}

/** Writes the template, runs check --format json, returns exit code, lines and raw output. */
const check = async (
  functions: Record<string, Record<string, string>>,
  values: Record<string, string>,
  keyId: string,
) => {
  const folder = mkdtempSync(join(dir, 'case-'))
  writeFileSync(join(folder, 'template.yaml'), templateOf(functions))
  writeFileSync(
    join(folder, 'overrides.json'),
    JSON.stringify(Object.fromEntries(Object.entries(values).map(([id, v]) => [`${id}Value`, v]))),
  )
  const args = ['check', '--template', 'template.yaml', '--stack-name', STACK, '--key-id', keyId]
  const result = await runNode(join(REPO_ROOT, CLI), {
    args: [...args, '--parameter-overrides', 'file://overrides.json', '--format', 'json'],
    cwd: folder,
    env: awsEnv(motoEndpoint),
    timeoutMs: 60_000,
  })
  expectNoSecrets(result.stdout + result.stderr, secrets)
  for (const value of Object.values(values)) {
    expect(result.stdout).not.toContain(value)
  }
  const report = result.json as { ok: boolean; lines: CheckLine[]; key?: KeyReport }
  const of = (fn: string) => report.lines.find((l) => l.function === fn && l.variable === 'SECRET')
  return { code: result.code, report, of, stderr: result.stderr }
}

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, CLI))) throw new Error(`${CLI} is missing: run npm run build`)
  kms = kmsClient(motoEndpoint)
  mkdirSync(TMP_DIR, { recursive: true })
  dir = mkdtempSync(join(TMP_DIR, 'check-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('kms-secrets check against moto', () => {
  it('passes values that decrypt for their function, raw blobs and envelopes alike', async () => {
    // Prepare
    const keyId = await newKey(true)
    const values = {
      Items: await raw(keyId, `${STACK}-items`),
      Fetch: await envelope(keyId, `${STACK}-fetch`),
    }
    // Act
    const { code, report, of } = await check({ Items: {}, Fetch: {} }, values, keyId)
    // Assess
    expect(code).toBe(0)
    expect(report.ok).toBe(true)
    expect(report.lines[0]).toMatchObject({ verdict: 'ok', variable: `key ${keyId}` })
    expect(of('Items')).toMatchObject({
      verdict: 'ok',
      reason: `raw KMS blob decrypts for ${STACK}-items`,
    })
    expect(of('Fetch')?.verdict).toBe('ok')
    expect(of('Fetch')?.reason).toContain('AES-GCM tag of the body cannot be checked')
  })

  it('fails a value encrypted for another function name, and one under another key', async () => {
    // Prepare
    const keyId = await newKey(true)
    const otherKeyId = await newKey(true)
    const values = {
      Good: await raw(keyId, `${STACK}-good`),
      Renamed: await raw(keyId, `${STACK}-old-name`),
      Moved: await raw(otherKeyId, `${STACK}-moved`),
    }
    // Act
    const { code, report, of } = await check({ Good: {}, Renamed: {}, Moved: {} }, values, keyId)
    // Assess
    expect(code).toBe(1)
    expect(report.ok).toBe(false)
    expect(of('Good')?.verdict).toBe('ok')
    expect(of('Renamed')).toMatchObject({ verdict: 'fail' })
    expect(of('Renamed')?.reason).toContain(`does not decrypt for ${STACK}-renamed`)
    expect(of('Moved')).toMatchObject({ verdict: 'fail' })
    expect(of('Moved')?.reason).toMatch(/another key|denied/)
  })

  it('fails every value under a disabled key, and warns when rotation is off', async () => {
    // Prepare
    const disabled = await newKey(true)
    const unrotated = await newKey(false)
    const values = { Items: await raw(disabled, `${STACK}-items`) }
    await kms.send(new DisableKeyCommand({ KeyId: disabled }))
    // Act
    const off = await check({ Items: {} }, values, disabled)
    const warned = await check(
      { Items: {} },
      { Items: await raw(unrotated, `${STACK}-items`) },
      unrotated,
    )
    // Assess
    expect(off.code).toBe(1)
    expect(off.report.lines[0]).toMatchObject({ verdict: 'fail' })
    expect(off.report.lines[0]?.reason).toContain('the key is Disabled')
    expect(off.of('Items')).toMatchObject({
      verdict: 'fail',
      reason: 'the key is not usable (see its line)',
    })
    expect(warned.code).toBe(0)
    expect(warned.report.lines[0]).toMatchObject({ verdict: 'warn' })
    expect(warned.report.lines[0]?.reason).toContain('rotation is off')
  })

  it('reports the key: customer managed, its rotation, its cost; a key pending deletion with its date', async () => {
    // Prepare
    const rotated = await newKey(true)
    const unrotated = await newKey(false)
    const doomed = await newKey(true)
    const value = async (keyId: string) => ({ Items: await raw(keyId, `${STACK}-items`) })
    const doomedValue = await value(doomed)
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed, PendingWindowInDays: 7 }))
    // Act
    const on = await check({ Items: {} }, await value(rotated), rotated)
    const off = await check({ Items: {} }, await value(unrotated), unrotated)
    const pending = await check({ Items: {} }, doomedValue, doomed)
    // Assess
    const cost = {
      keyUsdPerMonth: 1,
      decryptsPerColdStart: { Items: 1 },
      usdPerMillionColdStarts: { Items: 3 },
    }
    expect(on.report.key).toMatchObject({
      state: 'Enabled',
      manager: 'CUSTOMER',
      origin: 'AWS_KMS',
      rotation: { enabled: true },
      cost,
    })
    expect(off.report.key).toMatchObject({
      manager: 'CUSTOMER',
      rotation: { enabled: false },
      cost,
    })
    expect(pending.code).toBe(1)
    expect(pending.report.key?.state).toBe('PendingDeletion')
    expect(pending.report.key?.deletionDate).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(pending.report.lines[0]?.reason).toContain(
      `the key is PendingDeletion, deletion on ${pending.report.key?.deletionDate}`,
    )
  })

  it("fails a function whose environment is over Lambda's 4 KB", async () => {
    // Prepare
    const keyId = await newKey(true)
    const values = { Items: await raw(keyId, `${STACK}-items`) }
    const big = { CERT_PEM: 'x'.repeat(4000) }
    // Act
    const { code, report } = await check({ Items: big }, values, keyId)
    // Assess
    const budget = report.lines.find((l) => l.variable === '(environment)')
    expect(code).toBe(1)
    expect(budget?.verdict).toBe('fail')
    expect(budget?.reason).toMatch(/^\d+ bytes, over Lambda's 4096-byte limit/)
  })

  it('fails an envelope whose encrypted data key was altered', async () => {
    // Prepare
    const keyId = await newKey(true)
    const good = await envelope(keyId, `${STACK}-items`)
    const body = Buffer.from(good.slice('kse1:'.length), 'base64')
    body[3 + 10] = (body[3 + 10] as number) ^ 0x01 // inside the encrypted data key
    const tampered = `kse1:${body.toString('base64')}`
    // Act
    const { code, of } = await check({ Items: {} }, { Items: tampered }, keyId)
    // Assess
    expect(code).toBe(1)
    expect(of('Items')?.verdict).toBe('fail')
    expect(of('Items')?.reason).toMatch(/^envelope: /)
  })
})
