import { describe, expect, it } from 'vitest'
import {
  parseCommandArgs,
  resolveTarget,
  TemplateScope,
  type Values,
} from '../../../cli/src/args.ts'
import type { CliIo } from '../../../cli/src/io.ts'
import { suggest } from '../../../cli/src/suggest.ts'

const io = { env: {}, cwd: '/tmp' } as unknown as CliIo
const target = (values: Values, prefix: '' | 'to-' = '', bind?: string) =>
  resolveTarget(values, new TemplateScope(values, io), prefix, bind)
const failure = async (values: Values, prefix: '' | 'to-' = '', bind?: string) => {
  const error = await target(values, prefix, bind).then(
    () => undefined,
    (e: unknown) => e as Error,
  )
  expect(error?.name).toBe('CliUsageError')
  return error?.message
}

describe('resolveTarget', () => {
  it('is undefined without any context option', async () => {
    // Act / Assess
    expect(await target({})).toBeUndefined()
    expect(await target({ 'function-name': 'f' }, 'to-')).toBeUndefined()
  })

  it('builds the context from --function-name, --context and --bind-variable', async () => {
    // Act
    const result = await target(
      { 'function-name': 'f', context: ['Stage=prod', 'Empty='] },
      '',
      'VAR',
    )
    // Assess
    expect(result).toEqual({
      context: {
        LambdaFunctionName: 'f',
        Stage: 'prod',
        Empty: '',
        EnvironmentVariableName: 'VAR',
      },
      fn: undefined,
    })
  })

  it('reads the --to- forms with the to- prefix', async () => {
    // Act
    const result = await target(
      { 'function-name': 'a', 'to-function-name': 'b', 'to-context': ['X=1'] },
      'to-',
    )
    // Assess
    expect(result?.context).toEqual({ LambdaFunctionName: 'b', X: '1' })
  })

  it('--no-context with --bind-variable binds the name only', async () => {
    // Act
    const result = await target({ 'no-context': true }, '', 'VAR')
    // Assess
    expect(result?.context).toEqual({ EnvironmentVariableName: 'VAR' })
  })

  it.each([
    [{ function: 'Fn' }, '', '--function needs --template template.yaml'],
    [{ 'to-function': 'Fn' }, 'to-', '--to-function needs --template template.yaml'],
    [
      { template: 't.yaml', function: 'Fn', 'function-name': 'f' },
      '',
      'give either --function-name or --function, not both',
    ],
    [
      { 'no-context': true, 'function-name': 'f' },
      '',
      '--no-context cannot be combined with another context option',
    ],
    [
      { 'to-no-context': true, 'to-context': ['a=b'] },
      'to-',
      '--to-no-context cannot be combined with another context option',
    ],
    [
      { template: 't.yaml', 'no-context': true, function: 'Fn' },
      '',
      '--no-context cannot be combined with another context option',
    ],
    [{ context: ['novalue'] }, '', '--context needs KEY=VALUE'],
    [{ context: ['=value'] }, '', '--context needs KEY=VALUE'],
    [{ context: ['A=1', 'A=2'] }, '', 'the context key A is given twice'],
    [
      { 'function-name': 'f', context: ['LambdaFunctionName=g'] },
      '',
      'the context key LambdaFunctionName is given twice',
    ],
  ] as Array<[Values, '' | 'to-', string]>)('refuses %j', async (values, prefix, message) => {
    // Act / Assess
    expect(await failure(values, prefix)).toBe(message)
  })

  it('refuses --bind-variable next to an explicit EnvironmentVariableName', async () => {
    // Act / Assess
    expect(await failure({ context: ['EnvironmentVariableName=A'] }, '', 'B')).toBe(
      'the context key EnvironmentVariableName is given twice (--bind-variable sets it)',
    )
  })
})

describe('parseCommandArgs', () => {
  const options = { 'function-name': { type: 'string' } } as const

  it('takes a value that starts or ends with - only when written --name=VALUE', () => {
    // Act
    const inline = parseCommandArgs('encrypt', ['--function-name=-f'], options)
    const trailing = parseCommandArgs('encrypt', ['--function-name', 'f-'], options)
    const separate = () => parseCommandArgs('encrypt', ['--function-name', '-f'], options)
    // Assess
    expect(inline).toEqual({ 'function-name': '-f' })
    expect(trailing).toEqual({ 'function-name': 'f-' })
    expect(separate).toThrow('argument 2: --function-name needs a value')
  })
})

describe('suggest', () => {
  it('suggests for two letters or more, never for one', () => {
    // Act
    const one = suggest('d', ['decrypt'])
    const two = suggest('de', ['decrypt'])
    // Assess
    expect(one).toBeUndefined()
    expect(two).toBe('decrypt')
  })
})
