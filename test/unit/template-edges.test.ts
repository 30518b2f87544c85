// src/template/read.ts at its edges (what mutation testing found unpinned): the error's name,
// CloudFormation's YAML 1.1 booleans exactly, repeated keys, and SAM Globals holding null.
import { describe, expect, it } from 'vitest'
import {
  functionResources,
  type Json,
  parseTemplate,
  TemplateError,
} from '../../src/template/read.ts'

const parsed = (text: string) => parseTemplate(text) as unknown as Record<string, Json>

describe('src/template/read.ts edges', () => {
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
