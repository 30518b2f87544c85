// cli/src/template/read.ts: the CloudFormation YAML reader (shared by the CLI and the dev tooling),
// the function listing with SAM Globals and the samconfig.toml reader, on small inline
// templates. The CLI's use of it: test/unit/cli/template.test.ts; the dev tooling's:
// test/template/reader.test.ts.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  functionResources,
  type Json,
  mergeGlobals,
  parseTemplate,
  readTemplate,
  samconfigParameter,
  TemplateError,
} from '../../cli/src/template/read.ts'

/** The whole document, top-level keys other than a template's included. */
const parsed = (text: string) => parseTemplate(text) as unknown as Record<string, Json>

describe('parseTemplate', () => {
  it('turns short-form tags into the long form, GetAtt split at the first dot', () => {
    // Prepare
    const text = [
      'Resources: {}',
      'a: !Ref Thing',
      'b: !GetAtt Fn.Version.Version',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
      'c: !Sub ["${A}-x", { A: !Ref B }]',
      'd: !If [Cond, !GetAZs "", !ImportValue shared]',
      'e: !Cidr [10.0.0.0/16, 4, 8]',
      'f: !FindInMap [M, !Ref AWS::Region, k]',
    ].join('\n')
    // Act
    const t = parsed(text)
    // Assess
    expect(t.a).toEqual({ Ref: 'Thing' })
    expect(t.b).toEqual({ 'Fn::GetAtt': ['Fn', 'Version.Version'] })
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
    expect(t.c).toEqual({ 'Fn::Sub': ['${A}-x', { A: { Ref: 'B' } }] })
    expect(t.d).toEqual({
      'Fn::If': ['Cond', { 'Fn::GetAZs': '' }, { 'Fn::ImportValue': 'shared' }],
    })
    expect(t.e).toEqual({ 'Fn::Cidr': ['10.0.0.0/16', 4, 8] })
    expect(t.f).toEqual({ 'Fn::FindInMap': ['M', { Ref: 'AWS::Region' }, 'k'] })
  })

  it("reads scalars as CloudFormation does: yes is true, y / dates / 1:30 / '.' stay strings", () => {
    // Prepare
    const text =
      'Resources: {}\nv: yes\nw: off\nx: y\nd: 2010-09-09\nt: 1:30\ndot: .\nn: 1.5\no: 010'
    // Act
    const t = parsed(text)
    // Assess
    expect([t.v, t.w, t.x, t.d, t.t, t.dot, t.n, t.o]).toEqual([
      true,
      false,
      'y',
      '2010-09-09',
      '1:30',
      '.',
      1.5,
      8,
    ])
  })

  it('reads a repeated key as CloudFormation deploys it: the last one wins', () => {
    // Prepare
    const text = 'Resources:\n  R: { Type: A }\n  R: { Type: B }\na: 1\na: 2'
    // Act
    const read = () => parsed(text)
    // Assess
    expect(read).not.toThrow()
    expect(read().a).toBe(2)
    expect(read().Resources).toEqual({ R: { Type: 'B' } })
  })

  it.each([
    ['an alias', 'Resources: {}\na: &x 1\nb: *x', /CloudFormation does not support aliases\)$/],
    ['a merge key', 'Resources: {}\na: &x { k: 1 }\nb: { <<: *x }', /aliases/],
    ['an alias in a tag', 'Resources: {}\na: &x 1\nb: !Join ["", [*x]]', /alias \*x:/],
    [
      'a GetAtt without attribute',
      'Resources: {}\na: !GetAtt Thing',
      /not valid YAML or JSON \(!GetAtt Thing: expected LogicalId\.Attribute at line 2, column 4\)$/,
    ],
    ['a GetAtt ending in a dot', 'Resources: {}\na: !GetAtt Thing.', /LogicalId\.Attribute/],
    ['a GetAtt without resource', 'Resources: {}\na: !GetAtt .Arn', /LogicalId\.Attribute/],
    ['an unknown tag', 'Resources: {}\na: !Nope x', /\(Unresolved tag: !Nope at line 2/],
    ['an explicit timestamp', 'Resources: {}\na: !!timestamp 2010-09-09', /Unresolved tag/],
    ['invalid YAML', 'Resources: {}\na: [b', /not valid YAML or JSON \(.*\)$/],
    ['no Resources', 'a: 1', /is not a CloudFormation \/ SAM template \(no Resources\)$/],
    ['a list of Resources', 'Resources: [a]', /\(no Resources\)$/],
    ['a list', '- 1', /\(no top-level mapping\)$/],
    ['an empty document', '', /top-level mapping/],
  ])('rejects %s with a one-line TemplateError naming the source', (_, text, message) => {
    // Prepare / Act
    const parse = () => parseTemplate(text, 'x.yaml')
    // Assess
    expect(parse).toThrow(TemplateError)
    expect(parse).toThrow(/^x\.yaml (is not valid YAML or JSON|is not a CloudFormation)[^\n]*$/)
    expect(parse).toThrow(message)
  })

  it('names a template without a source <template>', () => {
    // Act / Assess
    expect(() => parseTemplate('a: 1')).toThrow(/^<template> is not a CloudFormation/)
  })
})

describe('readTemplate', () => {
  it('reads a file, or says it cannot with the error code', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'kms-secrets-template-'))
    const path = join(dir, 'template.yaml')
    writeFileSync(path, 'Resources: { R: { Type: X } }\n')
    try {
      // Act
      const template = readTemplate(path)
      const missing = () => readTemplate(join(dir, 'missing.yaml'))
      // Assess
      expect(template.Resources).toEqual({ R: { Type: 'X' } })
      expect(missing).toThrow(TemplateError)
      expect(missing).toThrow(/^cannot read the template .*missing\.yaml \(ENOENT\)$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('mergeGlobals', () => {
  it('lets a local intrinsic replace a global map instead of merging into it', () => {
    // Prepare
    const global: Json = { Variables: { A: '1' } }
    const local: Json = { 'Fn::If': ['C', { Variables: { B: '2' } }, { Ref: 'AWS::NoValue' }] }
    // Act
    const merged = mergeGlobals(global, local)
    // Assess
    expect(merged).toEqual(local)
  })

  it.each<[string, Json | undefined, Json | undefined, Json | undefined]>([
    ['no local value: the global one', 'g', undefined, 'g'],
    ['no global value: the local one', undefined, 'l', 'l'],
    ['a local primitive', 'g', 'l', 'l'],
    ['a global intrinsic', { Ref: 'G' }, { a: 1 }, { a: 1 }],
    ['a map that is not an intrinsic', { a: 1, b: 2 }, { Fn: 1 }, { a: 1, b: 2, Fn: 1 }],
    ['lists: concatenated', [1, 2], [3], [1, 2, 3]],
    ['a list and a map: the local one', [1], { a: 1 }, { a: 1 }],
    [
      'maps: merged key by key',
      { a: { x: 1 }, b: 1 },
      { a: { y: 2 } },
      { a: { x: 1, y: 2 }, b: 1 },
    ],
  ])('merges %s', (_, global, local, expected) => {
    // Act / Assess
    expect(mergeGlobals(global, local)).toEqual(expected)
  })

  it('keeps a key named __proto__ as a key', () => {
    // Prepare
    const local = JSON.parse('{"__proto__": {"b": 2}}') as Json
    // Act
    const merged = mergeGlobals({ a: 1 }, local) as Record<string, Json>
    // Assess
    expect(Object.keys(merged)).toEqual(['a', '__proto__'])
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype)
  })
})

describe('functionResources', () => {
  it('lists SAM and plain functions in order, Globals merged into SAM functions only', () => {
    // Prepare
    const template = parseTemplate(`
Globals:
  Function:
    Timeout: 10
    Environment: { Variables: { SHARED: g, OVERRIDDEN: g } }
Resources:
  Sam:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: esbuild }
    Properties:
      Handler: a.b
      Environment: { Variables: { OVERRIDDEN: own, OWN: !Ref X } }
  Table:
    Type: AWS::DynamoDB::Table
  Plain:
    Type: AWS::Lambda::Function
    Properties: { Handler: c.d }
`)
    // Act
    const [sam, plain, ...rest] = functionResources(template)
    // Assess
    expect(rest).toEqual([])
    expect(sam).toEqual({
      logicalId: 'Sam',
      type: 'AWS::Serverless::Function',
      properties: {
        Timeout: 10,
        Environment: { Variables: { SHARED: 'g', OVERRIDDEN: 'own', OWN: { Ref: 'X' } } },
        Handler: 'a.b',
      },
      metadata: { BuildMethod: 'esbuild' },
      environment: { SHARED: 'g', OVERRIDDEN: 'own', OWN: { Ref: 'X' } },
    })
    expect(plain).toEqual({
      logicalId: 'Plain',
      type: 'AWS::Lambda::Function',
      properties: { Handler: 'c.d' },
      metadata: {},
      environment: {},
    })
  })

  it('passes over resources that are not mappings (null, a scalar, a list), as the fuzz found', () => {
    // Prepare
    const template = parseTemplate(
      'Resources:\n  Empty:\n  Scalar: 3\n  List: [AWS::Lambda::Function]\n  Fn: { Type: AWS::Lambda::Function }\n',
    )
    // Act
    const ids = functionResources(template).map((fn) => fn.logicalId)
    // Assess
    expect(ids).toEqual(['Fn'])
  })

  it('reads malformed Globals, Properties, Metadata and Environment as absent', () => {
    // Prepare
    const template = parseTemplate(`
Globals: [Function]
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties: text
    Metadata: [x]
  B:
    Type: AWS::Serverless::Function
    Properties: { Environment: [x] }
  C:
    Type: AWS::Lambda::Function
    Properties: { Environment: { Variables: text } }
`)
    // Act
    const [a, b, c] = functionResources(template)
    // Assess
    expect(a).toMatchObject({ properties: {}, metadata: {}, environment: {} })
    expect(b).toMatchObject({ properties: { Environment: ['x'] }, environment: {} })
    expect(c?.environment).toEqual({})
  })

  it('merges a Globals.Function that is no mapping as SAM would: the function keeps its own', () => {
    // Prepare
    const template = parseTemplate(
      'Globals: { Function: 5 }\nResources:\n  A: { Type: AWS::Serverless::Function, Properties: { Handler: a.b } }',
    )
    // Act
    const [a] = functionResources(template)
    // Assess
    expect(a?.properties).toEqual({ Handler: 'a.b' })
  })
})

describe('samconfigParameter', () => {
  it('takes a key from [<env>.deploy.parameters], else [<env>.global.parameters]', () => {
    // Prepare
    const text = [
      '[default.global.parameters]',
      'region = "eu-west-1"',
      'stack_name = "global"',
      '[default.deploy.parameters]',
      'stack_name = "deploy"',
    ].join('\n')
    // Act / Assess
    expect(samconfigParameter(text, 'default', 'stack_name')).toBe('deploy')
    expect(samconfigParameter(text, 'default', 'region')).toBe('eu-west-1')
    expect(samconfigParameter(text, 'prod', 'stack_name')).toBeUndefined()
  })
})

describe('cli/src/template/read.ts at its edges', () => {
  // cli/src/template/read.ts at its edges (what mutation testing found unpinned): the error's name,
  // CloudFormation's YAML 1.1 booleans exactly, repeated keys, and SAM Globals holding null.
  const parsed = (text: string) => parseTemplate(text) as unknown as Record<string, Json>

  describe('cli/src/template/read.ts edges', () => {
    it('TemplateError is named so', () => {
      // Act / Assess
      expect(new TemplateError('x').name).toBe('TemplateError')
    })

    it.each([
      ['yes', true],
      ['Yes', true],
      ['true', true],
      ['True', true],
      ['no', false],
      ['No', false],
      ['false', false],
      ['False', false],
      ['yesno', 'yesno'],
      ['ayes', 'ayes'],
      ['xno', 'xno'],
      ['nope', 'nope'],
    ])('reads the scalar %s as %s (YAML 1.1 booleans, whole words only)', (scalar, value) => {
      // Act
      const t = parsed(`Resources: {}\nA: ${scalar}\n`)
      // Assess
      expect(t.A).toBe(value)
    })

    it('reads a repeated key instead of refusing the template (the last one wins)', () => {
      // Act
      const t = parsed('Resources: {}\nA: 1\nA: 2\n')
      // Assess
      expect(t.A).toBe(2)
    })

    it('merges a SAM function with Globals that hold null values', () => {
      // Prepare
      const text = [
        'Globals:',
        '  Function:',
        '    Timeout: ~',
        'Resources:',
        '  Fn:',
        '    Type: AWS::Serverless::Function',
        '    Properties:',
        '      Timeout: 3',
      ].join('\n')
      // Act
      const [fn] = functionResources(parseTemplate(text))
      // Assess
      expect(fn?.properties.Timeout).toBe(3)
    })
  })
})
