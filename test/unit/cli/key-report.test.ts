// check's key report: manager, origin, rotation and cost, from DescribeKey and
// GetKeyRotationStatus as KMS answers them (the fake client of the CLI tests).
import { mkdirSync, writeFileSync } from 'node:fs'
import {
  DescribeKeyCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms'
import { describe, expect, it } from 'vitest'
import type { KeyReport } from '../../../cli/src/commands/key-report.ts'
import { cliTestSetup, KEY_ARN, KEY_ID, run, runOk } from './harness.ts'

const { fake, tmp } = cliTestSetup()

const TEMPLATE = `Transform: AWS::Serverless-2016-10-31
Parameters:
  One:
    Type: String
    NoEcho: true
  Two:
    Type: String
    NoEcho: true
Resources:
  Items:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: s-items
      Environment:
        Variables:
          DATA_KEY: !Ref One
  Fetch:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: s-fetch
      Environment:
        Variables:
          API_TOKEN: !Ref Two
          OTHER: !Ref Two
`

const CUSTOMER = { KeyState: 'Enabled', KeyManager: 'CUSTOMER', Origin: 'AWS_KMS' } as const

/**
 * check on a key described by `metadata` (Two empty unless `both`), `extra` appended to the
 * template: exit code, text output, the JSON key report, GetKeyRotationStatus calls.
 */
const checkOn = async (
  metadata: Omit<KeyMetadata, 'KeyId'>,
  options: { rotation?: object; both?: boolean; extra?: string; format?: 'json' } = {},
) => {
  fake.kms.on(DescribeKeyCommand).resolves({
    KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, ...metadata },
  })
  fake.kms
    .on(GetKeyRotationStatusCommand)
    .resolves(options.rotation ?? { KeyRotationEnabled: true })
  const encrypt = async (name: string) =>
    (await runOk(['encrypt', '--key-id', KEY_ID, '--function-name', name], 'value')).trim()
  const two = options.both ? await encrypt('s-fetch') : ''
  mkdirSync(tmp.dir, { recursive: true })
  writeFileSync(tmp.path('template.yaml'), `${TEMPLATE}${options.extra ?? ''}`)
  const result = await run(
    ['check', '--template', 'template.yaml', '--key-id', KEY_ID, '--parameter-overrides']
      .concat(`One=${await encrypt('s-items')} Two=${two}`)
      .concat(options.format ? ['--format', options.format] : []),
    { cwd: tmp.dir },
  )
  return {
    code: result.code,
    stdout: result.stdout,
    key: options.format ? (JSON.parse(result.stdout) as { key?: KeyReport }).key : undefined,
    rotationCalls: fake.kms.commandCalls(GetKeyRotationStatusCommand).length,
  }
}
const reportFor = (metadata: Omit<KeyMetadata, 'KeyId'>, rotation?: object) =>
  checkOn(metadata, { format: 'json', both: true, ...(rotation && { rotation }) })

describe('check: the key report', () => {
  it('prices a customer managed key at $1/month and each Decrypt of a cold start at $3 per million', async () => {
    // Act
    const { code, key } = await reportFor(
      { KeyState: 'Enabled', KeyManager: 'CUSTOMER', Origin: 'AWS_KMS' },
      { KeyRotationEnabled: true, RotationPeriodInDays: 180 },
    )

    // Assess
    expect(code).toBe(0)
    expect(key).toEqual({
      key: KEY_ID,
      arn: KEY_ARN,
      state: 'Enabled',
      manager: 'CUSTOMER',
      origin: 'AWS_KMS',
      rotation: { enabled: true, periodDays: 180 },
      cost: {
        keyUsdPerMonth: 1,
        decryptsPerColdStart: { Items: 1, Fetch: 2 },
        usdPerMillionColdStarts: { Items: 3, Fetch: 6 },
      },
    })
  })

  it('costs nothing per month for an AWS managed key', async () => {
    // Act
    const { key } = await reportFor({ KeyState: 'Enabled', KeyManager: 'AWS', Origin: 'AWS_KMS' })

    // Assess
    expect(key?.manager).toBe('AWS')
    expect(key?.cost.keyUsdPerMonth).toBe(0)
  })

  it("gives imported material's expiry and asks KMS no rotation status (it cannot rotate)", async () => {
    // Prepare
    const validTo = new Date('2027-03-01T00:00:00Z')

    // Act
    const expiring = await reportFor({
      KeyState: 'Enabled',
      KeyManager: 'CUSTOMER',
      Origin: 'EXTERNAL',
      ExpirationModel: 'KEY_MATERIAL_EXPIRES',
      ValidTo: validTo,
    })
    const lasting = await reportFor({
      KeyState: 'Enabled',
      KeyManager: 'CUSTOMER',
      Origin: 'EXTERNAL',
    })

    // Assess
    expect(expiring.code).toBe(0)
    expect(expiring.key).toMatchObject({
      origin: 'EXTERNAL',
      materialExpires: '2027-03-01T00:00:00.000Z',
      rotation: { enabled: null, periodDays: null },
      cost: { keyUsdPerMonth: 1 },
    })
    expect(expiring.rotationCalls).toBe(0)
    expect(lasting.key?.materialExpires).toBe('never')
  })

  it('reports a key pending deletion with its date, without asking for its rotation', async () => {
    // Prepare
    const deletion = new Date('2026-12-14T00:00:00Z')

    // Act
    const { code, key, rotationCalls } = await reportFor({
      KeyState: 'PendingDeletion',
      KeyManager: 'CUSTOMER',
      Origin: 'AWS_KMS',
      DeletionDate: deletion,
    })

    // Assess
    expect(code).toBe(1)
    expect(key).toMatchObject({ state: 'PendingDeletion', deletionDate: deletion.toISOString() })
    expect(rotationCalls).toBe(0)
  })

  it('words a pending deletion with its date in text', async () => {
    // Act
    const { code, stdout } = await checkOn({
      ...CUSTOMER,
      KeyState: 'PendingDeletion',
      DeletionDate: new Date('2026-12-14T00:00:00Z'),
    })

    // Assess
    expect(code).toBe(1)
    expect(stdout).toContain(
      '; rotation not read (the key is not enabled); PendingDeletion until 2026-12-14T00:00:00.000Z\n',
    )
  })

  it('says it all in a line of text, with the cost', async () => {
    // Act
    const { stdout } = await checkOn({
      ...CUSTOMER,
      Origin: 'EXTERNAL',
      ValidTo: new Date('2027-03-01T00:00:00Z'),
    })

    // Assess
    expect(stdout).toContain(
      `key ${KEY_ID}: customer managed, imported key material (EXTERNAL), expires 2027-03-01T00:00:00.000Z; no automatic rotation (imported material: import new material into a new key); Enabled\n  cost: the key $1.00/month; KMS Decrypt calls per cold start (per million cold starts at $0.03 per 10,000): Items 1 ($3.00), Fetch 0 ($0.00)\n`,
    )
  })

  it('counts no call for a function whose name cannot be known; an AWS managed key costs $0', async () => {
    // Prepare
    const extra = '  Nameless:\n    Type: AWS::Serverless::Function\n    Properties: {}\n'

    // Act
    const { code, stdout } = await checkOn({ ...CUSTOMER, KeyManager: 'AWS' }, { extra })

    // Assess
    expect(code).toBe(1)
    expect(stdout).toContain(`key ${KEY_ID}: AWS managed, key material generated by KMS`)
    expect(stdout).toContain(
      'cost: the key $0.00/month; KMS Decrypt calls per cold start (per million cold starts at $0.03 per 10,000): Items 1 ($3.00), Fetch 0 ($0.00)\n',
    )
  })

  it.each([
    [{ KeyRotationEnabled: false }, 'automatic rotation off; Enabled'],
    [{ KeyRotationEnabled: true }, 'automatic rotation on; Enabled'],
    [
      { KeyRotationEnabled: true, RotationPeriodInDays: 90 },
      'automatic rotation on, every 90 days; Enabled',
    ],
  ])('words rotation %j', async (rotation, words) => {
    // Act
    const { stdout } = await checkOn({ ...CUSTOMER, Origin: 'AWS_CLOUDHSM' }, { rotation })

    // Assess
    expect(stdout).toContain(`customer managed, origin AWS_CLOUDHSM; ${words}\n`)
  })
})
