// The CLI's template resolver beyond names: parameter values, !If over the template's
// Conditions (!Equals, !Not, !And, !Or, !Condition) and AWS::NoValue, as `kms-secrets check`
// needs them.
import { describe, expect, it } from 'vitest'
import { CliUsageError } from '../../../cli/src/errors.ts'
import { parseTemplate } from '../../../cli/src/template/read.ts'
import {
  conditionIn,
  type DeployValues,
  findFunction,
  resolveIn,
  type TemplateFile,
} from '../../../cli/src/template.ts'

const templateOf = (conditions: string, variables: string): TemplateFile => ({
  path: 'template.yaml',
  doc: parseTemplate(`Parameters:
  Pins: {Type: String, Default: ""}
  Mode: {Type: String, Default: fast}
Conditions:
${conditions}
Resources:
  F:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: f
      Environment:
        Variables:
${variables}`),
})

const scope = (parameters?: Record<string, string>): DeployValues => ({
  stackName: () => 's',
  region: undefined,
  ...(parameters !== undefined && { parameters }),
})

const CONDITIONS = `  HasPins: !Not [!Equals [!Ref Pins, ""]]
  NoPins: !Equals [!Ref Pins, ""]
  StillNoPins: !Condition NoPins
  NotNoPins: !Not [!Condition NoPins]
  Both: !And [!Condition NoPins, !Condition NoPins]
  Either: !Or [!Condition HasPins, !Equals [!Ref Mode, slow]]
  RulesOnly: { "Fn::Contains": [[a], a] }
  Loop: !Condition Loop`

describe('template conditions and AWS::NoValue', () => {
  it('drops a variable an !If leaves out, and keeps the chosen branch of another', () => {
    // Prepare
    const template = templateOf(
      CONDITIONS,
      [
        '          PINS: !If [HasPins, !Ref Pins, !Ref AWS::NoValue]',
        '          GONE: !Ref AWS::NoValue',
        '          MODE: !If [StillNoPins, !Ref Mode, other]',
        '          FLIP: !If [NotNoPins, yes-pins, no-pins]',
        '          BOTH: !If [Both, both, not-both]',
        '          EITHER: !If [Either, either, neither]',
        '',
      ].join('\n'),
    )
    // Act
    const without = findFunction(template, 'F', scope())
    const withPins = findFunction(template, 'F', scope({ Pins: 'abc', Mode: 'slow' }))
    // Assess
    expect(without.variables.map((v) => [v.name, v.text])).toEqual([
      ['MODE', 'fast'],
      ['FLIP', 'no-pins'],
      ['BOTH', 'both'],
      ['EITHER', 'neither'],
    ])
    expect(withPins.variables.map((v) => [v.name, v.text])).toEqual([
      ['PINS', 'abc'],
      ['MODE', 'other'],
      ['FLIP', 'yes-pins'],
      ['BOTH', 'not-both'],
      ['EITHER', 'either'],
    ])
  })

  it.each([
    ['an unsupported condition function', '!If [RulesOnly, a, b]'],
    ['a condition that refers to itself', '!If [Loop, a, b]'],
    ['a condition the template lacks', '!If [Missing, a, b]'],
    ['an !If of the wrong shape', '!If [NoPins, a]'],
    ['an !If without a condition name', '!If [[NoPins], a, b]'],
  ])('leaves the value unknown for %s', (_, value) => {
    // Prepare
    const template = templateOf(CONDITIONS, `          X: ${value}\n`)
    // Act
    const fn = findFunction(template, 'F', scope())
    // Assess
    expect(fn.variables).toEqual([expect.objectContaining({ name: 'X', text: undefined })])
  })

  it('resolves one value and one condition on their own, and says when it cannot', () => {
    // Prepare
    const template = templateOf(CONDITIONS, '          X: "1"\n')
    // Act
    const value = resolveIn(template, scope({ Pins: 'p' }), { Ref: 'Pins' }, 'Pins')
    const holds = conditionIn(template, scope(), 'NoPins', 'NoPins')
    const unknown = () => conditionIn(template, scope(), 'RulesOnly', 'Alias Condition')
    const list = () => resolveIn(template, scope(), ['a'], 'Alias AliasName')
    // Assess
    expect(value).toBe('p')
    expect(holds).toBe(true)
    expect(unknown).toThrow(CliUsageError)
    expect(unknown).toThrow(/cannot work out Alias Condition/)
    expect(list).toThrow(
      /^cannot work out Alias AliasName from the template \(it is a list, not text\): pass --function-name$/,
    )
  })
})
