// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation !Sub syntax, not JS
import { writeFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CliUsageError } from '../../../cli/src/errors.ts'
import {
  type DeployValues,
  defaultSamconfig,
  findFunction,
  loadTemplate,
  samconfigStackName,
  type TemplateFile,
} from '../../../cli/src/template.ts'
import { errorOf } from '../../support/thrown.ts'
import { SAMCONFIG, TEMPLATE, tempDir } from './harness.ts'

let tmp: ReturnType<typeof tempDir>
beforeEach(() => {
  tmp = tempDir()
})
afterEach(() => tmp.cleanup())

const scope = (stackName = 'stack', region: string | undefined = 'eu-west-1'): DeployValues => ({
  stackName: () => stackName,
  region,
})
const template = (text: string) => {
  writeFileSync(tmp.path('t.yaml'), text)
  return loadTemplate(tmp.path('t.yaml'))
}
/** The whole document, top-level keys other than a template's included. */
const docOf = (t: TemplateFile) => t.doc as unknown as Record<string, unknown>
const fnTemplate = (properties: string, extra = '') => `${extra}
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
${properties}
`
const failure = (act: () => unknown) => {
  const error = errorOf(act)
  expect(error).toBeInstanceOf(CliUsageError)
  return (error as Error).message
}

describe('loadTemplate', () => {
  it('reads CloudFormation short tags as plain data', () => {
    // Act
    const t = template(TEMPLATE)
    // Assess
    const resources = t.doc.Resources as Record<string, { Properties: Record<string, unknown> }>
    expect(resources.SecureItemsFunction?.Properties.FunctionName).toEqual({
      'Fn::Sub': '${AWS::StackName}-secure-items',
    })
  })

  it('reads every intrinsic in its scalar, sequence and mapping forms', () => {
    // Act
    const t = docOf(
      template(`Resources: {}
A: !GetAtt Role.Arn
B: !Join [",", [a, b]]
C: !Transform { Name: x }
D: !Condition IsProd
E: !Ref AWS::NoValue
`),
    )
    // Assess: the short !GetAtt is split the way CloudFormation reads it
    expect(t.A).toEqual({ 'Fn::GetAtt': ['Role', 'Arn'] })
    expect(t.B).toEqual({ 'Fn::Join': [',', ['a', 'b']] })
    expect(t.C).toEqual({ 'Fn::Transform': { Name: 'x' } })
    expect(t.D).toEqual({ Condition: 'IsProd' })
    expect(t.E).toEqual({ Ref: 'AWS::NoValue' })
  })

  it.each([
    ['a missing file', null, /^cannot read the template .*missing\.yaml \(ENOENT\)$/],
    ['invalid YAML', 'a: [b', /is not valid YAML or JSON/],
    // One line, without the excerpt the yaml package appends (found by test/fuzz).
    [
      'invalid YAML (the reason only)',
      'Resources:\n  a: b\n   c: d: e\n',
      /missing\.yaml is not valid YAML or JSON \(Nested mappings are not allowed in compact mappings at line 2, column 6\)$/,
    ],
    [
      'a document without Resources',
      'Parameters: {}',
      /is not a CloudFormation \/ SAM template \(no Resources\)$/,
    ],
    ['a scalar document', 'just text', /is not a CloudFormation \/ SAM template/],
    ['an empty document', '', /is not a CloudFormation \/ SAM template/],
    ['a null document', '~', /is not a CloudFormation \/ SAM template/],
    ['null Resources', 'Resources: ~', /is not a CloudFormation \/ SAM template/],
    // CloudFormation reads no aliases: neither does the CLI (the reader is shared).
    [
      'an alias',
      'Resources: *nope\n',
      /missing\.yaml is not a CloudFormation \/ SAM template \(YAML alias \*nope: CloudFormation does not support aliases\)$/,
    ],
  ])('refuses %s', (_, text, message) => {
    // Prepare
    if (text !== null) writeFileSync(tmp.path('missing.yaml'), text)
    // Act
    const error = failure(() => loadTemplate(tmp.path('missing.yaml')))
    // Assess
    expect(error).toMatch(message)
  })
})

describe('loadTemplate (more)', () => {
  const INTRINSICS = ['Sub', 'GetAtt', 'Join', 'If', 'Select', 'Split', 'FindInMap', 'Base64']
    .concat(['Cidr', 'ImportValue', 'GetAZs', 'Equals', 'And', 'Or', 'Not', 'Transform'])
    .concat(['ToJsonString', 'Length'])

  it.each(INTRINSICS)('reads !%s as Fn::%s, whatever its form', (name) => {
    // Act
    const t = docOf(
      template(`Resources: {}\nA: !${name} x.y\nB: !${name} [1]\nC: !${name} { a: 1 }\n`),
    )
    // Assess: only the short !GetAtt is split (at its first dot)
    expect(t.A).toEqual({ [`Fn::${name}`]: name === 'GetAtt' ? ['x', 'y'] : 'x.y' })
    expect(t.B).toEqual({ [`Fn::${name}`]: [1] })
    expect(t.C).toEqual({ [`Fn::${name}`]: { a: 1 } })
  })

  it('keeps a colon inside the yaml reason, drops the one before its excerpt', () => {
    // Act
    const error = failure(() => template('Resources: !Nope x\n'))
    // Assess
    expect(error).toMatch(
      /t\.yaml is not valid YAML or JSON \(Unresolved tag: !Nope at line 1, column 12\)$/,
    )
  })

  it("lets an error that is not the reader's own through as itself (a bug is no usage error)", async () => {
    // Prepare
    vi.resetModules()
    vi.doMock('../../../cli/src/template/read.ts', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../../cli/src/template/read.ts')>()),
      readTemplate: () => {
        throw new TypeError('a bug')
      },
    }))
    try {
      const fresh = await import('../../../cli/src/template.ts')
      // Act / Assess
      expect(() => fresh.loadTemplate(tmp.path('t.yaml'))).toThrow(TypeError)
    } finally {
      vi.doUnmock('../../../cli/src/template/read.ts')
      vi.resetModules()
    }
  })

  it('reads a template with a repeated key (the last one wins) instead of refusing it', () => {
    // Act
    const t = template('Resources:\n  Fn:\n    Type: x\n    Type: AWS::Lambda::Function\n')
    // Assess: as CloudFormation deploys it
    expect(t.doc.Resources).toEqual({ Fn: { Type: 'AWS::Lambda::Function' } })
  })
})

describe('findFunction', () => {
  it('resolves !Sub ${AWS::StackName} and merges Globals into the variables, with their sizes', () => {
    // Prepare
    const t = template(TEMPLATE)
    // Act
    const fn = findFunction(t, 'SecureFetchFunction', scope('my-stack'))
    // Assess
    expect(fn.functionName).toBe('my-stack-secure-fetch')
    expect(fn.nameSource).toBe('FunctionName')
    expect(fn.variables.map((v) => [v.name, v.bytes])).toEqual([
      ['NODE_OPTIONS', '--enable-source-maps'.length],
      ['LOG_LEVEL', undefined],
      ['API_TOKEN', 0],
      ['UPSTREAM_URL', 'https://example.com/status'.length],
    ])
  })

  it.each([
    ['plain text', '      FunctionName: plain-name', 'plain-name'],
    ['a number', '      FunctionName: 42', '42'],
    ['a boolean', '      FunctionName: true', 'true'],
    [
      '!Sub with a non-map second element',
      '      FunctionName: !Sub ["${AWS::StackName}-x", [1]]',
      'stack-x',
    ],
    [
      '!Sub with variables, ${!Literal} and AWS::Region',
      '      FunctionName: !Sub ["${AWS::StackName}-${Part}-${AWS::Region}-${!Lit}", { Part: !Ref Suffix }]',
      'stack-api-eu-west-1-${Lit}',
    ],
    ['!Sub of a parameter default', '      FunctionName: !Sub "${Suffix}-fn"', 'api-fn'],
    [
      '!Join of parts',
      '      FunctionName: !Join ["-", [!Ref AWS::StackName, x, !Ref Suffix]]',
      'stack-x-api',
    ],
    ['!Ref of a parameter', '      FunctionName: !Ref Suffix', 'api'],
    ['!Ref of a parameter whose Default is a number', '      FunctionName: !Ref Count', '3'],
    [
      '!Select of !Split',
      '      FunctionName: !Select [1, !Split [",", !Sub "a,${AWS::StackName}-b,c"]]',
      'stack-b',
    ],
    [
      '!FindInMap keyed by the region',
      '      FunctionName: !FindInMap [Names, !Ref AWS::Region, fn]',
      'ireland-fn',
    ],
    [
      '!If over !And / !Or of conditions',
      '      FunctionName: !If [Both, !Sub "${AWS::StackName}-both", other]',
      'stack-both',
    ],
    [
      '!Sub of the Ref of a table named in the template',
      '      FunctionName: !Sub "${Table}-reader"',
      'stack-items-reader',
    ],
  ])('resolves a FunctionName given as %s', (_, properties, name) => {
    // Prepare
    const t = template(
      fnTemplate(
        `${properties}
  Table:
    Type: AWS::DynamoDB::Table
    Properties: { TableName: !Sub "\${AWS::StackName}-items" }`,
        `Parameters:
  Suffix: { Type: String, Default: api }
  Count: { Type: Number, Default: 3 }
Mappings:
  Names:
    eu-west-1: { fn: ireland-fn }
Conditions:
  InIreland: !Equals [!Ref AWS::Region, eu-west-1]
  Both: !And [!Condition InIreland, !Or [!Equals [a, b], !Condition InIreland]]
`,
      ),
    )
    // Act
    const fn = findFunction(t, 'Fn', scope())
    // Assess
    expect(fn.functionName).toBe(name)
  })

  it('prefers the KMS_SECRETS_FUNCTION_NAME the function sets (what the middleware uses)', () => {
    // Prepare
    const t = template(
      fnTemplate(`      FunctionName: real-name
      Environment:
        Variables:
          KMS_SECRETS_FUNCTION_NAME: !Sub \${AWS::StackName}-alias`),
    )
    // Act
    const fn = findFunction(t, 'Fn', scope('s'))
    // Assess
    expect(fn.functionName).toBe('s-alias')
    expect(fn.nameSource).toBe('KMS_SECRETS_FUNCTION_NAME')
  })

  it('leaves out what an !If turns into AWS::NoValue: a KMS_SECRETS_FUNCTION_NAME, then a FunctionName', () => {
    // Prepare
    const t = template(
      fnTemplate(
        `      FunctionName: !If [Never, n, !Ref AWS::NoValue]
      Environment:
        Variables:
          KMS_SECRETS_FUNCTION_NAME: !If [Never, n, !Ref AWS::NoValue]`,
        'Conditions:\n  Never: !Equals [a, b]\n',
      ),
    )
    // Act
    const error = failure(() => findFunction(t, 'Fn', scope()))
    // Assess: as deployed, the function has neither
    expect(error).toMatch(/^Fn has no FunctionName: CloudFormation makes one up/)
  })

  it('does not read samconfig.toml for a template whose names do not use the stack name', () => {
    // Prepare
    const t = template(fnTemplate('      FunctionName: plain-name'))
    const stackName = vi.fn((): string => {
      throw new CliUsageError('no samconfig')
    })
    // Act
    const fn = findFunction(t, 'Fn', { stackName, region: undefined })
    // Assess
    expect(fn.functionName).toBe('plain-name')
    expect(stackName).not.toHaveBeenCalled()
  })

  it('lists a variable whose value is no text (a list) without its value or size', () => {
    // Prepare
    const t = template(
      fnTemplate(`      FunctionName: n
      Environment:
        Variables:
          LIST: !Split [",", "a,b"]
          TEXT: a`),
    )
    // Act
    const fn = findFunction(t, 'Fn', scope())
    // Assess
    expect(fn.variables.map((v) => [v.name, v.text, v.bytes])).toEqual([
      ['LIST', undefined, undefined],
      ['TEXT', 'a', 1],
    ])
  })

  it("lets the stack name's own error through (no samconfig.toml: pass --stack-name)", () => {
    // Prepare
    const t = template(fnTemplate('      FunctionName: !Sub ${AWS::StackName}-fn'))
    const stackName = () => samconfigStackName(tmp.path('none.toml'), 'default')
    // Act
    const error = failure(() => findFunction(t, 'Fn', { stackName, region: undefined }))
    // Assess
    expect(error).toMatch(/^the template's function name uses the stack name: pass --stack-name/)
  })

  it('uses FunctionName when KMS_SECRETS_FUNCTION_NAME is declared empty (as for sam local)', () => {
    // Prepare
    const t = template(
      fnTemplate(`      FunctionName: !Sub \${AWS::StackName}-real
      Environment:
        Variables:
          KMS_SECRETS_FUNCTION_NAME: ""`),
    )
    // Act
    const fn = findFunction(t, 'Fn', scope('s'))
    // Assess
    expect(fn.functionName).toBe('s-real')
    expect(fn.nameSource).toBe('FunctionName')
  })

  it.each([
    [
      'no FunctionName',
      '      Runtime: nodejs24.x',
      /^Fn has no FunctionName: CloudFormation makes one up/,
    ],
    [
      'an unknown parameter',
      '      FunctionName: !Ref Nope',
      /uses Nope, which has no value here; pass --function-name$/,
    ],
    [
      'a parameter without default',
      '      FunctionName: !Sub "${NoDefault}-x"',
      /uses NoDefault, which has no value here/,
    ],
    [
      'an attribute',
      '      FunctionName: !GetAtt Other.Name',
      /^cannot work out Fn FunctionName from the template: it uses Other\.Name, which has no value here; pass --function-name$/,
    ],
    [
      'an attribute of a resource it has (known only once deployed)',
      '      FunctionName: !Sub "${Fn.Arn}-x"',
      /^cannot work out Fn FunctionName from the template: it uses Fn\.Arn, which has no value here; pass --function-name$/,
    ],
    [
      "another stack's export",
      '      FunctionName: !ImportValue shared-name',
      /: it uses the export shared-name, which has no value here; pass --function-name$/,
    ],
    [
      'the Availability Zones',
      '      FunctionName: !Select [0, !GetAZs ""]',
      /: it uses Fn::GetAZs, which has no value here/,
    ],
    [
      'the name of a resource CloudFormation makes up',
      '      FunctionName: !Ref Key\n  Key:\n    Type: AWS::KMS::Key',
      /: it uses Key, which has no value here/,
    ],
    [
      'a FunctionName that refers to itself',
      '      FunctionName: !Join ["-", [!Ref Fn]]',
      /\(the name of Fn refers to itself\)/,
    ],
    [
      'an intrinsic CloudFormation has but the resolver not',
      '      FunctionName: !Cidr [10.0.0.0/16, 1, 8]',
      /^cannot work out Fn FunctionName from the template \(Fn::Cidr is not supported\): pass --function-name$/,
    ],
    [
      'a pseudo parameter CloudFormation has not',
      '      FunctionName: !Ref AWS::Nope',
      /\(unknown pseudo parameter AWS::Nope\)/,
    ],
    [
      'an !If on a condition the template lacks',
      '      FunctionName: !If [Missing, a, b]',
      /\(unknown condition Missing\)/,
    ],
    [
      'a !Sub of a list without text',
      '      FunctionName: !Sub [[a], {}]',
      /cannot work out Fn FunctionName/,
    ],
    ['AWS::AccountId', '      FunctionName: !Sub "${AWS::AccountId}-fn"', /uses AWS::AccountId/],
    ['a broken !Join', '      FunctionName: !Join [1, 2]', /cannot work out Fn FunctionName/],
    [
      'a null FunctionName',
      '      FunctionName: ~',
      /^cannot work out Fn FunctionName from the template \(it is null, not text\): pass --function-name$/,
    ],
    [
      'a !Join with a number as separator',
      '      FunctionName: !Join [1, [a, b]]',
      /cannot work out Fn FunctionName/,
    ],
    [
      'a KMS_SECRETS_FUNCTION_NAME it cannot work out',
      '      FunctionName: n\n      Environment:\n        Variables:\n          KMS_SECRETS_FUNCTION_NAME: !GetAtt X.Y',
      /^cannot work out Fn KMS_SECRETS_FUNCTION_NAME from the template: it uses X\.Y, which has no value here; pass --function-name$/,
    ],
    [
      'a KMS_SECRETS_FUNCTION_NAME of the wrong shape',
      '      FunctionName: n\n      Environment:\n        Variables:\n          KMS_SECRETS_FUNCTION_NAME: !Join [1, 2]',
      /^cannot work out Fn KMS_SECRETS_FUNCTION_NAME from the template \(Fn::Join takes a text separator\): pass --function-name$/,
    ],
    [
      'a list inside !Join',
      '      FunctionName: !Join ["-", [[a]]]',
      /cannot work out Fn FunctionName/,
    ],
  ])('refuses a function with %s', (_, properties, message) => {
    // Prepare
    const t = template(fnTemplate(properties, 'Parameters:\n  NoDefault:\n    Type: String\n'))
    // Act
    const error = failure(() => findFunction(t, 'Fn', scope()))
    // Assess
    expect(error).toMatch(message)
  })

  it.each([
    ['no region', undefined],
    ['an empty region', ''],
  ])('with %s, ${AWS::Region} cannot be worked out', (_, region) => {
    // Prepare
    const t = template(fnTemplate('      FunctionName: !Sub "${AWS::Region}-fn"'))
    // Act
    const error = failure(() => findFunction(t, 'Fn', { stackName: () => 's', region }))
    // Assess
    expect(error).toMatch(/uses AWS::Region/)
  })

  it('lists the template functions when the logical id is wrong or not a function', () => {
    // Prepare
    const t = template(TEMPLATE)
    const empty = template('Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n  Odd: 3\n')
    // Act
    const wrong = failure(() => findFunction(t, 'Nope', scope()))
    const table = failure(() => findFunction(t, 'Table', scope()))
    const none = failure(() => findFunction(empty, 'Odd', scope()))
    // Assess
    expect(wrong).toMatch(
      /has no function Nope \(functions: SecureItemsFunction, SecureFetchFunction\)$/,
    )
    expect(table).toMatch(/has no function Table/)
    expect(none).toMatch(/\(functions: none\)$/)
  })

  it('reads functions without Properties, Environment or Variables', () => {
    // Prepare
    const bare = template(
      'Globals: { Function: { Environment: { Variables: [] } } }\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n',
    )
    const noVars = template(fnTemplate('      FunctionName: n\n      Environment: {}'))
    // Act
    const error = failure(() => findFunction(bare, 'Fn', scope()))
    const fn = findFunction(noVars, 'Fn', scope())
    // Assess
    expect(error).toMatch(/has no FunctionName/)
    expect(fn.variables).toEqual([])
  })
})

describe('samconfigStackName', () => {
  it('takes stack_name from [<env>.deploy.parameters], else [<env>.global.parameters]', () => {
    // Prepare
    writeFileSync(tmp.path('samconfig.toml'), SAMCONFIG)
    // Act
    const deploy = samconfigStackName(tmp.path('samconfig.toml'), 'default')
    const global = samconfigStackName(tmp.path('samconfig.toml'), 'prod')
    // Assess
    expect(deploy).toBe('my-stack')
    expect(global).toBe('prod-stack')
  })

  it('says to pass --stack-name when there is no samconfig or no stack_name', () => {
    // Prepare
    writeFileSync(tmp.path('samconfig.toml'), SAMCONFIG)
    // Act
    const missing = failure(() => samconfigStackName(tmp.path('nope.toml'), 'default'))
    const noName = failure(() => samconfigStackName(tmp.path('samconfig.toml'), 'staging'))
    // Assess
    expect(missing).toMatch(
      /^the template's function name uses the stack name: pass --stack-name \(cannot read .*nope\.toml: ENOENT\)$/,
    )
    expect(noName).toMatch(/has no stack_name for config env "staging"\)$/)
  })

  it('reads what TOML allows: CRLF, indentation, no spaces around =, comments after headers and values', () => {
    // Prepare
    const text = [
      '[default.deploy.parameters] # the deployed one',
      "\tstack_name='my-stack' # see README",
      '[default.global.parameters]   ',
      '  stack_name="from-global"',
    ].join('\r\n')
    writeFileSync(tmp.path('samconfig.toml'), text)
    // Act
    const name = samconfigStackName(tmp.path('samconfig.toml'), 'default')
    // Assess
    expect(name).toBe('my-stack')
  })

  it('ignores what is not a table header or a quoted pair', () => {
    // Prepare
    const text = [
      'stack_name = "before-any-table"',
      '[default.deploy.parameters]junk',
      'stack_name = "under-a-junk-header"',
      '[default.global.parameters]',
      'stack_name = "kept" # see [other.table]',
      '# stack_name = "commented-out"',
      'stack_name = "with-junk" junk',
      'stack_name = unquoted',
      'region = "eu-west-1"',
    ].join('\n')
    writeFileSync(tmp.path('samconfig.toml'), text)
    // Act
    const name = samconfigStackName(tmp.path('samconfig.toml'), 'default')
    // Assess: the junk header line is no header (its pair lands in no table); the lines
    // after "kept" would replace it if they were read as pairs
    expect(name).toBe('kept')
  })

  it('is looked for beside the template by default', () => {
    // Act / Assess
    expect(defaultSamconfig('/a/b/template.yaml')).toBe('/a/b/samconfig.toml')
  })
})
