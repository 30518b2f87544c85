// The CLI's template resolver beyond names: parameter values, !If over the template's
// Conditions (!Equals, !Not, !Condition) and AWS::NoValue, as `kms-secrets check` needs them.
import { describe, expect, it } from 'vitest'
import { CliUsageError } from '../../../src/cli/errors.ts'
import { parseTemplate } from '../../../src/template/read.ts'
import {
  conditionIn,
  findFunction,
  type ResolveScope,
  resolveIn,
  type Template,
} from '../../../src/template/resolve.ts'

const templateOf = (conditions: string, variables: string): Template => ({
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

const scope = (parameters?: Record<string, string>): ResolveScope => ({
  stackName: async () => 's',
  region: undefined,
  ...(parameters !== undefined && { parameters }),
})

const CONDITIONS = `  HasPins: !Not [!Equals [!Ref Pins, ""]]
  NoPins: !Equals [!Ref Pins, ""]
  StillNoPins: !Condition NoPins
  NotNoPins: !Not [!Condition NoPins]
  Both: !And [!Condition NoPins, !Condition NoPins]
  Loop: !Condition Loop`

describe('template conditions and AWS::NoValue', () => {
  it('drops a variable an !If leaves out, and keeps the chosen branch of another', async () => {
    // Prepare
    const template = templateOf(
      CONDITIONS,
      [
        '          PINS: !If [HasPins, !Ref Pins, !Ref AWS::NoValue]',
        '          GONE: !Ref AWS::NoValue',
        '          MODE: !If [StillNoPins, !Ref Mode, other]',
        '          FLIP: !If [NotNoPins, yes-pins, no-pins]',
        '',
      ].join('\n'),
    )
    // Act
    const without = await findFunction(template, 'F', scope())
    const withPins = await findFunction(template, 'F', scope({ Pins: 'abc', Mode: 'slow' }))
    // Assess
    expect(without.variables.map((v) => [v.name, v.text])).toEqual([
      ['MODE', 'fast'],
      ['FLIP', 'no-pins'],
    ])
    expect(withPins.variables.map((v) => [v.name, v.text])).toEqual([
      ['PINS', 'abc'],
      ['MODE', 'other'],
      ['FLIP', 'yes-pins'],
    ])
  })

  it.each([
    ['an unsupported condition function', '!If [Both, a, b]'],
    ['a condition that refers to itself', '!If [Loop, a, b]'],
    ['a condition the template lacks', '!If [Missing, a, b]'],
    ['an !If of the wrong shape', '!If [NoPins, a]'],
    ['an !If without a condition name', '!If [[NoPins], a, b]'],
  ])('leaves the value unknown for %s', async (_, value) => {
    // Prepare
    const template = templateOf(CONDITIONS, `          X: ${value}\n`)
    // Act
    const fn = await findFunction(template, 'F', scope())
    // Assess
    expect(fn.variables).toEqual([expect.objectContaining({ name: 'X', text: undefined })])
  })

  it('resolves one value and one condition on their own, and says when it cannot', async () => {
    // Prepare
    const template = templateOf(CONDITIONS, '          X: "1"\n')
    // Act
    const value = await resolveIn(template, scope({ Pins: 'p' }), { Ref: 'Pins' }, 'Pins')
    const holds = await conditionIn(template, scope(), 'NoPins', 'NoPins')
    const unknown = conditionIn(template, scope(), 'Both', 'Alias Condition')
    // Assess
    expect(value).toBe('p')
    expect(holds).toBe(true)
    await expect(unknown).rejects.toThrow(CliUsageError)
    await expect(unknown).rejects.toThrow(/cannot work out Alias Condition/)
  })
})
