// `kms-secrets check`: before a deploy, proves that every encrypted value a function of the
// template will receive decrypts for that function, without anyone seeing a plaintext: KMS
// ReEncrypt from the function's encryption context onto the same key and the same context
// (the plaintext never leaves KMS; the caller needs kms:ReEncryptFrom / kms:ReEncryptTo with
// kms:ReEncryptOnSameKey, never kms:Decrypt). Also checks the key (enabled, rotation) and
// each function's environment against Lambda's 4 KB.

import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import {
  DescribeKeyCommand,
  type KeyMetadata,
  type KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'
import {
  ENVELOPE_PREFIX,
  type KmsSecretsError,
  MIN_KMS_BLOB_BYTES,
  parseEncrypted,
} from 'middy-kms-secrets/format'
import { stringOf, type TemplateScope, type Values } from '../args.ts'
import { kmsFailure } from '../encrypt/values.ts'
import { CliUsageError, EXIT_FAILURE, EXIT_OK } from '../errors.ts'
import { LAMBDA_ENV_BYTES, notCounted } from '../output.ts'
import { functionResources, isRecord, type Json, samconfigParameter } from '../template/read.ts'
import {
  byteLength,
  conditionIn,
  type DeployValues,
  defaultSamconfig,
  findFunction,
  resolveIn,
  type TemplateFile,
  type TemplateFunctionEnv,
} from '../template.ts'
import {
  type KeyReport,
  keyReport,
  keyReportText,
  type Rotation,
  readRotation,
} from './key-report.ts'
import type { CommandRun } from './shared.ts'

export const checkOptions = {
  template: { type: 'string' },
  'stack-name': { type: 'string' },
  samconfig: { type: 'string' },
  'config-env': { type: 'string' },
  region: { type: 'string' },
  'parameter-overrides': { type: 'string', multiple: true },
  'key-id': { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

export type Verdict = 'ok' | 'warn' | 'fail'

/** One line of the report: never a value, plaintext or ciphertext. */
export interface CheckLine {
  function: string
  variable: string
  verdict: Verdict
  reason: string
}

const GCM_NOTE =
  "the data key re-encrypts; the AES-GCM tag of the body cannot be checked without the plaintext data key (run 'kms-secrets decrypt' where kms:Decrypt is allowed)"

/** The message without its `VARIABLE: ` prefix (the line names the variable already). */
const bare = (error: KmsSecretsError) => error.message.slice((error.variable as string).length + 2)

/** What KMS said, in words (AccessDenied names ReEncrypt, the one call a value needs). */
const kmsReason = (error: unknown) => bare(kmsFailure(error, 'ReEncrypt', 'kms'))

// ------------------------------------------------------------------------ parameters

const PAIRS_ONLY = '--parameter-overrides takes Name=value pairs (Name: letters and digits)'

/**
 * What sam deploy's --parameter-overrides takes: `K=V K2="v 2"`, the long form
 * `ParameterKey=K,ParameterValue=V`, or `file://PATH` holding a JSON object.
 */
export const parseOverrides = (texts: string[], cwd: string): Record<string, string> => {
  const out = new Map<string, string>()
  for (const text of texts) {
    if (text.startsWith('file://')) {
      for (const [key, value] of Object.entries(readOverridesFile(text.slice(7), cwd))) {
        out.set(key, value)
      }
      continue
    }
    let consumed = 0
    const pair =
      /\s*(?:ParameterKey=([A-Za-z0-9]+),ParameterValue=|([^=\s]*)=)(?:"([^"]*)"|'([^']*)'|(\S*))/gy
    for (const match of text.matchAll(pair)) {
      const [whole, long, short, double, single, plain] = match
      const key = (long ?? short) as string
      consumed += whole.length
      if (!/^[A-Za-z0-9]+$/.test(key)) {
        throw new CliUsageError(PAIRS_ONLY)
      }
      out.set(key, (double ?? single ?? plain) as string)
    }
    // What no pair could take (a word without "="): never echoed, it may be a value.
    if (text.slice(consumed).trim() !== '') {
      throw new CliUsageError(PAIRS_ONLY)
    }
  }
  return Object.fromEntries(out)
}

const readOverridesFile = (path: string, cwd: string): Record<string, string> => {
  let data: unknown
  try {
    // Stryker disable next-line StringLiteral: without an encoding, JSON.parse reads the Buffer as UTF-8 too
    data = JSON.parse(readFileSync(resolve(cwd, path), 'utf8'))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new CliUsageError(
      `cannot read --parameter-overrides file://${path} (${code ?? 'not JSON'})`,
    )
  }
  const pairs = isRecord(data) ? Object.entries(data) : []
  if (pairs.length === 0 || pairs.some(([, value]) => typeof value !== 'string')) {
    throw new CliUsageError(
      `--parameter-overrides file://${path} must hold a JSON object of strings ({"Name": "value"})`,
    )
  }
  return Object.fromEntries(pairs) as Record<string, string>
}

/** samconfig.toml's parameter_overrides, then the command line's (which win). */
const deployParameters = (values: Values, scope: TemplateScope, cwd: string) => {
  const samconfig = stringOf(values, 'samconfig')
  const path =
    samconfig === undefined ? defaultSamconfig(scope.path as string) : resolve(cwd, samconfig)
  const configEnv = stringOf(values, 'config-env') ?? 'default'
  const fromConfig = existsSync(path)
    ? samconfigParameter(readFileSync(path, 'utf8'), configEnv, 'parameter_overrides')
    : undefined
  const given = (values['parameter-overrides'] as string[] | undefined) ?? []
  return parseOverrides(fromConfig === undefined ? given : [fromConfig, ...given], cwd)
}

// ------------------------------------------------------------------------ the key

/** `--key-id`, else the template's one AWS::KMS::Alias (when its Condition holds). */
const keyIdOf = (values: Values, template: TemplateFile, deploy: DeployValues) => {
  const given = stringOf(values, 'key-id')
  if (given !== undefined) return given
  const aliases = Object.entries(template.doc.Resources).filter(
    ([, resource]) => isRecord(resource) && resource.Type === 'AWS::KMS::Alias',
  )
  const hint = 'pass --key-id (the key the values are encrypted under)'
  if (aliases.length !== 1) {
    throw new CliUsageError(`which key? the template has no single AWS::KMS::Alias: ${hint}`)
  }
  const [id, alias] = aliases[0] as (typeof aliases)[number]
  const what = `${id} AliasName`
  if (alias.Condition !== undefined && !conditionIn(template, deploy, alias.Condition, what)) {
    throw new CliUsageError(`${id} is not created with these parameters (its Condition): ${hint}`)
  }
  return resolveIn(template, deploy, alias.Properties?.AliasName as Json, what)
}

/** DescribeKey + GetKeyRotationStatus: the key's line, if usable its ARN, what it is. */
const checkKey = async (
  kms: KMSClient,
  keyId: string,
): Promise<{
  line: CheckLine
  arn: string | undefined
  key?: KeyMetadata
  rotation?: Rotation
}> => {
  const line = (verdict: Verdict, reason: string): CheckLine => ({
    function: '-',
    variable: `key ${keyId}`,
    verdict,
    reason,
  })
  let key: KeyMetadata
  let rotation: Rotation = { enabled: null, periodDays: null }
  try {
    key = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata as KeyMetadata
    // KMS refuses GetKeyRotationStatus on a key pending deletion: its state says enough.
    if (key.KeyState === 'Enabled') rotation = await readRotation(kms, key)
  } catch (error) {
    const reason =
      (error as { name?: unknown }).name === 'AccessDeniedException'
        ? 'KMS denied DescribeKey or GetKeyRotationStatus on the key (the check needs both)'
        : kmsReason(error)
    return { line: line('fail', reason), arn: undefined }
  }
  if (key.KeyState !== 'Enabled') {
    const when = key.DeletionDate ? `, deletion on ${key.DeletionDate.toISOString()}` : ''
    return {
      line: line('fail', `the key is ${key.KeyState}${when}: no value under it decrypts`),
      arn: undefined,
      key,
      rotation,
    }
  }
  if (rotation.enabled === null) {
    const manual = 'enabled; imported key material rotates by hand only'
    return { line: line('ok', manual), arn: key.Arn, key, rotation }
  }
  if (!rotation.enabled) {
    return {
      line: line(
        'warn',
        'enabled, but automatic rotation is off (expected only for imported key material)',
      ),
      arn: key.Arn,
      key,
      rotation,
    }
  }
  return { line: line('ok', 'enabled, automatic rotation on'), arn: key.Arn, key, rotation }
}

// ------------------------------------------------------------------------ values

interface Candidate {
  variable: string
  /** The EnvironmentVariableName of a bindVariableName value (a file: the path as written). */
  bindName: string
  /** What is re-encrypted: a raw blob, or an envelope's encrypted data key. */
  kind: 'raw KMS blob' | 'envelope' | 'secrets file'
  text: string
}

/** The encrypted values a function receives; plain settings are passed over. */
const candidatesOf = (
  fn: TemplateFunctionEnv,
  noEcho: (value: Json) => boolean,
  root: string,
): { candidates: Candidate[]; lines: CheckLine[] } => {
  const candidates: Candidate[] = []
  const lines: CheckLine[] = []
  const line = (variable: string, verdict: Verdict, reason: string) =>
    lines.push({ function: fn.logicalId, variable, verdict, reason })
  for (const { name, value, text } of fn.variables) {
    const secret = noEcho(value)
    if (text === undefined) {
      if (secret) line(name, 'fail', 'its parameter has no value here: pass --parameter-overrides')
      continue
    }
    if (text === '') {
      if (secret) {
        line(
          name,
          'warn',
          'empty: fine only for a first deploy, before the key exists; the function fails at its first cold start',
        )
      }
      continue
    }
    if (text.startsWith(ENVELOPE_PREFIX)) {
      candidates.push({ variable: name, bindName: name, kind: 'envelope', text })
      continue
    }
    const file = secretsFile(text, root)
    if (file !== undefined) {
      candidates.push({
        variable: `${name} (file:${text})`,
        bindName: text,
        kind: 'secrets file',
        text: file,
      })
      continue
    }
    if (secret || looksLikeBlob(text)) {
      candidates.push({ variable: name, bindName: name, kind: 'raw KMS blob', text })
    }
  }
  return { candidates, lines }
}

/** Encrypted values are told from plain settings by shape: `kse1:`, or a long strict base64. */
const looksLikeBlob = (text: string) =>
  /^[A-Za-z0-9+/]+={0,2}$/.test(text) &&
  text.length % 4 === 0 &&
  Buffer.byteLength(text, 'base64') >= MIN_KMS_BLOB_BYTES

/** A relative path to an envelope secrets file in the function's code: its text. */
const secretsFile = (text: string, root: string): string | undefined => {
  if (isAbsolute(text) || !/^[\w.-]+(?:\/[\w.-]+)*$/.test(text) || !text.includes('.'))
    return undefined
  const path = resolve(root, text)
  if (!existsSync(path)) return undefined
  const content = readFileSync(path, 'utf8').trim()
  return content.startsWith(ENVELOPE_PREFIX) ? content : undefined
}

/** What a failed ReEncrypt means for this value. */
const reasonOf = (error: unknown, functionName: string): string => {
  const name = (error as { name?: unknown }).name
  if (name === 'InvalidCiphertextException') {
    return `does not decrypt for ${functionName}: encrypted for another function name (or context), or altered`
  }
  if (name === 'IncorrectKeyException') return 'encrypted under another key'
  return kmsReason(error)
}

/**
 * ReEncrypt from the context onto the same key and context; a variable-bound value
 * (bindVariableName) is tried with its EnvironmentVariableName when the plain context fails.
 */
const reEncrypt = async (
  kms: KMSClient,
  keyArn: string,
  blob: Uint8Array,
  contexts: Array<Record<string, string>>,
): Promise<{ bound: boolean }> => {
  let failure: unknown
  for (const [index, context] of contexts.entries()) {
    try {
      const answer = await kms.send(
        new ReEncryptCommand({
          CiphertextBlob: blob,
          SourceKeyId: keyArn,
          SourceEncryptionContext: context,
          DestinationKeyId: keyArn,
          DestinationEncryptionContext: context,
        }),
      )
      // A KMS that does not hold SourceKeyId to the blob (moto) still says whose it was.
      if (answer.SourceKeyId !== keyArn) {
        throw Object.assign(new Error(), { name: 'IncorrectKeyException' })
      }
      return { bound: index > 0 }
    } catch (error) {
      failure ??= error
      if ((error as { name?: unknown }).name !== 'InvalidCiphertextException') break
    }
  }
  throw failure
}

const checkValue = async (
  kms: KMSClient,
  keyArn: string,
  fn: TemplateFunctionEnv,
  candidate: Candidate,
): Promise<CheckLine> => {
  const { variable, bindName, kind, text } = candidate
  const line = (verdict: Verdict, reason: string): CheckLine => ({
    function: fn.logicalId,
    variable,
    verdict,
    reason,
  })
  const context = { LambdaFunctionName: fn.functionName }
  let blob: Uint8Array
  try {
    const encrypted = parseEncrypted(text, bindName)
    blob = encrypted.blob ?? encrypted.envelope.encryptedKey
  } catch (error) {
    return line('fail', `${kind}: ${bare(error as KmsSecretsError)}`)
  }
  try {
    const { bound } = await reEncrypt(kms, keyArn, blob, [
      context,
      { ...context, EnvironmentVariableName: bindName },
    ])
    const how = `${kind} decrypts for ${fn.functionName}${bound ? ' (bound to its variable name)' : ''}`
    return kind === 'raw KMS blob' ? line('ok', how) : line('ok', `${how}: ${GCM_NOTE}`)
  } catch (error) {
    return line('fail', `${kind}: ${reasonOf(error, fn.functionName)}`)
  }
}

/** Lambda's 4 KB for all environment variables (names + values) of a function. */
const budgetLine = (fn: TemplateFunctionEnv): CheckLine => {
  const known = fn.variables.filter((v) => v.bytes !== undefined)
  const total = known.reduce((sum, v) => sum + byteLength(v.name) + (v.bytes as number), 0)
  const unknown = fn.variables.filter((v) => v.bytes === undefined).map((v) => v.name)
  const rest = unknown.length === 0 ? '' : ` (${notCounted(unknown)})`
  const over = total > LAMBDA_ENV_BYTES
  return {
    function: fn.logicalId,
    variable: '(environment)',
    verdict: over ? 'fail' : 'ok',
    reason: over
      ? `${total} bytes, over Lambda's ${LAMBDA_ENV_BYTES}-byte limit for all environment variables${rest}: bundle the secrets (kms-secrets bundle) or ship a secrets file`
      : `${total} of ${LAMBDA_ENV_BYTES} bytes${rest}`,
  }
}

// ------------------------------------------------------------------------ the command

const FORMATS = ['text', 'json'] as const

export const runCheck = async (run: CommandRun): Promise<number> => {
  const { values, io, scope } = run
  const format = stringOf(values, 'format') ?? 'text'
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new CliUsageError(`--format is one of ${FORMATS.join(', ')}`)
  }
  if (scope.path === undefined) throw new CliUsageError('check needs --template template.yaml')
  const template = scope.template()
  const deploy = scope.deployValues(deployParameters(values, scope, io.cwd))
  const parameters = template.doc.Parameters ?? {}
  const noEcho = (value: Json) => {
    const ref = isRecord(value) ? value.Ref : undefined
    return (
      typeof ref === 'string' && Object.hasOwn(parameters, ref) && parameters[ref]?.NoEcho === true
    )
  }
  // Per function, in template order: what needs no KMS, its values, its 4 KB budget.
  const found: Array<{ fn?: TemplateFunctionEnv; candidates: Candidate[]; lines: CheckLine[] }> = []
  for (const { logicalId, properties } of functionResources(template.doc)) {
    let fn: TemplateFunctionEnv
    try {
      fn = findFunction(template, logicalId, deploy)
    } catch (error) {
      // A name that cannot be known: no value of this function can be checked.
      const reason = (error as Error).message
      found.push({
        candidates: [],
        lines: [{ function: logicalId, variable: '-', verdict: 'fail', reason }],
      })
      continue
    }
    const codeUri = typeof properties.CodeUri === 'string' ? properties.CodeUri : '.'
    const { candidates, lines: own } = candidatesOf(
      fn,
      noEcho,
      resolve(dirname(template.path), codeUri),
    )
    found.push({ fn, candidates, lines: own })
  }
  const lines: CheckLine[] = []
  let report: KeyReport | undefined
  if (found.some(({ candidates }) => candidates.length > 0)) {
    const kms = run.kms()
    const keyId = keyIdOf(values, template, deploy)
    const key = await checkKey(kms, keyId)
    lines.push(key.line)
    if (key.key !== undefined) {
      const decrypts = found.flatMap(({ fn, candidates }) =>
        fn === undefined ? [] : [[fn.logicalId, candidates.length] as const],
      )
      report = keyReport(keyId, key.key, key.rotation as Rotation, Object.fromEntries(decrypts))
    }
    for (const { fn, candidates, lines: own } of found) {
      for (const candidate of candidates) {
        own.push(
          key.arn === undefined
            ? {
                function: (fn as TemplateFunctionEnv).logicalId,
                variable: candidate.variable,
                verdict: 'fail',
                reason: 'the key is not usable (see its line)',
              }
            : await checkValue(kms, key.arn, fn as TemplateFunctionEnv, candidate),
        )
      }
    }
  }
  for (const { fn, lines: own } of found) {
    lines.push(...own, ...(fn === undefined ? [] : [budgetLine(fn)]))
  }
  const failed = lines.some((line) => line.verdict === 'fail')
  io.stdout.write(
    format === 'json'
      ? `${JSON.stringify({ ok: !failed, lines, ...(report && { key: report }) }, null, 2)}\n`
      : `${textReport(lines)}${report ? keyReportText(report) : ''}`,
  )
  return failed ? EXIT_FAILURE : EXIT_OK
}

const textReport = (lines: CheckLine[]): string => {
  const width = (pick: (line: CheckLine) => string) => Math.max(...lines.map((l) => pick(l).length))
  const fnWidth = width((l) => l.function)
  const varWidth = width((l) => l.variable)
  const rows = lines.map(
    (l) =>
      `${l.function.padEnd(fnWidth)}  ${l.variable.padEnd(varWidth)}  ${l.verdict.padEnd(4)}  ${l.reason}`,
  )
  const count = (verdict: Verdict) => lines.filter((l) => l.verdict === verdict).length
  return `${rows.map((row) => `${row}\n`).join('')}${count('ok')} ok, ${count('warn')} warnings, ${count('fail')} failures\n`
}
