import { describe, expect, it } from 'vitest'
import { budgetWarnings, checkName, parseFormat, render } from '../../../cli/src/output.ts'
import type { TemplateFunctionEnv } from '../../../cli/src/template.ts'

const fn = (variables: TemplateFunctionEnv['variables']): TemplateFunctionEnv => ({
  logicalId: 'Fn',
  functionName: 'fn',
  nameSource: 'FunctionName',
  variables,
})
const base = {
  format: 'value' as const,
  name: undefined,
  logicalId: undefined,
  fn: undefined,
  maxLength: undefined,
  toFile: false,
  bundle: false,
}

describe('formats', () => {
  it('defaults to value and refuses unknown formats', () => {
    // Act / Assess
    expect(parseFormat(undefined)).toBe('value')
    expect(parseFormat('env-json')).toBe('env-json')
    expect(() => parseFormat('yaml')).toThrow(
      '--format is one of value, env-json, parameter-overrides',
    )
  })

  it('renders the three formats', () => {
    // Act
    const value = render({ format: 'value', value: 'kse1:abc', name: 'X', logicalId: 'Fn' })
    const envJson = render({
      format: 'env-json',
      value: 'abc=',
      name: 'API_TOKEN',
      logicalId: 'Fn',
    })
    const global = render({
      format: 'env-json',
      value: 'abc=',
      name: 'API_TOKEN',
      logicalId: undefined,
    })
    const overrides = render({
      format: 'parameter-overrides',
      value: 'abc=',
      name: 'ApiToken',
      logicalId: 'Fn',
    })
    // Assess
    expect(value).toBe('kse1:abc\n')
    expect(JSON.parse(envJson)).toEqual({ Fn: { API_TOKEN: 'abc=' } })
    expect(JSON.parse(global)).toEqual({ Parameters: { API_TOKEN: 'abc=' } })
    expect(overrides).toBe('ApiToken=abc=\n')
  })

  it.each([
    ['value', undefined, undefined],
    ['env-json', undefined, '--format env-json needs --name ENV_VAR'],
    ['parameter-overrides', undefined, '--format parameter-overrides needs --name ParameterName'],
    ['env-json', 'not-an-env', '--name not-an-env is not an environment variable name'],
    [
      'parameter-overrides',
      'Api_Token',
      '--name Api_Token is not a template parameter name (letters and digits)',
    ],
    ['env-json', 'API_TOKEN', undefined],
    ['parameter-overrides', 'ApiToken', undefined],
    // CloudFormation names may start with a digit; env var names may not.
    ['parameter-overrides', '1Token', undefined],
  ] as const)('checkName(%s, %s)', (format, name, message) => {
    // Act
    const check = () => checkName(format, name)
    // Assess
    if (message === undefined) expect(check).not.toThrow()
    else expect(check).toThrow(message)
  })
})

describe('budgetWarnings', () => {
  it('says nothing while the variables fit', () => {
    // Act / Assess
    expect(budgetWarnings({ ...base, value: 'x'.repeat(4000), name: 'A' })).toEqual([])
    expect(budgetWarnings({ ...base, value: 'x'.repeat(4096) })).toEqual([])
  })

  it('counts names and values in UTF-8 bytes', () => {
    // Act
    const warnings = budgetWarnings({ ...base, value: '€'.repeat(1366), name: 'AB' })
    // Assess
    expect(warnings).toEqual([
      "warning: AB alone takes 4100 bytes, over Lambda's 4096-byte limit for all environment variables: bundle the secrets into one variable (kms-secrets bundle), or ship them in a secrets file (--out FILE, read with file:FILE)",
    ])
  })

  it('adds the other variables of the template function, and counts those it cannot size', () => {
    // Prepare
    const others = fn([
      { name: 'API_TOKEN', value: 'old', bytes: 3 },
      { name: 'OTHER', value: 'v', bytes: 3000 },
      { name: 'TABLE', value: { Ref: 'Table' }, bytes: undefined },
    ])
    // Act
    const warnings = budgetWarnings({
      ...base,
      format: 'env-json',
      value: 'x'.repeat(1100),
      name: 'API_TOKEN',
      fn: others,
    })
    const fits = budgetWarnings({
      ...base,
      format: 'env-json',
      value: 'x'.repeat(10),
      name: 'API_TOKEN',
      fn: others,
    })
    // Assess
    expect(warnings).toEqual([
      "warning: Fn's environment variables would take at least 4114 bytes (API_TOKEN: 1109; 1 other: 3005; not counted: TABLE, whose value is unknown here), over Lambda's 4096-byte limit for all environment variables: bundle the secrets into one variable (kms-secrets bundle), or ship them in a secrets file (--out FILE, read with file:FILE)",
    ])
    expect(fits).toEqual([])
  })

  it.each([
    [
      'after the others',
      [
        { name: 'API_TOKEN', value: { Ref: 'ApiTokenCiphertext' }, bytes: 0 },
        { name: 'BIG', value: 'v', bytes: 3000 },
        { name: 'PLAIN', value: null, bytes: 2 },
      ],
    ],
    [
      'after a null value and another Ref',
      [
        { name: 'EMPTY', value: null, bytes: 0 },
        { name: 'TABLE', value: { Ref: 'Table' }, bytes: 3000 },
        { name: 'API_TOKEN', value: { Ref: 'ApiTokenCiphertext' }, bytes: 0 },
      ],
    ],
  ])(
    'with parameter-overrides, the receiving variable is the one set to !Ref <parameter>, found %s',
    (_where, variables) => {
      // Act
      const warnings = budgetWarnings({
        ...base,
        format: 'parameter-overrides',
        value: 'x'.repeat(1200),
        name: 'ApiTokenCiphertext',
        fn: fn(variables),
      })
      // Assess
      expect(warnings).toEqual([
        "warning: Fn's environment variables would take at least 4219 bytes (API_TOKEN: 1209; 2 others: 3010), over Lambda's 4096-byte limit for all environment variables: bundle the secrets into one variable (kms-secrets bundle), or ship them in a secrets file (--out FILE, read with file:FILE)",
      ])
    },
  )

  it('with parameter-overrides and no matching variable, counts the value alone', () => {
    // Act
    const warnings = budgetWarnings({
      ...base,
      format: 'parameter-overrides',
      value: 'x'.repeat(4097),
      name: 'Unused',
      fn: fn([]),
      bundle: true,
    })
    // Assess
    expect(warnings).toEqual([
      "warning: the value is 4097 bytes, over CloudFormation's 4096-byte parameter limit: ship the bundle as a secrets file instead (--out FILE, read with file:FILE#FIELD)",
      "warning: Fn's environment variables would take at least 4097 bytes (the value: 4097; 0 others: 0), over Lambda's 4096-byte limit for all environment variables: ship the bundle as a secrets file instead (--out FILE, read with file:FILE#FIELD)",
    ])
  })

  it('limits are inclusive: exactly 4096 bytes, or exactly MaxLength, is fine', () => {
    // Act
    const atCfnLimit = budgetWarnings({
      ...base,
      format: 'parameter-overrides',
      name: 'P',
      value: 'x'.repeat(4096),
    })
    const atMaxLength = budgetWarnings({
      ...base,
      format: 'parameter-overrides',
      name: 'P',
      value: 'x'.repeat(3000),
      maxLength: 3000,
    })
    // Assess
    expect(atCfnLimit).toEqual([])
    expect(atMaxLength).toEqual([])
  })

  it('a secrets file has no env budget; a template MaxLength is checked', () => {
    // Act
    const file = budgetWarnings({ ...base, value: 'x'.repeat(70_000), toFile: true })
    const envJsonToFile = budgetWarnings({
      ...base,
      format: 'env-json',
      name: 'A',
      value: 'x'.repeat(5000),
      toFile: true,
    })
    const maxLength = budgetWarnings({
      ...base,
      format: 'parameter-overrides',
      name: 'P',
      value: 'x'.repeat(3001),
      maxLength: 3000,
    })
    // Assess
    expect(file).toEqual([])
    expect(envJsonToFile).toHaveLength(1)
    expect(maxLength).toEqual([
      "warning: the value is 3001 bytes, over the template's MaxLength of 3000 for P",
    ])
  })
})
