// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation !Sub syntax, not JS
// Fuzzing of template-derived config: the template reader (cli/src/template/read.ts) and the
// resolver (cli/src/template/resolve.ts) through their two users, the CLI (cli/src/template.ts:
// loadTemplate, findFunction, samconfigStackName) and the dev tooling (scripts/template.ts:
// parseTemplate, functionsOf, esbuildOptionsOf, resolveValue).
// Any YAML-ish text gives a result or the reader's own error (CliUsageError /
// TemplateError); never another error or a hang; and where the function name can be
// worked out, it is the right one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliUsageError } from '../../cli/src/errors.ts'
import { findFunction, loadTemplate, samconfigStackName } from '../../cli/src/template.ts'
import {
  builtHandlerPath,
  esbuildOptionsOf,
  functionsOf,
  type Json,
  parseTemplate,
  resolveValue,
  TemplateError,
} from '../../scripts/template.ts'
import { bounded, outcomeOf, params, TEST_TIMEOUT_MS, trickyText } from './fuzz.ts'
import { samconfigText, templateText } from './yaml.ts'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kms-secrets-fuzz-template-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * The run's text in a file. Runs are sequential, so one path serves them all: a file per
 * run left 10,000s in the folder, and removing them outlasted afterAll's 10 s on a busy machine.
 */
const file = (text: string) => {
  const path = join(dir, 'input')
  writeFileSync(path, text)
  return path
}

const expectError = (error: unknown, type: typeof CliUsageError | typeof TemplateError) => {
  if (!(error instanceof type)) {
    throw new Error(
      `expected a ${type.name}, got ${(error as Error)?.name}: ${(error as Error)?.message}`,
    )
  }
  expect(error.message.split('\n')[0]).not.toBe('')
}

const logicalId = fc.constantFrom(
  'Fn',
  'Other',
  'SecureFetchFunction',
  'Nope',
  '__proto__',
  'constructor',
)
const ALL_REFS = ['P', 'Q', 'Suffix', 'AWS::StackName', 'AWS::Region', 'Fn', 'Other', 'Table']

describe('CLI template reader (cli/src/template.ts)', () => {
  it(
    'any YAML-ish template: a function (name, variables) or a CliUsageError',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          templateText({ refs: ALL_REFS }),
          logicalId,
          fc.option(fc.constantFrom('stack', '')),
          async (text, id, stack) => {
            // Prepare
            const path = file(text)
            const stackName = () => {
              if (stack === null) throw new CliUsageError('no stack name')
              return stack
            }
            // Act
            const outcome = await outcomeOf(() =>
              findFunction(loadTemplate(path), id, { stackName, region: 'eu-west-1' }),
            )
            // Assess
            if (!outcome.ok) return expectError(outcome.error, CliUsageError)
            const fn = outcome.value
            expect(fn.logicalId).toBe(id)
            expect(typeof fn.functionName).toBe('string')
            expect(['FunctionName', 'KMS_SECRETS_FUNCTION_NAME']).toContain(fn.nameSource)
            for (const variable of fn.variables) {
              expect(typeof variable.name).toBe('string')
              if (variable.bytes !== undefined) expect(Number.isInteger(variable.bytes)).toBe(true)
            }
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )

  // A tiny model of the intrinsics the reader resolves, and what they evaluate to.
  type Expr =
    | { lit: string }
    | { ref: 'AWS::StackName' | 'AWS::Region' | 'P' }
    | {
        sub: Array<
          { lit: string } | { ref: 'AWS::StackName' | 'AWS::Region' | 'P' } | { escaped: string }
        >
      }
    | { join: [string, Expr[]] }
  const literal = fc
    .array(trickyText, { maxLength: 3 })
    .map((parts) => parts.join('').replace(/\$/g, ''))
  const reference = fc.constantFrom<'AWS::StackName' | 'AWS::Region' | 'P'>(
    'AWS::StackName',
    'AWS::Region',
    'P',
  )
  const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', maxDepth: 2 },
      literal.map((lit) => ({ lit })),
      reference.map((ref) => ({ ref })),
      fc
        .array(
          fc.oneof(
            literal.map((lit) => ({ lit })),
            reference.map((ref) => ({ ref })),
            fc.stringMatching(/^[A-Za-z:]{1,8}$/).map((escaped) => ({ escaped })),
          ),
          { maxLength: 4 },
        )
        .map((sub) => ({ sub })),
      fc.tuple(literal, fc.array(tie('expr'), { maxLength: 3 })).map((join) => ({ join })),
    ),
  })).expr
  const render = (expr: Expr): string => {
    if ('lit' in expr) return JSON.stringify(expr.lit)
    if ('ref' in expr) return `!Ref ${expr.ref}`
    if ('sub' in expr) {
      const text = expr.sub
        .map((part) =>
          'lit' in part ? part.lit : 'ref' in part ? `\${${part.ref}}` : `\${!${part.escaped}}`,
        )
        .join('')
      return `!Sub ${JSON.stringify(text)}`
    }
    return `!Join [${JSON.stringify(expr.join[0])}, [${expr.join[1].map(render).join(', ')}]]`
  }
  const values = { 'AWS::StackName': 'my-stack', 'AWS::Region': 'eu-west-1', P: 'p-default' }
  const evaluate = (expr: Expr): string => {
    if ('lit' in expr) return expr.lit
    if ('ref' in expr) return values[expr.ref]
    if ('sub' in expr) {
      return expr.sub
        .map((part) =>
          'lit' in part ? part.lit : 'ref' in part ? values[part.ref] : `\${${part.escaped}}`,
        )
        .join('')
    }
    return expr.join[1].map(evaluate).join(expr.join[0])
  }

  it(
    'FunctionName (or a KMS_SECRETS_FUNCTION_NAME override) of !Sub, !Ref, !Join and text: the right name',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          exprArb,
          fc.option(exprArb),
          fc.constantFrom('function', 'globals'),
          fc.constantFrom('AWS::Serverless::Function', 'AWS::Lambda::Function'),
          async (name, override, where, type) => {
            // Prepare
            const env =
              override === null
                ? []
                : [
                    'Environment:',
                    '  Variables:',
                    `    KMS_SECRETS_FUNCTION_NAME: ${render(override)}`,
                  ]
            const indent = (lines: string[], by: number) =>
              lines.map((l) => `${' '.repeat(by)}${l}`)
            const text = [
              'Parameters:',
              '  P:',
              '    Type: String',
              `    Default: ${JSON.stringify(values.P)}`,
              ...(where === 'globals' && env.length > 0
                ? ['Globals:', '  Function:', ...indent(env, 4)]
                : []),
              'Resources:',
              '  Fn:',
              `    Type: ${type}`,
              '    Properties:',
              `      FunctionName: ${render(name)}`,
              ...(where === 'function' ? indent(env, 6) : []),
            ].join('\n')
            const path = file(text)
            // Act
            const fn = findFunction(loadTemplate(path), 'Fn', {
              stackName: () => values['AWS::StackName'],
              region: values['AWS::Region'],
            })
            // Assess: SAM Globals apply to AWS::Serverless::Function only; an override that is
            // empty falls back to FunctionName (as the middleware falls back to the runtime's name)
            const applies =
              override !== null &&
              (where === 'function' || type === 'AWS::Serverless::Function') &&
              evaluate(override) !== ''
            expect(fn.functionName).toBe(evaluate(applies ? override : name))
            expect(fn.nameSource).toBe(applies ? 'KMS_SECRETS_FUNCTION_NAME' : 'FunctionName')
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'any samconfig.toml-ish text: a stack name written in it, or a CliUsageError',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          samconfigText,
          fc.constantFrom('default', 'prod', 'dev'),
          async (text, env) => {
            // Prepare
            const path = file(text)
            // Act
            const outcome = await outcomeOf(() => samconfigStackName(path, env))
            // Assess
            if (!outcome.ok) return expectError(outcome.error, CliUsageError)
            expect(outcome.value).not.toBe('')
            expect(text).toMatch(/stack_name/)
            expect(text).toContain(outcome.value)
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'samconfig tables: the deploy table wins over the global one, the last pair over earlier ones',
    async () => {
      const value = fc.stringMatching(/^[A-Za-z0-9 :#_.-]{1,12}$/)
      const pair = fc.record({
        env: fc.constantFrom('default', 'prod'),
        section: fc.constantFrom('deploy', 'global', 'build'),
        value,
        quote: fc.constantFrom('"', "'"),
        comment: fc.constantFrom('', ' # note'),
      })
      await fc.assert(
        fc.asyncProperty(
          fc.array(pair, { maxLength: 8 }),
          fc.constantFrom('default', 'prod'),
          async (pairs, env) => {
            // Prepare
            const text = pairs
              .map(
                (p) =>
                  `[${p.env}.${p.section}.parameters]\nstack_name = ${p.quote}${p.value}${p.quote}${p.comment}`,
              )
              .join('\n')
            const last = (section: string) =>
              pairs.filter((p) => p.env === env && p.section === section).at(-1)?.value
            const want = last('deploy') ?? last('global')
            // Act
            const outcome = await outcomeOf(() => samconfigStackName(file(text), env))
            // Assess
            if (want === undefined)
              expectError((outcome as { error: unknown }).error, CliUsageError)
            else expect(outcome).toEqual({ ok: true, value: want })
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )
})

describe('dev tooling template reader (scripts/template.ts)', () => {
  // Names refer to resources too: a name that refers back to itself (FunctionName: !Ref Fn)
  // is a TemplateError, as CloudFormation refuses the cycle, not a stack overflow.
  it(
    'any YAML-ish template: functions, build options and resolved values, or a TemplateError',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          templateText({ refs: ALL_REFS }),
          fc.option(fc.dictionary(fc.constantFrom('P', 'Q'), fc.string({ maxLength: 8 }))),
          async (text, parameters) => {
            // Act
            const outcome = await outcomeOf(() =>
              bounded(() => {
                const template = parseTemplate(text)
                const scope = {
                  template,
                  parameters: parameters ?? undefined,
                  unfixed: 'placeholder' as const,
                }
                return functionsOf(template).map((fn) => {
                  const resolved = [fn.functionName, ...Object.values(fn.environment)].map(
                    (value) =>
                      value === undefined ? undefined : resolveValue(value as Json, scope),
                  )
                  const build =
                    fn.buildMethod === 'esbuild'
                      ? builtHandlerPath(fn, esbuildOptionsOf(fn))
                      : undefined
                  return { fn, resolved, build }
                })
              }),
            )
            // Assess
            if (!outcome.ok) return expectError(outcome.error, TemplateError)
            for (const { fn } of outcome.value) {
              expect(fn.handler).toContain('.')
              expect(Number.isFinite(fn.timeout)).toBe(true)
            }
          },
        ),
        params(),
      )
    },
    TEST_TIMEOUT_MS,
  )
})
