// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not JS
// cli/src/template/resolve.ts: the one intrinsic resolver, with local placeholders (the dev
// tooling) and with refusals (the CLI), on small inline templates. The CLI's use of it:
// test/unit/cli/template.test.ts.

import { describe, expect, it, vi } from 'vitest'
import {
  functionResources,
  type Json,
  parseTemplate,
  TemplateError,
} from '../../cli/src/template/read.ts'
import {
  conditionValue,
  isText,
  LOCAL_PSEUDO,
  MissingValueError,
  NO_VALUE,
  type Resolved,
  type ResolveScope,
  resolveValue,
  textOf,
} from '../../cli/src/template/resolve.ts'
import { errorOf } from '../support/thrown.ts'

/** Resources, parameters, mappings and conditions the cases below refer to. */
const TEMPLATE = parseTemplate(`
Parameters:
  Stage: { Type: String, Default: dev }
  Secret: { Type: String, NoEcho: true }
  Count: { Type: Number, Default: 3 }
  Flag: { Type: String, Default: true }
  NoDefault: { Type: String }
  NullDefault: { Type: String, Default: ~ }
  Odd: ~
Mappings:
  Names:
    eu-west-1: { fn: ireland-fn, list: [a, b] }
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
  Twice: !And [!Condition IsDev, !Condition IsDev]
  NotABoolean: !Ref Stage
  Loop: !Not [!Condition Loop]
  RulesOnly: { "Fn::Contains": [[a], a] }
Globals:
  Function:
    Environment:
      Variables:
        SHARED: from-globals
        OVERRIDDEN: global
Resources:
  EnvFn:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          OVERRIDDEN: local
          TABLE: !Ref Table
          TABLE_ARN: !GetAtt Table.Arn
          SECRET: !Ref Secret
          ONLY_PROD: !If [IsProd, yes-prod, !Ref AWS::NoValue]
          JOINED: !Join [":", [!Ref Stage, !Select [1, !Split [",", "a,b,c"]]]]
          ENCODED: !Base64 hi
  Table:
    Type: AWS::DynamoDB::Table
    Properties: { TableName: !Sub "\${AWS::StackName}-items" }
  Unnamed:
    Type: AWS::DynamoDB::Table
  MaybeNamed:
    Type: AWS::DynamoDB::Table
    Properties: { TableName: !If [IsProd, prod-table, !Ref AWS::NoValue] }
  ListNamed:
    Type: AWS::DynamoDB::Table
    Properties: { TableName: [a] }
  Fn:
    Type: AWS::Lambda::Function
    Properties: { FunctionName: fn-name }
  SamFn:
    Type: AWS::Serverless::Function
    Properties: { FunctionName: !Ref Stage }
  SelfNamed:
    Type: AWS::Lambda::Function
    Properties: { FunctionName: !Join ["-", [!Ref SelfNamed]] }
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: { LogGroupName: /aws/x }
  Role:
    Type: AWS::IAM::Role
    Properties: { RoleName: the-role }
  Key:
    Type: AWS::KMS::Key
  Alias:
    Type: AWS::KMS::Alias
    Properties: { AliasName: alias/x }
  Topic:
    Type: AWS::SNS::Topic
    Properties: { TopicName: alerts }
  Queue:
    Type: AWS::SQS::Queue
    Properties: { QueueName: q, undefined: not-its-name }
  Empty:
  Scalar: 3
`)

const local = (more: Partial<ResolveScope> = {}): ResolveScope => ({
  template: TEMPLATE,
  unfixed: 'placeholder',
  ...more,
})
const deploy = (more: Partial<ResolveScope> = {}): ResolveScope => ({
  template: TEMPLATE,
  pseudo: { 'AWS::StackName': 'stack', 'AWS::Region': 'eu-west-1' },
  unfixed: 'refuse',
  ...more,
})
const failure = (act: () => unknown) => {
  const error = errorOf(act)
  expect(error).toBeInstanceOf(TemplateError)
  return error as TemplateError
}

describe('resolveValue', () => {
  const fn = functionResources(TEMPLATE).find((f) => f.logicalId === 'EnvFn')
  const env = fn?.environment as Json

  it('resolves parameters, pseudo parameters, resource names, conditions and functions', () => {
    // Prepare
    const scope: ResolveScope = {
      template: TEMPLATE,
      parameters: { Secret: 's3cr3t' },
      pseudo: { 'AWS::StackName': 'app' },
      unfixed: 'placeholder',
    }
    // Act
    const resolved = resolveValue(env, scope)
    // Assess
    expect(resolved).toEqual({
      SHARED: 'from-globals',
      OVERRIDDEN: 'local',
      TABLE: 'app-items',
      TABLE_ARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/app-items',
      SECRET: 's3cr3t',
      JOINED: 'dev:b',
      ENCODED: Buffer.from('hi').toString('base64'),
    })
  })

  it('takes the condition branch from the parameter values', () => {
    // Prepare
    const scope: ResolveScope = {
      template: TEMPLATE,
      parameters: { Secret: 'x', Stage: 'prod' },
      unfixed: 'placeholder',
    }
    // Act
    const resolved = resolveValue(env, scope) as Record<string, Json>
    // Assess
    expect(resolved.ONLY_PROD).toBe('yes-prod')
    expect(resolved.TABLE).toBe('local-items')
    expect(resolveValue({ Ref: 'AWS::NoValue' }, scope)).toBe(NO_VALUE)
    expect(resolveValue({ Condition: 'NotProd' }, scope)).toBe(false)
  })

  it('names the parameter that has neither a value nor a Default', () => {
    // Prepare
    const scope: ResolveScope = { template: TEMPLATE, unfixed: 'placeholder' }
    // Act / Assess
    expect(() => resolveValue(env, scope)).toThrow(/parameter Secret has no Default/)
    expect(() => resolveValue({ Ref: 'Nope' }, scope)).toThrow(/unknown name Nope/)
  })

  it('reads a resource that is not a mapping (null, a scalar) as one without type or properties', () => {
    // Act / Assess: `Empty:` with nothing under it crashed Ref (found by the fuzz)
    expect(resolveValue({ Ref: 'Empty' }, local())).toBe('Empty')
    expect(resolveValue({ 'Fn::GetAtt': ['Empty', 'Arn'] }, local())).toBe('Empty.Arn')
    expect(resolveValue({ 'Fn::Sub': '${Scalar}/${Empty.Arn}' }, local())).toBe('Scalar/Empty.Arn')
  })

  it('keeps plain data as it is, drops AWS::NoValue from lists and mappings', () => {
    // Prepare
    const none = { Ref: 'AWS::NoValue' }
    const value: Json = {
      list: [1, none, null, true, { 'Fn::If': ['IsProd', 'p', none] }],
      gone: none,
      two: { Ref: 'Stage', Other: 1 },
      notCondition: { Condition: { StringEquals: 'x' } },
      condition: { Condition: 'IsDev' },
      empty: {},
    }
    // Act
    const resolved = resolveValue(value, local())
    // Assess: a mapping of more than one key is no intrinsic, nor is a Condition of a mapping
    expect(resolved).toEqual({
      list: [1, null, true],
      two: { Ref: 'Stage', Other: 1 },
      notCondition: { Condition: { StringEquals: 'x' } },
      condition: true,
      empty: {},
    })
  })

  it('keeps a key named __proto__ as a key', () => {
    // Prepare
    const value = JSON.parse('{"__proto__": {"Ref": "Stage"}}') as Json
    // Act
    const resolved = resolveValue(value, local()) as Record<string, Json>
    // Assess
    expect(Object.hasOwn(resolved, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(resolved)).toBe(Object.prototype)
  })
})

describe('Ref', () => {
  it.each([
    ['a parameter value given', 'Stage', { parameters: { Stage: 'given' } }, 'given'],
    ['a Default', 'Stage', {}, 'dev'],
    ['a Default that is a number', 'Count', {}, '3'],
    ['a Default that is a boolean', 'Flag', {}, 'true'],
    ['a table named in the template', 'Table', {}, 'local-items'],
    ['a function named in the template', 'Fn', {}, 'fn-name'],
    ['a SAM function named after a parameter', 'SamFn', {}, 'dev'],
    ['a log group', 'Logs', {}, '/aws/x'],
    ['a role', 'Role', {}, 'the-role'],
    ['an alias', 'Alias', {}, 'alias/x'],
    ['a topic: its ARN', 'Topic', {}, 'arn:aws:sns:us-east-1:123456789012:alerts'],
    ['a type whose name it does not read', 'Queue', {}, 'Queue'],
    ['a resource named by CloudFormation', 'Unnamed', {}, 'Unnamed'],
    ['a name an !If leaves out', 'MaybeNamed', {}, 'MaybeNamed'],
    ['a key (its id)', 'Key', {}, 'Key'],
  ])('gives %s', (_, name, more, expected) => {
    // Act
    const value = resolveValue({ Ref: name }, local(more))
    // Assess
    expect(value).toBe(expected)
  })

  it('gives pseudo parameters from the scope, else the local ones', () => {
    // Prepare
    const scope = local({ pseudo: { 'AWS::Region': 'eu-west-1' } })
    // Act
    const region = resolveValue({ Ref: 'AWS::Region' }, scope)
    const account = resolveValue({ Ref: 'AWS::AccountId' }, scope)
    const each = Object.keys(LOCAL_PSEUDO).map((name) => resolveValue({ Ref: name }, local()))
    // Assess
    expect(region).toBe('eu-west-1')
    expect(account).toBe('123456789012')
    expect(each).toEqual(Object.values(LOCAL_PSEUDO))
  })

  it('gives a local stack id, the amazonaws.com suffix and no notification ARNs locally', () => {
    // Act
    const stackId = resolveValue({ Ref: 'AWS::StackId' }, local())
    const suffix = resolveValue({ Ref: 'AWS::URLSuffix' }, local())
    const notifications = resolveValue({ Ref: 'AWS::NotificationARNs' }, local())
    // Assess
    expect(stackId).toBe(
      'arn:aws:cloudformation:us-east-1:123456789012:stack/local/00000000-0000-0000-0000-000000000000',
    )
    expect(suffix).toBe('amazonaws.com')
    expect(notifications).toBe('')
  })

  it('asks for a pseudo parameter given as a function only when the template uses it', () => {
    // Prepare
    const stackName = vi.fn(() => 'asked')
    const scope = deploy({ pseudo: { 'AWS::StackName': stackName } })
    // Act
    const unused = resolveValue({ Ref: 'Stage' }, scope)
    const calledBefore = stackName.mock.calls.length
    const used = resolveValue({ Ref: 'AWS::StackName' }, scope)
    // Assess
    expect(unused).toBe('dev')
    expect(calledBefore).toBe(0)
    expect(used).toBe('asked')
  })

  it.each([
    [
      'a parameter without Default',
      'NoDefault',
      'NoDefault',
      /^parameter NoDefault has no Default: pass --parameter-overrides NoDefault=\.\.\.$/,
    ],
    ['a parameter whose Default is null', 'NullDefault', 'NullDefault', /has no Default/],
    ['a parameter that is no mapping', 'Odd', 'Odd', /has no Default/],
    ['an unknown name', 'Nope', 'Nope', /^Ref to unknown name Nope$/],
    ['an inherited name', 'constructor', 'constructor', /^Ref to unknown name constructor$/],
  ])('refuses %s, in both scopes', (_, name, uses, message) => {
    // Act
    const locally = failure(() => resolveValue({ Ref: name }, local({ parameters: {} })))
    const deployed = failure(() => resolveValue({ Ref: name }, deploy()))
    // Assess
    expect(locally).toBeInstanceOf(MissingValueError)
    expect((locally as MissingValueError).uses).toBe(uses)
    expect(locally.message).toMatch(message)
    expect(deployed.message).toBe(locally.message)
  })

  it.each([
    [
      'a pseudo parameter CloudFormation has not',
      { Ref: 'AWS::Nope' },
      /^unknown pseudo parameter AWS::Nope$/,
    ],
    ['a Ref of no name', { Ref: ['Stage'] }, /^Ref takes a name$/],
    ['a name that is a list', { Ref: 'ListNamed' }, /^the name of ListNamed is a list, not text$/],
    [
      'a name that refers to itself',
      { Ref: 'SelfNamed' },
      /^the name of SelfNamed refers to itself$/,
    ],
  ])('refuses %s', (_, value, message) => {
    // Act
    const error = failure(() => resolveValue(value as Json, local()))
    // Assess
    expect(error).not.toBeInstanceOf(MissingValueError)
    expect(error.message).toMatch(message)
  })

  it.each([
    ['a pseudo parameter the scope has not', 'AWS::AccountId', 'AWS::AccountId has no value here'],
    ['a resource named by CloudFormation', 'Unnamed', 'Unnamed is named by CloudFormation'],
  ])('refuses %s where only real values will do', (_, name, message) => {
    // Act
    const error = failure(() => resolveValue({ Ref: name }, deploy()))
    // Assess
    expect(error).toBeInstanceOf(MissingValueError)
    expect((error as MissingValueError).uses).toBe(name)
    expect(error.message).toBe(message)
  })

  it('takes the names the template fixes where only real values will do', () => {
    // Act
    const table = resolveValue({ Ref: 'Table' }, deploy())
    const topic = failure(() => resolveValue({ Ref: 'Topic' }, deploy()))
    // Assess: a topic's ARN needs the partition and account, which a deploy scope lacks here
    expect(table).toBe('stack-items')
    expect((topic as MissingValueError).uses).toBe('AWS::Partition')
  })
})

describe('Fn::GetAtt', () => {
  it.each([
    ['Table', 'Arn', 'arn:aws:dynamodb:us-east-1:123456789012:table/local-items'],
    ['Fn', 'Arn', 'arn:aws:lambda:us-east-1:123456789012:function:fn-name'],
    ['SamFn', 'Arn', 'arn:aws:lambda:us-east-1:123456789012:function:dev'],
    ['Logs', 'Arn', 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/x:*'],
    ['Role', 'Arn', 'arn:aws:iam::123456789012:role/the-role'],
    ['Key', 'Arn', 'arn:aws:kms:us-east-1:123456789012:key/Key'],
    ['Topic', 'TopicArn', 'Topic.TopicArn'],
    ['Topic', 'Arn', 'Topic.Arn'],
    ['Table', 'StreamArn', 'Table.StreamArn'],
  ])('gives a local %s.%s', (id, attribute, expected) => {
    // Act
    const listForm = resolveValue({ 'Fn::GetAtt': [id, attribute] }, local())
    const textForm = resolveValue({ 'Fn::GetAtt': `${id}.${attribute}` }, local())
    // Assess
    expect(listForm).toBe(expected)
    expect(textForm).toBe(expected)
  })

  it('splits the text form at the first dot, and resolves a Ref as attribute name', () => {
    // Act
    const dotted = resolveValue({ 'Fn::GetAtt': 'Fn.Version.Version' }, local())
    const reffed = resolveValue({ 'Fn::GetAtt': ['Queue', { Ref: 'Stage' }] }, local())
    // Assess
    expect(dotted).toBe('Fn.Version.Version')
    expect(reffed).toBe('Queue.dev')
  })

  it.each([
    ['an unknown resource', { 'Fn::GetAtt': ['Nope', 'Arn'] }, /^GetAtt of unknown resource Nope$/],
    ['text without a dot', { 'Fn::GetAtt': 'Table' }, /^Fn::GetAtt takes a list of 2$/],
    ['a mapping', { 'Fn::GetAtt': { Table: 'Arn' } }, /^Fn::GetAtt takes a list of 2$/],
    ['a list of three', { 'Fn::GetAtt': ['Table', 'Arn', 'x'] }, /takes a list of 2$/],
    [
      'an attribute that is a list',
      { 'Fn::GetAtt': ['Table', ['Arn']] },
      /^an argument of Fn::GetAtt is a list, not text$/,
    ],
  ])('refuses %s', (_, value, message) => {
    // Act / Assess
    expect(failure(() => resolveValue(value as Json, local())).message).toMatch(message)
  })

  it('gives no attribute where only real values will do', () => {
    // Act
    const error = failure(() => resolveValue({ 'Fn::Sub': 'x-${Table.Arn}' }, deploy()))
    // Assess
    expect((error as MissingValueError).uses).toBe('Table.Arn')
    expect(error.message).toBe('Table.Arn is known only once deployed')
  })
})

describe('Fn::Sub', () => {
  it.each([
    ['parameters and pseudo parameters', '${Stage}-${AWS::Region}', 'dev-us-east-1'],
    [
      'resources and attributes',
      '${Table}|${Fn.Arn}',
      'local-items|arn:aws:lambda:us-east-1:123456789012:function:fn-name',
    ],
    ['an escaped ${!Literal}, and a $ alone', '${!Stage}-$x-${!}', '${Stage}-$x-${}'],
  ])('resolves %s', (_, text, expected) => {
    // Act
    const value = resolveValue({ 'Fn::Sub': text }, local())
    // Assess
    expect(value).toBe(expected)
  })

  it('takes its own variables first, resolved only when used', () => {
    // Prepare
    const variables = { Stage: { 'Fn::Join': ['', ['o', 'wn']] }, Unused: { Ref: 'Nope' } }
    // Act
    const value = resolveValue({ 'Fn::Sub': ['${Stage}-${AWS::StackName}', variables] }, local())
    const alone = resolveValue({ 'Fn::Sub': ['${Stage}'] }, local())
    const notMapping = resolveValue({ 'Fn::Sub': ['${Stage}', ['x']] }, local())
    // Assess
    expect(value).toBe('own-local')
    expect(alone).toBe('dev')
    expect(notMapping).toBe('dev')
  })

  it.each([
    ['text that is a list', { 'Fn::Sub': [['a'], {}] }, /^Fn::Sub takes text$/],
    ['a number', { 'Fn::Sub': 3 }, /^Fn::Sub takes text$/],
    ['a list of three', { 'Fn::Sub': ['a', {}, {}] }, /^Fn::Sub takes a list of 1 to 2$/],
    ['an empty list', { 'Fn::Sub': [] }, /^Fn::Sub takes a list of 1 to 2$/],
    [
      'a variable that is a list',
      { 'Fn::Sub': ['${V}', { V: ['a'] }] },
      /^Fn::Sub variable V is a list, not text$/,
    ],
    [
      '${AWS::NoValue}',
      { 'Fn::Sub': '${AWS::NoValue}' },
      /^Fn::Sub \$\{AWS::NoValue\} is AWS::NoValue, not text$/,
    ],
    ['an unknown name', { 'Fn::Sub': '${Nope}' }, /^Ref to unknown name Nope$/],
    ['a name starting with a dot', { 'Fn::Sub': '${.Arn}' }, /^GetAtt of unknown resource $/],
  ])('refuses %s', (_, value, message) => {
    // Act / Assess
    expect(failure(() => resolveValue(value as Json, local())).message).toMatch(message)
  })
})

describe('conditions', () => {
  it.each([
    ['!Equals of text', { 'Fn::Equals': ['a', 'a'] }, true],
    ['!Equals of a number and its text', { 'Fn::Equals': [3, { Ref: 'Count' }] }, true],
    ['!Equals of different text', { 'Fn::Equals': ['a', 'b'] }, false],
    ['!Not', { 'Fn::Not': [{ Condition: 'IsDev' }] }, false],
    ['!And of true and true', { 'Fn::And': [{ Condition: 'IsDev' }, true] }, true],
    ['!And of true and false', { 'Fn::And': [{ Condition: 'IsDev' }, false] }, false],
    ['!Or of false and true', { 'Fn::Or': [false, { Condition: 'IsDev' }] }, true],
    ['!Or of false and false', { 'Fn::Or': [false, { Condition: 'IsProd' }] }, false],
    ['!And of ten', { 'Fn::And': Array(10).fill(true) }, true],
    ['a condition used twice (no cycle)', { Condition: 'Twice' }, true],
  ])('evaluates %s', (_, value, expected) => {
    // Act / Assess
    expect(resolveValue(value as Json, local())).toBe(expected)
  })

  it('evaluates a named condition with the parameters of the scope', () => {
    // Act
    const dev = conditionValue(local(), 'IsDev')
    const prod = conditionValue(local({ parameters: { Stage: 'prod' } }), 'IsDev')
    // Assess
    expect(dev).toBe(true)
    expect(prod).toBe(false)
  })

  it.each([
    ['an unknown condition', 'Nope', /^unknown condition Nope$/],
    ['an inherited name', 'constructor', /^unknown condition constructor$/],
    [
      'a condition that is no boolean',
      'NotABoolean',
      /^condition NotABoolean is not true or false$/,
    ],
    ['a condition that refers to itself', 'Loop', /^condition Loop refers to itself$/],
    ['a function only Rules have', 'RulesOnly', /^Fn::Contains is not supported$/],
  ])('refuses %s', (_, name, message) => {
    // Act / Assess
    expect(failure(() => conditionValue(local(), name)).message).toMatch(message)
  })

  it.each([
    ['!And of one', { 'Fn::And': [true] }, /^Fn::And takes a list of 2 to 10$/],
    ['!Or of eleven', { 'Fn::Or': Array(11).fill(true) }, /^Fn::Or takes a list of 2 to 10$/],
    ['!And of text', { 'Fn::And': [true, 'yes'] }, /^an argument of Fn::And is not true or false$/],
    [
      '!And with a bad condition after a false one',
      { 'Fn::And': [false, 'x'] },
      /is not true or false$/,
    ],
    [
      '!Or with a bad condition after a true one',
      { 'Fn::Or': [true, 'x'] },
      /^an argument of Fn::Or is not true or false$/,
    ],
    ['!Not of text', { 'Fn::Not': ['x'] }, /^an argument of Fn::Not is not true or false$/],
    ['!Not of two', { 'Fn::Not': [true, true] }, /^Fn::Not takes a list of 1$/],
    ['!Equals of one', { 'Fn::Equals': ['a'] }, /^Fn::Equals takes a list of 2$/],
    [
      '!Equals of a list',
      { 'Fn::Equals': ['a', ['a']] },
      /^an argument of Fn::Equals is a list, not text$/,
    ],
    ['!If of a mapping', { 'Fn::If': { IsDev: 'a' } }, /^Fn::If takes a list of 3$/],
    [
      '!If without a condition name',
      { 'Fn::If': [['IsDev'], 'a', 'b'] },
      /^Fn::If takes a condition name first$/,
    ],
  ])('refuses %s', (_, value, message) => {
    // Act / Assess
    expect(failure(() => resolveValue(value as Json, local())).message).toMatch(message)
  })

  it('takes the branch of !If the condition chooses, and only that one', () => {
    // Act
    const chosen = resolveValue({ 'Fn::If': ['IsDev', 'yes', { Ref: 'Nope' }] }, local())
    const other = resolveValue({ 'Fn::If': ['IsProd', { Ref: 'Nope' }, 'no'] }, local())
    // Assess
    expect(chosen).toBe('yes')
    expect(other).toBe('no')
  })
})

describe('lists, maps and encodings', () => {
  it.each([
    [
      '!Join',
      { 'Fn::Join': ['-', ['a', 1, true, { Ref: 'AWS::NoValue' }, { Ref: 'Stage' }]] },
      'a-1-true-dev',
    ],
    ['!Join of a !Split', { 'Fn::Join': ['+', { 'Fn::Split': [',', 'a,b'] }] }, 'a+b'],
    ['!Select by a number', { 'Fn::Select': [1, ['a', 'b']] }, 'b'],
    ['!Select by text', { 'Fn::Select': ['0', ['a', 'b']] }, 'a'],
    ['!Select of a list item', { 'Fn::Select': [0, [['a']]] }, ['a']],
    ['!Split', { 'Fn::Split': ['|', 'a|b|'] }, ['a', 'b', '']],
    ['!FindInMap', { 'Fn::FindInMap': ['Names', 'eu-west-1', 'fn'] }, 'ireland-fn'],
    [
      '!FindInMap of a list',
      { 'Fn::FindInMap': ['Names', { Ref: 'AWS::Region' }, 'list'] },
      ['a', 'b'],
    ],
    ['!Base64', { 'Fn::Base64': 'hé' }, Buffer.from('hé', 'utf8').toString('base64')],
    [
      '!GetAZs of the scope region',
      { 'Fn::GetAZs': '' },
      ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
    ],
    [
      '!GetAZs of a region',
      { 'Fn::GetAZs': 'us-west-2' },
      ['us-west-2a', 'us-west-2b', 'us-west-2c'],
    ],
    ['!ImportValue', { 'Fn::ImportValue': { 'Fn::Sub': '${Stage}-out' } }, 'ImportValue:dev-out'],
  ])('gives a local %s', (_, value, expected) => {
    // Act / Assess
    expect(resolveValue(value as Json, local({ pseudo: { 'AWS::Region': 'eu-west-1' } }))).toEqual(
      expected,
    )
  })

  it.each([
    [
      '!Join with a number as separator',
      { 'Fn::Join': [1, ['a']] },
      /^Fn::Join takes a text separator$/,
    ],
    ['!Join of text', { 'Fn::Join': ['-', 'a'] }, /^Fn::Join takes a list, not text$/],
    [
      '!Join of a mapping',
      { 'Fn::Join': ['-', { a: 1 }] },
      /^Fn::Join takes a list, not a mapping$/,
    ],
    ['!Join of null', { 'Fn::Join': ['-', null] }, /^Fn::Join takes a list, not null$/],
    [
      '!Join of AWS::NoValue',
      { 'Fn::Join': ['-', { Ref: 'AWS::NoValue' }] },
      /^Fn::Join takes a list, not AWS::NoValue$/,
    ],
    [
      '!Join of a list in a list',
      { 'Fn::Join': ['-', [['a']]] },
      /^an item of Fn::Join is a list, not text$/,
    ],
    [
      '!Join of a mapping in a list',
      { 'Fn::Join': ['-', [{ a: 1 }]] },
      /^an item of Fn::Join is a mapping, not text$/,
    ],
    [
      '!Join of null in a list',
      { 'Fn::Join': ['-', [null]] },
      /^an item of Fn::Join is null, not text$/,
    ],
    [
      '!Select past the end',
      { 'Fn::Select': [2, ['a', 'b']] },
      /^Fn::Select: the index is out of range$/,
    ],
    ['!Select of a negative index', { 'Fn::Select': [-1, ['a']] }, /out of range$/],
    ['!Select of " 1"', { 'Fn::Select': [' 1', ['a', 'b']] }, /out of range$/],
    ['!Select of "1.0"', { 'Fn::Select': ['1.0', ['a', 'b']] }, /out of range$/],
    ['!Select of "length"', { 'Fn::Select': ['length', ['a', 'b']] }, /out of range$/],
    ['!Select of text', { 'Fn::Select': [0, 'a'] }, /^Fn::Select takes a list, not text$/],
    [
      '!Split with a list as separator',
      { 'Fn::Split': [[','], 'a'] },
      /^Fn::Split takes a text separator$/,
    ],
    [
      '!Split of a list',
      { 'Fn::Split': [',', ['a']] },
      /^an argument of Fn::Split is a list, not text$/,
    ],
    [
      '!FindInMap of an unknown map',
      { 'Fn::FindInMap': ['Nope', 'eu-west-1', 'fn'] },
      /^Fn::FindInMap: no such entry in Mappings$/,
    ],
    [
      '!FindInMap of an unknown key',
      { 'Fn::FindInMap': ['Names', 'us-east-1', 'fn'] },
      /no such entry/,
    ],
    [
      '!FindInMap of an unknown second key',
      { 'Fn::FindInMap': ['Names', 'eu-west-1', 'nope'] },
      /no such entry/,
    ],
    [
      '!FindInMap of inherited keys',
      { 'Fn::FindInMap': ['Names', 'eu-west-1', 'constructor'] },
      /no such entry/,
    ],
    [
      '!FindInMap of two',
      { 'Fn::FindInMap': ['Names', 'eu-west-1'] },
      /^Fn::FindInMap takes a list of 3$/,
    ],
    [
      '!Base64 of a mapping',
      { 'Fn::Base64': { a: 1 } },
      /^an argument of Fn::Base64 is a mapping, not text$/,
    ],
    ['!Cidr', { 'Fn::Cidr': ['10.0.0.0/16', 1, 8] }, /^Fn::Cidr is not supported$/],
  ])('refuses %s', (_, value, message) => {
    // Act / Assess
    expect(failure(() => resolveValue(value as Json, local())).message).toMatch(message)
  })

  it.each([
    ['!GetAZs', { 'Fn::GetAZs': '' }, 'Fn::GetAZs', 'the Availability Zones are known only in AWS'],
    [
      '!ImportValue',
      { 'Fn::ImportValue': 'shared' },
      'the export shared',
      "shared is another stack's export",
    ],
  ])('gives no %s where only real values will do', (_, value, uses, message) => {
    // Act
    const error = failure(() => resolveValue(value as Json, deploy()))
    // Assess
    expect((error as MissingValueError).uses).toBe(uses)
    expect(error.message).toBe(message)
  })
})

describe('textOf', () => {
  it.each([
    ['text', 'a', 'a'],
    ['a number', 3, '3'],
    ['a boolean', false, 'false'],
  ])('reads %s as text', (_, value, expected) => {
    // Act / Assess
    expect(isText(value)).toBe(true)
    expect(textOf(value, 'it')).toBe(expected)
  })

  it.each<[string, Resolved, string]>([
    ['AWS::NoValue', NO_VALUE, 'it is AWS::NoValue, not text'],
    ['a list', ['a'], 'it is a list, not text'],
    ['null', null, 'it is null, not text'],
    ['a mapping', { a: 'b' }, 'it is a mapping, not text'],
  ])('refuses %s, naming only its kind', (_, value, message) => {
    // Act
    const error = failure(() => textOf(value, 'it'))
    // Assess
    expect(isText(value)).toBe(false)
    expect(error.message).toBe(message)
  })
})
