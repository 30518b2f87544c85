// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation !Sub syntax, not JS
import { writeFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CliUsageError } from '../../../src/cli/errors.ts'
import {
  defaultSamconfig,
  findFunction,
  loadTemplate,
  type ResolveScope,
  samconfigStackName,
  type Template,
} from '../../../src/template/resolve.ts'
import { SAMCONFIG, TEMPLATE, tempDir } from './harness.ts'

let tmp: ReturnType<typeof tempDir>
beforeEach(() => {
  tmp = tempDir()
})
afterEach(() => tmp.cleanup())

const scope = (stackName = 'stack', region: string | undefined = 'eu-west-1'): ResolveScope => ({
  stackName: async () => stackName,
  region,
})
const template = async (text: string) => {
  writeFileSync(tmp.path('t.yaml'), text)
  return loadTemplate(tmp.path('t.yaml'))
}
/** The whole document, top-level keys other than a template's included. */
const docOf = (t: Template) => t.doc as unknown as Record<string, unknown>
const fnTemplate = (properties: string, extra = '') => `${extra}
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
${properties}
`
const failure = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(CliUsageError)
  return (error as Error).message
}

describe('loadTemplate', () => {
  it('reads CloudFormation short tags as plain data', async () => {
    // Act
    const t = await template(TEMPLATE)
    // Assess
    const resources = t.doc.Resources as Record<string, { Properties: Record<string, unknown> }>
    expect(resources.SecureItemsFunction?.Properties.FunctionName).toEqual({
      'Fn::Sub': '${AWS::StackName}-secure-items',
    })
  })

  it('reads every intrinsic in its scalar, sequence and mapping forms', async () => {
    // Act
    const t = docOf(
      await template(`Resources: {}
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
  ])('refuses %s', async (_, text, message) => {
    // Prepare
    if (text !== null) writeFileSync(tmp.path('missing.yaml'), text)
    // Act
    const error = await failure(loadTemplate(tmp.path('missing.yaml')))
    // Assess
    expect(error).toMatch(message)
  })
})

describe('loadTemplate (more)', () => {
  const INTRINSICS = ['Sub', 'GetAtt', 'Join', 'If', 'Select', 'Split', 'FindInMap', 'Base64']
    .concat(['Cidr', 'ImportValue', 'GetAZs', 'Equals', 'And', 'Or', 'Not', 'Transform'])
    .concat(['ToJsonString', 'Length'])

  it.each(INTRINSICS)('reads !%s as Fn::%s, whatever its form', async (name) => {
    // Act
    const t = docOf(
      await template(`Resources: {}\nA: !${name} x.y\nB: !${name} [1]\nC: !${name} { a: 1 }\n`),
    )
    // Assess: only the short !GetAtt is split (at its first dot)
    expect(t.A).toEqual({ [`Fn::${name}`]: name === 'GetAtt' ? ['x', 'y'] : 'x.y' })
    expect(t.B).toEqual({ [`Fn::${name}`]: [1] })
    expect(t.C).toEqual({ [`Fn::${name}`]: { a: 1 } })
  })

  it('keeps a colon inside the yaml reason, drops the one before its excerpt', async () => {
    // Act
    const error = await failure(template('Resources: !Nope x\n'))
    // Assess
    expect(error).toMatch(
      /t\.yaml is not valid YAML or JSON \(Unresolved tag: !Nope at line 1, column 12\)$/,
    )
  })

  it("lets an error that is not the reader's own through as itself (a bug is no usage error)", async () => {
    // Prepare
    vi.resetModules()
    vi.doMock('../../../src/template/read.ts', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../../src/template/read.ts')>()),
      readTemplate: () => {
        throw new TypeError('a bug')
      },
    }))
    try {
      const fresh = await import('../../../src/template/resolve.ts')
      // Act
      const error = await fresh.loadTemplate(tmp.path('t.yaml')).catch((e: unknown) => e)
      // Assess
      expect(error).toBeInstanceOf(TypeError)
    } finally {
      vi.doUnmock('../../../src/template/read.ts')
      vi.resetModules()
    }
  })

  it('reads a template with a repeated key (the last one wins) instead of refusing it', async () => {
    // Act
    const t = await template('Resources:\n  Fn:\n    Type: x\n    Type: AWS::Lambda::Function\n')
    // Assess: as CloudFormation deploys it
    expect(t.doc.Resources).toEqual({ Fn: { Type: 'AWS::Lambda::Function' } })
  })
})

describe('findFunction', () => {
  it('resolves !Sub ${AWS::StackName} and merges Globals into the variables, with their sizes', async () => {
    // Prepare
    const t = await template(TEMPLATE)
    // Act
    const fn = await findFunction(t, 'SecureFetchFunction', scope('my-stack'))
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
  ])('resolves a FunctionName given as %s', async (_, properties, name) => {
    // Prepare
    const t = await template(
      fnTemplate(properties, 'Parameters:\n  Suffix:\n    Type: String\n    Default: api\n'),
    )
    // Act
    const fn = await findFunction(t, 'Fn', scope())
    // Assess
    expect(fn.functionName).toBe(name)
  })

  it('prefers the KMS_SECRETS_FUNCTION_NAME the function sets (what the middleware uses)', async () => {
    // Prepare
    const t = await template(
      fnTemplate(`      FunctionName: real-name
      Environment:
        Variables:
          KMS_SECRETS_FUNCTION_NAME: !Sub \${AWS::StackName}-alias`),
    )
    // Act
    const fn = await findFunction(t, 'Fn', scope('s'))
    // Assess
    expect(fn.functionName).toBe('s-alias')
    expect(fn.nameSource).toBe('KMS_SECRETS_FUNCTION_NAME')
  })

  it('uses FunctionName when KMS_SECRETS_FUNCTION_NAME is declared empty (as for sam local)', async () => {
    // Prepare
    const t = await template(
      fnTemplate(`      FunctionName: !Sub \${AWS::StackName}-real
      Environment:
        Variables:
          KMS_SECRETS_FUNCTION_NAME: ""`),
    )
    // Act
    const fn = await findFunction(t, 'Fn', scope('s'))
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
      /^cannot work out Fn FunctionName from the template \(only plain text, !Sub, !Ref and !Join of them\): pass --function-name$/,
    ],
    [
      'a !Sub of a list without text',
      '      FunctionName: !Sub [[a], {}]',
      /cannot work out Fn FunctionName/,
    ],
    ['AWS::AccountId', '      FunctionName: !Sub "${AWS::AccountId}-fn"', /uses AWS::AccountId/],
    ['a broken !Join', '      FunctionName: !Join [1, 2]', /cannot work out Fn FunctionName/],
    ['a null FunctionName', '      FunctionName: ~', /cannot work out Fn FunctionName/],
    [
      'a !Join with a number as separator',
      '      FunctionName: !Join [1, [a, b]]',
      /cannot work out Fn FunctionName/,
    ],
    [
      'a KMS_SECRETS_FUNCTION_NAME it cannot work out',
      '      FunctionName: n\n      Environment:\n        Variables:\n          KMS_SECRETS_FUNCTION_NAME: !GetAtt X.Y',
      /^cannot work out Fn KMS_SECRETS_FUNCTION_NAME from the template \(/,
    ],
    [
      'a list inside !Join',
      '      FunctionName: !Join ["-", [[a]]]',
      /cannot work out Fn FunctionName/,
    ],
  ])('refuses a function with %s', async (_, properties, message) => {
    // Prepare
    const t = await template(
      fnTemplate(properties, 'Parameters:\n  NoDefault:\n    Type: String\n'),
    )
    // Act
    const error = await failure(findFunction(t, 'Fn', scope()))
    // Assess
    expect(error).toMatch(message)
  })

  it('without a region, ${AWS::Region} cannot be worked out', async () => {
    // Prepare
    const t = await template(fnTemplate('      FunctionName: !Sub "${AWS::Region}-fn"'))
    // Act
    const error = await failure(
      findFunction(t, 'Fn', { stackName: async () => 's', region: undefined }),
    )
    // Assess
    expect(error).toMatch(/uses AWS::Region/)
  })

  it('lists the template functions when the logical id is wrong or not a function', async () => {
    // Prepare
    const t = await template(TEMPLATE)
    const empty = await template('Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n  Odd: 3\n')
    // Act
    const wrong = await failure(findFunction(t, 'Nope', scope()))
    const table = await failure(findFunction(t, 'Table', scope()))
    const none = await failure(findFunction(empty, 'Odd', scope()))
    // Assess
    expect(wrong).toMatch(
      /has no function Nope \(functions: SecureItemsFunction, SecureFetchFunction\)$/,
    )
    expect(table).toMatch(/has no function Table/)
    expect(none).toMatch(/\(functions: none\)$/)
  })

  it('reads functions without Properties, Environment or Variables', async () => {
    // Prepare
    const bare = await template(
      'Globals: { Function: { Environment: { Variables: [] } } }\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n',
    )
    const noVars = await template(fnTemplate('      FunctionName: n\n      Environment: {}'))
    // Act
    const error = await failure(findFunction(bare, 'Fn', scope()))
    const fn = await findFunction(noVars, 'Fn', scope())
    // Assess
    expect(error).toMatch(/has no FunctionName/)
    expect(fn.variables).toEqual([])
  })
})

describe('samconfigStackName', () => {
  it('takes stack_name from [<env>.deploy.parameters], else [<env>.global.parameters]', async () => {
    // Prepare
    writeFileSync(tmp.path('samconfig.toml'), SAMCONFIG)
    // Act
    const deploy = await samconfigStackName(tmp.path('samconfig.toml'), 'default')
    const global = await samconfigStackName(tmp.path('samconfig.toml'), 'prod')
    // Assess
    expect(deploy).toBe('my-stack')
    expect(global).toBe('prod-stack')
  })

  it('says to pass --stack-name when there is no samconfig or no stack_name', async () => {
    // Prepare
    writeFileSync(tmp.path('samconfig.toml'), SAMCONFIG)
    // Act
    const missing = await failure(samconfigStackName(tmp.path('nope.toml'), 'default'))
    const noName = await failure(samconfigStackName(tmp.path('samconfig.toml'), 'staging'))
    // Assess
    expect(missing).toMatch(
      /^the template's function name uses the stack name: pass --stack-name \(cannot read .*nope\.toml: ENOENT\)$/,
    )
    expect(noName).toMatch(/has no stack_name for config env "staging"\)$/)
  })

  it('reads what TOML allows: CRLF, indentation, no spaces around =, comments after headers and values', async () => {
    // Prepare
    const text = [
      '[default.deploy.parameters] # the deployed one',
      "\tstack_name='my-stack' # see README",
      '[default.global.parameters]   ',
      '  stack_name="from-global"',
    ].join('\r\n')
    writeFileSync(tmp.path('samconfig.toml'), text)
    // Act
    const name = await samconfigStackName(tmp.path('samconfig.toml'), 'default')
    // Assess
    expect(name).toBe('my-stack')
  })

  it('ignores what is not a table header or a quoted pair', async () => {
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
    const name = await samconfigStackName(tmp.path('samconfig.toml'), 'default')
    // Assess: the junk header line is no header (its pair lands in no table); the lines
    // after "kept" would replace it if they were read as pairs
    expect(name).toBe('kept')
  })

  it('is looked for beside the template by default', () => {
    // Act / Assess
    expect(defaultSamconfig('/a/b/template.yaml')).toBe('/a/b/samconfig.toml')
  })
})
