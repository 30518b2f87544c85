// The key-change alert (EventBridge rule on the key's CloudTrail events -> the encrypted
// topic, with an encrypted dead-letter queue) and the pipeline's `kms-secrets check` step
// (its role may only ReEncrypt onto the same key, for the app stack's functions).
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { DEFAULT_CACHE_EXPIRY_MS, readCacheExpiry } from '../../functions/shared/cache-expiry.ts'
import { functionEnvironment } from '../../scripts/invoke.ts'
import {
  functionsOf,
  type Json,
  type ResolveScope,
  readTemplate,
  resolveValue,
  type Template,
} from '../../scripts/template.ts'
import { REPO_ROOT } from '../support/child.ts'

/** A CloudTrail management event as EventBridge delivers it (detail = the CloudTrail record). */
function cloudTrailEvent(eventName: string, keyArn: string): Record<string, Json> {
  const [, , , region = '', account = ''] = keyArn.split(':')
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.kms',
    account,
    time,
    region,
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROAEXAMPLE:operator',
        arn: `arn:aws:sts::${account}:assumed-role/operator/operator`,
        accountId: account,
      },
      eventTime: time,
      eventSource: 'kms.amazonaws.com',
      eventName,
      awsRegion: region,
      sourceIPAddress: '192.0.2.10',
      userAgent: 'aws-cli/2',
      requestParameters:
        eventName === 'Decrypt'
          ? { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }
          : { keyId: keyArn.split('/').at(-1) as string },
      responseElements: null,
      requestID: randomUUID(),
      eventID: randomUUID(),
      readOnly: eventName === 'Decrypt',
      resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: keyArn }],
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: account,
      eventCategory: 'Management',
    },
  }
}

const STACK = 'middy-kms-secrets'
const template = readTemplate(join(REPO_ROOT, 'template.yaml'))
const pipeline = readTemplate(join(REPO_ROOT, 'pipeline.yaml'))
const ctx: ResolveScope = {
  template,
  parameters: { UpstreamUrl: 'https://upstream.example/' },
  pseudo: { 'AWS::StackName': STACK },
  unfixed: 'placeholder',
}
const KEY_ARN = {
  'Fn::If': ['CreateKey', { 'Fn::GetAtt': ['SecretsKey', 'Arn'] }, { Ref: 'ExistingKeyArn' }],
}

interface Statement {
  Sid?: string
  Effect: string
  Principal?: Json
  Action: string | string[]
  Resource?: Json
  Condition?: Record<string, Record<string, Json>>
}

const props = (t: Template, id: string): Record<string, Json> => {
  const resource = t.Resources[id]
  if (resource === undefined) throw new Error(`no resource ${id}`)
  return resource.Properties ?? {}
}
const statementsOf = (document: Json): Statement[] =>
  (document as unknown as { Statement: Statement[] }).Statement
const bySid = (statements: Statement[], sid: string): Statement => {
  const found = statements.find((s) => s.Sid === sid)
  if (found === undefined) throw new Error(`no statement ${sid}`)
  return found
}

/**
 * EventBridge's rule for patterns of exact values only (what KeyChangeRule uses): every leaf
 * list must hold the event's value at that path; arrays (of objects too) match by any element.
 */
const exactMatch = (pattern: unknown, event: unknown): boolean => {
  if (Array.isArray(event)) return event.some((item) => exactMatch(pattern, item))
  if (Array.isArray(pattern)) {
    expect(pattern.every((value) => typeof value === 'string')).toBe(true)
    return pattern.includes(event)
  }
  const fields = Object.entries(pattern as Record<string, unknown>)
  const record = (event ?? {}) as Record<string, unknown>
  return fields.every(([name, inner]) => exactMatch(inner, record[name]))
}

describe('key-change alert', () => {
  const rule = props(template, 'KeyChangeRule')

  it("matches the management events that change the stack's key, from CloudTrail", () => {
    // Prepare
    const pattern = rule.EventPattern as {
      source: string[]
      'detail-type': string[]
      detail: { eventSource: string[]; eventName: string[]; resources: { ARN: Json[] } }
    }
    // Act
    const names = [...pattern.detail.eventName].sort()
    // Assess
    expect(template.Resources.KeyChangeRule?.Type).toBe('AWS::Events::Rule')
    expect(rule.State).toBe('ENABLED')
    expect(pattern.source).toEqual(['aws.kms'])
    expect(pattern['detail-type']).toEqual(['AWS API Call via CloudTrail'])
    expect(pattern.detail.eventSource).toEqual(['kms.amazonaws.com'])
    expect(names).toEqual([
      'CreateGrant',
      'DeleteImportedKeyMaterial',
      'DisableKey',
      'DisableKeyRotation',
      'ImportKeyMaterial',
      'PutKeyPolicy',
      'ScheduleKeyDeletion',
    ])
    expect(pattern.detail.resources).toEqual({ ARN: [KEY_ARN] })
  })

  it("matches the CloudTrail record of DisableKey on the stack's key, as EventBridge delivers it; not a Decrypt, nor another key", () => {
    // Prepare: the pattern as deployed with a key (moto's TestEventPattern is a stub, see npm run drill)
    const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    const scope = { ...ctx, parameters: { ...ctx.parameters, ExistingKeyArn: keyArn } }
    const pattern = resolveValue(rule.EventPattern as Json, scope)
    const other = keyArn.replace('1234abcd', 'ffffffff')
    // Act
    const verdicts = [
      cloudTrailEvent('DisableKey', keyArn),
      cloudTrailEvent('ScheduleKeyDeletion', keyArn),
      cloudTrailEvent('Decrypt', keyArn),
      cloudTrailEvent('DisableKey', other),
    ].map((event) => exactMatch(pattern, event))
    // Assess
    expect(verdicts).toEqual([true, true, false, false])
  })

  it('publishes to the encrypted alarm topic, failed deliveries to an encrypted queue', () => {
    // Prepare
    const [target] = rule.Targets as Array<Record<string, Json>>
    // Act
    const queue = props(template, 'KeyChangeDeadLetterQueue')
    // Assess
    expect(rule.Targets).toHaveLength(1)
    expect(target?.Arn).toEqual({ Ref: 'AlarmTopic' })
    expect(target?.DeadLetterConfig).toEqual({
      Arn: { 'Fn::GetAtt': ['KeyChangeDeadLetterQueue', 'Arn'] },
    })
    expect(queue.KmsMasterKeyId).toEqual(KEY_ARN)
    expect(props(template, 'AlarmTopic').KmsMasterKeyId).toEqual(KEY_ARN)
    expect(props(template, 'KeyChangeDeadLetterAlarm').AlarmActions).toEqual([
      { Ref: 'AlarmTopic' },
    ])
  })

  it('lets only this rule publish to the topic and dead-letter to the queue', () => {
    // Prepare
    const topic = statementsOf(props(template, 'AlarmTopicPolicy').PolicyDocument as Json)
    const queue = statementsOf(
      props(template, 'KeyChangeDeadLetterQueuePolicy').PolicyDocument as Json,
    )
    // Act
    const publish = bySid(topic, 'KeyChangeRulePublishes')
    const deadLetter = bySid(queue, 'KeyChangeRuleDeadLetters')
    // Assess
    for (const [s, action] of [
      [publish, 'sns:Publish'],
      [deadLetter, 'sqs:SendMessage'],
    ] as const) {
      expect(s.Effect).toBe('Allow')
      expect(s.Principal).toEqual({ Service: 'events.amazonaws.com' })
      expect(s.Action).toBe(action)
      expect(s.Condition).toEqual({
        ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['KeyChangeRule', 'Arn'] } },
      })
    }
    expect(queue.find((s) => s.Effect === 'Deny')?.Condition).toEqual({
      Bool: { 'aws:SecureTransport': 'false' },
    })
  })

  it("lets EventBridge use the key for this rule's deliveries only", () => {
    // Prepare
    const key = statementsOf(props(template, 'SecretsKey').KeyPolicy as Json)
    // Act
    const s = bySid(key, 'KeyChangeRulePublishesToEncryptedTopicAndQueue')
    const ruleArn = resolveValue(s.Condition?.ArnEquals?.['aws:SourceArn'] as Json, ctx)
    // Assess
    expect(s.Principal).toEqual({ Service: 'events.amazonaws.com' })
    expect(s.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*'])
    expect(resolveValue(rule.Name as Json, ctx)).toBe(`${STACK}-kms-key-changes`)
    expect(ruleArn).toMatch(
      new RegExp(`^arn:aws:events:[a-z0-9-]+:\\d{12}:rule/${STACK}-kms-key-changes$`),
    )
  })
})

describe('kms-secrets check in the pipeline', () => {
  const sameKeyOnly = (s: Statement, names: Json) => {
    expect(s.Effect).toBe('Allow')
    expect(s.Action).toEqual(['kms:ReEncryptFrom', 'kms:ReEncryptTo'])
    expect(s.Condition).toEqual({
      Bool: { 'kms:ReEncryptOnSameKey': 'true' },
      StringEquals: { 'kms:EncryptionContext:LambdaFunctionName': names },
    })
  }

  it('grants the build role exactly ReEncryptFrom/To on the same key, plus the key checks', () => {
    // Prepare
    const role = props(pipeline, 'BuildRole').Policies as Array<{ PolicyDocument: Json }>
    const statements = role.flatMap((p) => statementsOf(p.PolicyDocument))
    // Act
    const reEncrypt = statements.filter((s) => JSON.stringify(s.Action).includes('ReEncrypt'))
    const keyState = bySid(statements, 'CheckAppKeyState')
    // Assess
    expect(reEncrypt).toHaveLength(1)
    sameKeyOnly(reEncrypt[0] as Statement, [
      { 'Fn::Sub': `\${AppStackName}-secure-items` },
      { 'Fn::Sub': `\${AppStackName}-secure-fetch` },
    ])
    expect(keyState.Action).toEqual(['kms:DescribeKey', 'kms:GetKeyRotationStatus'])
    // Decrypt only as S3 does it for the artifacts: never on the app key.
    for (const s of statements.filter((s) => JSON.stringify(s.Action).includes('kms:Decrypt'))) {
      expect(s.Condition?.StringEquals?.['kms:ViaService']).toBeDefined()
    }
  })

  it("delegates the same, and no more, to IAM in the app key's policy", () => {
    // Prepare
    const key = statementsOf(props(template, 'SecretsKey').KeyPolicy as Json)
    // Act
    const s = bySid(key, 'CheckValuesViaIamWithReEncryptOnSameKey')
    // Assess
    sameKeyOnly(s, [
      { 'Fn::Sub': `\${AWS::StackName}-secure-items` },
      { 'Fn::Sub': `\${AWS::StackName}-secure-fetch` },
    ])
  })

  it('runs check after the tests and before sam package, with what the Deploy stage passes', () => {
    // Prepare
    const spec = parseYaml(readFileSync(join(REPO_ROOT, 'buildspec.yml'), 'utf8')) as {
      phases: Record<string, { commands: string[] }>
    }
    const env = (
      props(pipeline, 'BuildProject').Environment as {
        EnvironmentVariables: Array<{ Name: string; Value: Json }>
      }
    ).EnvironmentVariables
    const deploy = (
      props(pipeline, 'Pipeline').Stages as Array<{
        Actions: Array<{ Configuration: Record<string, Json> }>
      }>
    )[2]?.Actions[0]?.Configuration
    // Act
    const commands = Object.values(spec.phases).flatMap((phase) => phase.commands)
    const at = (text: string) => commands.findIndex((c) => c.includes(text))
    const overrides = env.find((v) => v.Name === 'APP_PARAMETER_OVERRIDES')?.Value
    // Assess
    expect(at('npm test')).toBeLessThan(at('kms-secrets.js check'))
    expect(at('kms-secrets.js check')).toBeLessThan(at('sam package'))
    expect(commands[at('kms-secrets.js check')]).toMatch(
      /--template template\.yaml --stack-name "\$APP_STACK_NAME" --key-id "\$APP_KEY_ID" --parameter-overrides "file:\/\/\$overrides"/,
    )
    expect(overrides).toEqual(deploy?.ParameterOverrides)
    expect(env.find((v) => v.Name === 'APP_KEY_ID')?.Value).toEqual({
      'Fn::If': [
        'UseExistingKey',
        { Ref: 'ExistingKeyArn' },
        { 'Fn::Sub': `alias/\${AppStackName}-secrets` },
      ],
    })
  })
})

describe('revocation bound (SecretsCacheExpiry)', () => {
  it('defaults to 15 minutes, never "forever", within what a Node timer holds', () => {
    // Prepare
    const parameter = template.Parameters?.SecretsCacheExpiry as Record<string, Json>
    // Act
    const fallback = Number(parameter.Default)
    // Assess
    expect(parameter.Type).toBe('Number')
    expect(fallback).toBe(15 * 60 * 1000)
    expect(fallback).toBe(DEFAULT_CACHE_EXPIRY_MS)
    expect(parameter.MinValue).toBe(-1)
    expect(parameter.MaxValue).toBe(2 ** 31 - 1)
  })

  it('reaches both functions as KMS_SECRETS_CACHE_EXPIRY, which their configuration reads', () => {
    // Prepare
    const scope = { ...ctx, parameters: { ...ctx.parameters, SecretsCacheExpiry: '60000' } }
    // Act
    const problems: string[] = []
    const read = functionsOf(template).map((fn) => [
      fn.logicalId,
      readCacheExpiry(functionEnvironment(fn, scope, {}), (problem) => problems.push(problem)),
    ])
    // Assess
    expect(Object.fromEntries(read)).toEqual({
      SecureItemsFunction: 60_000,
      SecureFetchFunction: 60_000,
    })
    expect(problems).toEqual([])
  })
})
