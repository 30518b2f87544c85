// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation !Sub syntax, not JS
// Generators of YAML-ish SAM templates for the template fuzz tests: documents shaped
// like a template (Parameters, Globals, Resources, functions with FunctionName and
// Environment, now and then a resource that is no mapping) whose values are intrinsics of
// every short and long form, anchors and aliases, odd scalars; then corrupted line by
// line, or not.
import fc from 'fast-check'
import { trickyText } from './fuzz.ts'

const plainScalar = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
  fc.constantFrom(
    'x',
    'stack',
    '123',
    '0x1F',
    '1e3',
    '.inf',
    '.5',
    'true',
    'yes',
    'no',
    'on',
    'null',
    '~',
    '""',
    "''",
    '"quoted: yes"',
    "'it''s'",
    '2001-12-14',
    '1:30',
    '.',
  ),
  fc.integer().map(String),
)
export const scalar = fc.oneof({ weight: 3, arbitrary: plainScalar }, trickyText)

/** Intrinsic expressions. `refs` are the names Ref/Sub/GetAtt may point at. */
export const expression = (refs: readonly string[]) => {
  const subPiece = fc.oneof(
    fc.constantFrom(
      ...refs.map((name) => `\${${name}}`),
      '${AWS::Region}',
      '${!Literal}',
      '${',
      '}',
      '$',
      '-',
      'fn',
    ),
    trickyText,
  )
  const subText = fc.array(subPiece, { maxLength: 5 }).map((parts) => parts.join(''))
  const refName = fc.constantFrom(...refs, 'AWS::NoValue', 'Nope')
  const fixed = fc.constantFrom(
    '!If [C, a, b]',
    '!Select [0, [a, b]]',
    '!Select [9, [a]]',
    '!Base64 x',
    '!ImportValue x',
    '!Condition C',
    '!Split [",", "a,b"]',
    '!FindInMap [M, a, b]',
    '!Equals [a, b]',
    '!Not [!Equals [a, b]]',
    '!GetAZs ""',
    '!Cidr [a, 1, 2]',
    '!Transform {Name: x}',
    '!Length [1]',
    '!ToJsonString {a: 1}',
    '!Unknown x',
    '!Ref',
    '!Sub',
    '!Join',
    '[a, b]',
    '{a: b}',
    '{"Fn::Join": ["-", ["a", "b"]]}',
    '{"Fn::Join": "-"}',
    '{"Fn::Sub": ["x", 5]}',
    '&anchor x',
    '*anchor',
    '*nope',
    '&self [*self]',
    '|\n  block',
    '>-\n  folded',
    '',
    'null',
    '- a',
  )
  return fc.letrec<{ expr: string }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', maxDepth: 3 },
      scalar,
      fixed,
      subText.map((text) => `!Sub ${JSON.stringify(text)}`),
      subText.map((text) => `{"Fn::Sub": ${JSON.stringify(text)}}`),
      refName.map((name) => `!Ref ${name}`),
      refName.map((name) => `{"Ref": ${JSON.stringify(name)}}`),
      fc
        .constantFrom(...refs.filter((name) => !name.startsWith('AWS::')))
        .map((name) => `!GetAtt ${name}.Arn`),
      fc
        .tuple(fc.constantFrom('-', '', ','), fc.array(tie('expr'), { maxLength: 3 }))
        .map(([sep, items]) => `!Join [${JSON.stringify(sep)}, [${items.join(', ')}]]`),
      fc
        .tuple(subText, fc.dictionary(fc.constantFrom(...refs, 'X'), tie('expr'), { maxKeys: 2 }))
        .map(
          ([text, vars]) =>
            `!Sub [${JSON.stringify(text)}, {${Object.entries(vars)
              .map(([name, value]) => `${JSON.stringify(name)}: ${value}`)
              .join(', ')}}]`,
        ),
    ),
  })).expr
}

export const envName = fc.oneof(
  fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/),
  fc.constantFrom('KMS_SECRETS_FUNCTION_NAME', 'API_TOKEN'),
)

export interface TemplateShape {
  refs: readonly string[]
}

const line = (indent: number, text: string) => `${' '.repeat(indent)}${text}`

/** A template-shaped YAML document, corrupted or not. */
export const templateText = ({ refs }: TemplateShape) => {
  const value = expression(refs)
  const parameter = fc.record({
    Type: fc.constantFrom('String', 'Number', 'x'),
    Default: fc.option(value),
    MaxLength: fc.option(fc.oneof(fc.nat({ max: 5000 }).map(String), scalar)),
  })
  const resource = fc.record({
    // Now and then a resource that is no mapping: null (`Id:` alone), a scalar, a list.
    bare: fc.oneof(
      { weight: 8, arbitrary: fc.constant(null) },
      fc.constantFrom('', ' ~', ' 3', ' [a]', ' AWS::Lambda::Function'),
    ),
    Type: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom('AWS::Serverless::Function', 'AWS::Lambda::Function'),
      },
      fc.constantFrom('AWS::DynamoDB::Table', 'AWS::KMS::Key'),
      scalar,
    ),
    Handler: fc.option(fc.constantFrom('functions/x/handler.handler', 'nodot', '', 'a.b'), {
      freq: 8,
    }),
    FunctionName: fc.option(value, { freq: 6 }),
    Environment: fc.option(fc.dictionary(envName, value, { maxKeys: 4 })),
    Timeout: fc.option(fc.oneof(fc.nat({ max: 900 }).map(String), scalar)),
  })
  const resourceName = fc.constantFrom(
    'Fn',
    'Fn',
    'Fn',
    'Other',
    'SecureFetchFunction',
    '__proto__',
    'constructor',
    'Table',
  )
  const document = fc.record({
    header: fc.constantFrom('', 'AWSTemplateFormatVersion: "2010-09-09"', '%YAML 1.2\n---', '---'),
    parameters: fc.option(fc.dictionary(fc.constantFrom('P', 'Q', 'Suffix'), parameter)),
    globals: fc.option(fc.dictionary(envName, value, { maxKeys: 3 })),
    resources: fc.option(fc.dictionary(resourceName, resource, { minKeys: 1, maxKeys: 3 }), {
      freq: 8,
    }),
  })
  const rendered = document.map(({ header, parameters, globals, resources }) => {
    const lines: string[] = [header]
    if (parameters) {
      lines.push('Parameters:')
      for (const [id, p] of Object.entries(parameters)) {
        lines.push(line(2, `${id}:`), line(4, `Type: ${p.Type}`))
        if (p.Default !== null) lines.push(line(4, `Default: ${p.Default}`))
        if (p.MaxLength !== null) lines.push(line(4, `MaxLength: ${p.MaxLength}`))
      }
    }
    if (globals) {
      lines.push('Globals:', line(2, 'Function:'), line(4, 'Environment:'), line(6, 'Variables:'))
      for (const [key, v] of Object.entries(globals)) lines.push(line(8, `${key}: ${v}`))
    }
    if (resources) {
      lines.push('Resources:')
      for (const [id, r] of Object.entries(resources)) {
        if (r.bare !== null) {
          lines.push(line(2, `${id}:${r.bare}`))
          continue
        }
        lines.push(line(2, `${id}:`), line(4, `Type: ${r.Type}`), line(4, 'Properties:'))
        if (r.Handler !== null) lines.push(line(6, `Handler: ${r.Handler}`))
        if (r.FunctionName !== null) lines.push(line(6, `FunctionName: ${r.FunctionName}`))
        if (r.Timeout !== null) lines.push(line(6, `Timeout: ${r.Timeout}`))
        if (r.Environment !== null) {
          lines.push(line(6, 'Environment:'), line(8, 'Variables:'))
          for (const [key, v] of Object.entries(r.Environment)) lines.push(line(10, `${key}: ${v}`))
        }
      }
    }
    return lines
  })
  const corruption = fc.array(
    fc.record({
      at: fc.nat(),
      op: fc.constantFrom('drop', 'twice', 'indent', 'dedent', 'tab', 'insert', 'colon'),
      text: trickyText,
    }),
    { maxLength: 3 },
  )
  return fc
    .tuple(rendered, fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, corruption))
    .map(([lines, edits]) => {
      const out = [...lines]
      for (const { at, op, text } of edits) {
        if (out.length === 0) break // every line dropped
        const i = at % out.length
        const current = out[i] as string
        if (op === 'drop') out.splice(i, 1)
        if (op === 'twice') out.splice(i, 0, current)
        if (op === 'indent') out[i] = `  ${current}`
        if (op === 'dedent') out[i] = current.replace(/^ {1,2}/, '')
        if (op === 'tab') out[i] = current.replace(/^ {2}/, '\t')
        if (op === 'insert') out[i] = current.slice(0, at % 7) + text + current.slice(at % 7)
        if (op === 'colon') out[i] = current.replace(':', ' ')
      }
      return `${out.join('\n')}\n`
    })
}

/** A samconfig.toml-ish text: tables, stack_name pairs, comments, noise. */
export const samconfigText = fc
  .array(
    fc.oneof(
      fc
        .constantFrom('default', 'prod', 'dev', ' default ')
        .chain((env) =>
          fc
            .constantFrom('deploy', 'global', 'build')
            .map((section) => `[${env}.${section}.parameters]`),
        ),
      fc
        .tuple(
          fc.constantFrom('stack_name', 'region', 'stack-name'),
          trickyText,
          fc.constantFrom('"', "'"),
        )
        .map(([key, value, quote]) => `${key} = ${quote}${value}${quote}`),
      fc.constantFrom('version = 0.1', '# comment', '', '[', 'stack_name = unquoted'),
      trickyText,
    ),
    { maxLength: 10 },
  )
  .map((lines) => lines.join('\n'))
