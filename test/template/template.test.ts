// Checks on template.yaml / pipeline.yaml / buildspec.yml / events / env.json as the
// deployment will see them: the real validator (cfn-lint), least privilege, encryption at
// rest, safe deploys, and that each function builds from its own Metadata and imports.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { SERVER_ERROR_METRIC } from '../../functions/shared/http.ts'
import { requireTool } from '../../scripts/local/tools.ts'
import {
  buildFunction,
  conditionValue,
  functionsOf,
  type Json,
  type LocalFunction,
  type ResolveScope,
  readTemplate,
  resolveValue,
  runtimeHandlerFile,
  samBuiltHandler,
  type Template,
} from '../../scripts/template.ts'
import { REPO_ROOT, runNode } from '../support/child.ts'

const STACK = 'middy-kms-secrets'
const template = readTemplate(join(REPO_ROOT, 'template.yaml'))
const pipeline = readTemplate(join(REPO_ROOT, 'pipeline.yaml'))
const functions = functionsOf(template)
/** 'secure-items' for functions/secure-items/handler.ts. */
const serviceOf = (fn: LocalFunction): string => fn.entryPoints[0]?.split('/')[1] ?? ''
/** Every file under `dir`, relative, with / separators. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
// Resolution context of a deploy that creates its own key, under the samconfig stack name.
const ctx: ResolveScope = {
  template,
  parameters: { UpstreamUrl: 'https://upstream.example/' },
  pseudo: { 'AWS::StackName': STACK },
  unfixed: 'placeholder',
}

type Statement = {
  Sid?: string
  Effect: string
  Action: string | string[]
  Resource?: Json
  Principal?: Json
  Condition?: Record<string, Record<string, Json>>
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]

const actionsOf = (s: Statement): string[] => asList(s.Action).map((a) => a.toLowerCase())

const resolved = (value: Json): Json => resolveValue(value, ctx) as Json

/** Logical id a `Ref` / `Fn::GetAtt` points at, if `value` is one. */
function target(value: Json | undefined): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  if (typeof value.Ref === 'string') return value.Ref
  const getAtt = value['Fn::GetAtt']
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0]
  return undefined
}

/** Every IAM statement a role gets: its inline Policies and RolePolicy / Policy resources. */
function roleStatements(t: Template, roleId: string): Statement[] {
  const out: Statement[] = []
  const role = t.Resources[roleId]
  for (const policy of asList(role?.Properties?.Policies as Json[] | undefined)) {
    const doc = (policy as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument
    out.push(...doc.Statement)
  }
  for (const resource of Object.values(t.Resources)) {
    const p = resource.Properties ?? {}
    const attached =
      (resource.Type === 'AWS::IAM::RolePolicy' && target(p.RoleName) === roleId) ||
      (resource.Type === 'AWS::IAM::Policy' &&
        asList(p.Roles as Json[] | undefined).some((r) => target(r) === roleId))
    if (attached) out.push(...(p.PolicyDocument as { Statement: Statement[] }).Statement)
  }
  return out
}

/** All IAM-like statements in a template: roles, policies, key / bucket / topic policies. */
function allStatements(t: Template): Statement[] {
  const out: Statement[] = []
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk)
    else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>
      if (Array.isArray(record.Statement)) out.push(...(record.Statement as Statement[]))
      Object.values(record).forEach(walk)
    }
  }
  walk(t.Resources)
  return out
}

const fnByName = (logicalId: string): LocalFunction => {
  const fn = functions.find((f) => f.logicalId === logicalId)
  if (fn === undefined) throw new Error(`no function ${logicalId} in template.yaml`)
  return fn
}

const deployedName = (fn: LocalFunction): string => resolved(fn.functionName as Json) as string

/** Properties of resource `id` of `t`; fails the test when the resource is missing. */
function propsOf(t: Template, id: string): Record<string, Json> {
  const resource = t.Resources[id]
  if (resource === undefined) throw new Error(`no resource ${id}`)
  return resource.Properties ?? {}
}

describe('template.yaml and pipeline.yaml', () => {
  it('parse as CloudFormation with the SAM transform and the contract functions', () => {
    // Prepare / Act: module scope. Assess
    expect(template.Transform).toBe('AWS::Serverless-2016-10-31')
    expect(functions.map((f) => [f.logicalId, f.handler, deployedName(f)])).toEqual([
      ['SecureItemsFunction', 'handler.handler', `${STACK}-secure-items`],
      ['SecureFetchFunction', 'handler.handler', `${STACK}-secure-fetch`],
    ])
    expect(pipeline.Resources.Pipeline?.Type).toBe('AWS::CodePipeline::Pipeline')
  })

  it('pass cfn-lint with no error and no warning', () => {
    // Prepare
    const args = ['template.yaml', 'pipeline.yaml']
    // Act
    const cfnLint = requireTool('cfn-lint')
    const run = spawnSync(cfnLint, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 })
    // Assess
    expect(run.error).toBeUndefined()
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('')
    expect(run.status).toBe(0)
  }, 300_000)
})

describe('least privilege', () => {
  it('no policy anywhere grants kms:*, dynamodb:* or a bare *', () => {
    // Prepare
    const statements = [...allStatements(template), ...allStatements(pipeline)]
    // Act
    const wildcards = statements.filter((s) =>
      actionsOf(s).some((a) => a === '*' || a === 'kms:*' || a === 'dynamodb:*'),
    )
    // Assess
    expect(statements.length).toBeGreaterThan(20)
    expect(wildcards).toEqual([])
  })

  it.each(functions.map((f) => [f.logicalId, f] as const))(
    '%s: every KMS / DynamoDB action of its role is scoped to a resource, never *',
    (_, fn) => {
      // Prepare
      const roleId = target(fn.properties.Role)
      expect(roleId, 'function has an explicit Role').toBeDefined()
      // Act
      const statements = roleStatements(template, roleId as string)
      const scoped = statements.filter((s) =>
        actionsOf(s).some((a) => a.startsWith('kms:') || a.startsWith('dynamodb:')),
      )
      // Assess
      expect(scoped.length).toBeGreaterThan(0)
      for (const s of scoped) {
        expect(s.Effect).toBe('Allow')
        expect(
          actionsOf(s).every((a) => !a.includes('*')),
          JSON.stringify(s),
        ).toBe(true)
        const resources = asList(resolved(s.Resource as Json) as Json)
        expect(resources.length).toBeGreaterThan(0)
        for (const r of resources) expect(String(r), JSON.stringify(s)).not.toMatch(/^\*$|:\*$/)
      }
    },
  )

  it.each(functions.map((f) => [f.logicalId, f] as const))(
    '%s: its role decrypts only with its own LambdaFunctionName (or via DynamoDB for its table)',
    (_, fn) => {
      // Prepare
      const name = deployedName(fn)
      const statements = roleStatements(template, target(fn.properties.Role) as string)
      // Act
      const decrypts = statements.filter((s) => actionsOf(s).includes('kms:decrypt'))
      const own = decrypts.filter(
        (s) =>
          resolved(
            s.Condition?.StringEquals?.['kms:EncryptionContext:LambdaFunctionName'] as Json,
          ) === name,
      )
      const viaTable = decrypts.filter(
        (s) =>
          resolved(s.Condition?.StringEquals?.['kms:ViaService'] as Json) ===
            'dynamodb.us-east-1.amazonaws.com' &&
          resolved(
            s.Condition?.StringEquals?.['kms:EncryptionContext:aws:dynamodb:tableName'] as Json,
          ) === `${STACK}-items`,
      )
      // Assess
      expect(own).toHaveLength(1)
      expect(decrypts.length).toBe(own.length + viaTable.length)
    },
  )

  it('the secure-items role reads and writes only its table, with the actions it uses', () => {
    // Prepare
    const fn = fnByName('SecureItemsFunction')
    // Act
    const dynamo = roleStatements(template, target(fn.properties.Role) as string).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('dynamodb:')),
    )
    // Assess
    expect(dynamo).toHaveLength(1)
    expect(actionsOf(dynamo[0] as Statement).sort()).toEqual([
      'dynamodb:getitem',
      'dynamodb:putitem',
      'dynamodb:query',
    ])
    expect(resolved(dynamo[0]?.Resource as Json)).toBe(
      `arn:aws:dynamodb:us-east-1:123456789012:table/${STACK}-items`,
    )
  })
})

describe('KMS key', () => {
  const key = template.Resources.SecretsKey
  const keyStatements = (propsOf(template, 'SecretsKey').KeyPolicy as { Statement: Statement[] })
    .Statement

  it('is symmetric, rotated, retained, and created only when no existing key is given', () => {
    // Prepare / Act
    const p = key?.Properties ?? {}
    // Assess
    expect(key?.Condition).toBe('CreateKey')
    expect(p.KeySpec).toBe('SYMMETRIC_DEFAULT')
    expect(p.EnableKeyRotation).toBe(true)
    expect(key?.DeletionPolicy).toBe('Retain')
    expect(conditionValue(ctx, 'CreateKey')).toBe(true)
    expect(
      conditionValue(
        { ...ctx, parameters: { ...ctx.parameters, ExistingKeyArn: 'arn:x' } },
        'CreateKey',
      ),
    ).toBe(false)
  })

  it('lets each function role decrypt only under its own name', () => {
    // Prepare
    const byRole = new Map(
      keyStatements
        .filter((s) => target((s.Principal as { AWS?: Json } | undefined)?.AWS) !== undefined)
        .map((s) => [target((s.Principal as { AWS: Json }).AWS), s]),
    )
    for (const fn of functions) {
      // Act
      const s = byRole.get(target(fn.properties.Role))
      // Assess
      expect(s, `${fn.logicalId} role in the key policy`).toBeDefined()
      expect(actionsOf(s as Statement)).toEqual(['kms:decrypt'])
      expect(
        resolved(s?.Condition?.StringEquals?.['kms:EncryptionContext:LambdaFunctionName'] as Json),
      ).toBe(deployedName(fn))
    }
  })

  it('gives the account (IAM) no unconditioned Decrypt, Encrypt, data key or grant', () => {
    // Prepare
    const crypto = /^kms:(decrypt|encrypt|generatedatakey.*|reencrypt.*|creategrant)$/
    // Act
    const open = keyStatements.filter(
      (s) => actionsOf(s).some((a) => crypto.test(a)) && s.Condition === undefined,
    )
    const admin = keyStatements.find((s) => s.Sid === 'KeyAdministrationViaIam')
    // Assess
    expect(open).toEqual([])
    expect(admin).toBeDefined()
    expect(actionsOf(admin as Statement).filter((a) => crypto.test(a))).toEqual([])
    expect(actionsOf(admin as Statement)).toContain('kms:putkeypolicy')
  })

  it('encrypts the items table (with PITR and deletion protection) and the alarm topic', () => {
    // Prepare
    const table = template.Resources.ItemsTable
    const keyArn = {
      'Fn::If': ['CreateKey', { 'Fn::GetAtt': ['SecretsKey', 'Arn'] }, { Ref: 'ExistingKeyArn' }],
    }
    // Act
    const p = table?.Properties ?? {}
    // Assess
    expect(p.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn })
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true })
    expect(p.DeletionProtectionEnabled).toBe(true)
    expect(table?.DeletionPolicy).toBe('Retain')
    expect(p.KeySchema).toEqual([
      { AttributeName: 'owner', KeyType: 'HASH' },
      { AttributeName: 'id', KeyType: 'RANGE' },
    ])
    expect(template.Resources.AlarmTopic?.Properties?.KmsMasterKeyId).toEqual(keyArn)
  })

  it('alarms on KMS Decrypt usage to the encrypted topic', () => {
    // Prepare
    const alarm = template.Resources.KeyDecryptUsageAlarm?.Properties ?? {}
    // Act
    const dimensions = Object.fromEntries(
      (alarm.Dimensions as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]),
    )
    // Assess
    expect(alarm.Namespace).toBe('AWS/Usage')
    expect(alarm.MetricName).toBe('CallCount')
    expect(dimensions).toEqual({ Service: 'KMS', Type: 'API', Resource: 'Decrypt', Class: 'None' })
    expect(alarm.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }])
  })

  it('keeps the ciphertext parameters NoEcho and out of the outputs', () => {
    // Prepare
    const secretParameters = ['DataKeyCiphertext', 'ApiTokenCiphertext']
    // Act
    const outputs = JSON.stringify(template.Outputs)
    // Assess
    for (const name of secretParameters) {
      expect(template.Parameters?.[name]?.NoEcho).toBe(true)
      expect(outputs).not.toContain(name)
    }
  })
})

describe('functions', () => {
  let buildRoot = ''
  beforeAll(() => {
    buildRoot = mkdtempSync(join(tmpdir(), 'kms-template-build-'))
  })
  afterAll(() => rmSync(buildRoot, { recursive: true, force: true }))

  it.each(functions.map((f) => [f.logicalId, f] as const))(
    '%s: nodejs24.x on arm64, traced, canary-deployed behind its own Errors alarm',
    (_, fn) => {
      // Prepare
      const p = fn.properties
      const alarmId = (p.DeploymentPreference as { Alarms: Json[] }).Alarms.map(target)
      // Act
      const alarm = template.Resources[alarmId[0] as string]?.Properties ?? {}
      const dims = alarm.Dimensions as { Name: string; Value: Json }[]
      // Assess
      expect(fn.runtime).toBe('nodejs24.x')
      expect(fn.architectures).toEqual(['arm64'])
      expect(p.Tracing).toBe('Active')
      expect(p.AutoPublishAlias).toBe('live')
      expect((p.DeploymentPreference as { Type: string }).Type).toBe('Canary10Percent5Minutes')
      expect(alarmId).toHaveLength(2)
      expect(alarm.MetricName).toBe('Errors')
      expect(resolved(dims.find((d) => d.Name === 'FunctionName')?.Value as Json)).toBe(
        deployedName(fn),
      )
      expect(fn.timeout).toBeGreaterThanOrEqual(10)
    },
  )

  it.each(functions.map((f) => [f.logicalId, f] as const))(
    '%s: the canary also rolls back on its handled 5xx answers (ServerError metric alarm)',
    (_, fn) => {
      // Prepare
      const alarmIds = (fn.properties.DeploymentPreference as { Alarms: Json[] }).Alarms.map(target)
      // Act
      const serverErrors = alarmIds
        .map((id) => template.Resources[id as string]?.Properties ?? {})
        .filter((alarm) => alarm.MetricName === SERVER_ERROR_METRIC)
      const alarm = serverErrors[0] ?? {}
      // Assess: the metric as Powertools emits it from this function (namespace from the
      // environment, default dimension `service` = POWERTOOLS_SERVICE_NAME).
      expect(serverErrors).toHaveLength(1)
      expect(alarm.Namespace).toBe(fn.environment.POWERTOOLS_METRICS_NAMESPACE)
      expect(alarm.Namespace).toEqual(expect.any(String))
      expect(alarm.Dimensions).toEqual([
        { Name: 'service', Value: fn.environment.POWERTOOLS_SERVICE_NAME },
      ])
      expect(fn.environment.POWERTOOLS_SERVICE_NAME).toEqual(expect.any(String))
      expect(alarm).toMatchObject({
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      })
      expect(resolved(alarm.AlarmName as Json)).toMatch(new RegExp(`^${STACK}-`))
    },
  )

  it.each(functions.map((f) => [f.logicalId, f] as const))(
    '%s: logs to its own log group with a retention',
    (_, fn) => {
      // Prepare
      const groupId = target((fn.properties.LoggingConfig as { LogGroup: Json }).LogGroup)
      // Act
      const group = template.Resources[groupId as string]
      // Assess
      expect(group?.Type).toBe('AWS::Logs::LogGroup')
      expect(resolved(group?.Properties?.LogGroupName as Json)).toBe(
        `/aws/lambda/${deployedName(fn)}`,
      )
      expect(group?.Properties?.RetentionInDays).toEqual({ Ref: 'LogRetentionInDays' })
    },
  )

  it.each(functions.map((f) => [f.logicalId, f] as const))(
    '%s: built by esbuild as minified ESM for node24 with source maps',
    (_, fn) => {
      // Prepare / Act
      const b = fn.buildProperties
      // Assess
      expect(fn.buildMethod).toBe('esbuild')
      expect(b).toMatchObject({ Format: 'esm', Target: 'node24', Minify: true, Sourcemap: true })
      // Minified, an init error would reach the runtime's log line as "errorType":"bn".
      expect(b.KeepNames).toBe(true)
      // Code behind a dynamic import() (the X-Ray SDK) goes to a chunk read only when tracing is on.
      expect(b.Splitting).toBe(true)
      // One entry at the artifact's root: Handler has no folder for sam build to cut.
      expect(fn.entryPoints).toEqual([`functions/${serviceOf(fn)}/handler.ts`])
      expect(b.Outbase).toBeUndefined()
      expect(fn.handler).toBe('handler.handler')
    },
  )

  // The handlers are written in functions/<name>/handler.ts: until one exists, this fails.
  it.each(functions.map((f) => [f.logicalId, f] as const))(
    '%s: every entry point exists',
    (_, fn) => {
      // Prepare / Act
      const missing = fn.entryPoints.filter((e) => !existsSync(join(REPO_ROOT, fn.codeUri, e)))
      // Assess
      expect(missing, `missing entry points of ${fn.logicalId}`).toEqual([])
    },
  )

  it.each(functions.map((f) => [f.logicalId, f] as const))(
    '%s: builds from its Metadata and the built handler imports in a fresh Node',
    async (_, fn) => {
      // Prepare
      const outdir = join(buildRoot, fn.logicalId)
      // Well-formed ciphertexts nobody can decrypt: the functions validate them at init.
      const blob = Buffer.from(
        'not a real KMS ciphertext blob, but as long as one (64 bytes or more)',
      ).toString('base64')
      const env = resolveValue(fn.environment as Json, {
        ...ctx,
        parameters: { ...ctx.parameters, DataKeyCiphertext: blob, ApiTokenCiphertext: blob },
      }) as Record<string, string>
      // Act
      const built = await buildFunction(fn, join(REPO_ROOT, fn.codeUri), outdir)
      const run = await runNode(
        `const m = await import(${JSON.stringify(built.handlerFile)})
         await new Promise((r) => setTimeout(r, 300)) // a prefetch failure must stay handled
         console.log(JSON.stringify({ handler: typeof m.${fn.handlerExport} }))`,
        {
          env: {
            ...env,
            AWS_LAMBDA_FUNCTION_NAME: deployedName(fn),
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'testing',
            AWS_SECRET_ACCESS_KEY: 'testing',
            // Nothing listens there: no call may leave this machine.
            AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
            AWS_MAX_ATTEMPTS: '1',
          },
          cwd: outdir,
        },
      )
      const builtFiles = filesUnder(outdir)
      // Assess: the Handler sam build writes is this one, and the runtime loads our bundle for it.
      expect(samBuiltHandler(fn.handler, builtFiles)).toBe(fn.handler)
      expect(runtimeHandlerFile(outdir, fn.handler)).toBe(built.handlerFile)
      expect(built.handlerFile).toBe(join(outdir, `${fn.handlerModule}.mjs`))
      expect(existsSync(`${built.handlerFile}.map`)).toBe(true)
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      expect(run.json).toEqual({ handler: 'function' })
      // Tracing off costs no parse of the X-Ray SDK: it is in a chunk of its own, not the entry.
      const jsFiles = builtFiles.filter((file) => file.endsWith('.mjs'))
      const withXray = jsFiles.filter((file) =>
        readFileSync(join(outdir, file), 'utf8').includes('AWS_XRAY_DAEMON_ADDRESS'),
      )
      expect(withXray.length).toBe(1)
      expect(withXray[0]).not.toBe(`${fn.handlerModule}.mjs`)
    },
    120_000,
  )
})

describe('events and env.json', () => {
  const eventFiles = readdirSync(join(REPO_ROOT, 'events')).filter((f) => f.endsWith('.json'))
  const routesOf = (fn: LocalFunction): string[] =>
    Object.values(
      (fn.properties.Events ?? {}) as Record<
        string,
        { Type: string; Properties: Record<string, string> }
      >,
    )
      .filter((e) => e.Type === 'HttpApi')
      .map((e) => `${e.Properties.Method} ${e.Properties.Path}`)

  it('has one HTTP API v2 event per route, named after its function', () => {
    // Prepare
    const byFunction = new Map(functions.map((f) => [f.logicalId, new Set<string>()]))
    // Act
    for (const file of eventFiles) {
      const event = JSON.parse(readFileSync(join(REPO_ROOT, 'events', file), 'utf8'))
      const fn = functions.find((f) => file.startsWith(`${serviceOf(f)}-`))
      expect(fn, `${file} names no function`).toBeDefined()
      expect(event.version).toBe('2.0')
      expect(event.requestContext.routeKey).toBe(event.routeKey)
      expect(routesOf(fn as LocalFunction), file).toContain(event.routeKey)
      byFunction.get((fn as LocalFunction).logicalId)?.add(event.routeKey)
    }
    // Assess
    for (const fn of functions) {
      expect([...(byFunction.get(fn.logicalId) ?? [])].sort()).toEqual(routesOf(fn).sort())
    }
  })

  it('env.json overrides only declared variables of existing functions', () => {
    // Prepare
    const env = JSON.parse(readFileSync(join(REPO_ROOT, 'env.json'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >
    // Act
    const unknown = Object.entries(env).flatMap(([id, vars]) => {
      const fn = functions.find((f) => f.logicalId === id)
      if (fn === undefined) return [id]
      return Object.keys(vars)
        .filter((v) => !(v in fn.environment) || typeof vars[v] !== 'string')
        .map((v) => `${id}.${v}`)
    })
    // Assess
    expect(Object.keys(env).sort()).toEqual(functions.map((f) => f.logicalId).sort())
    expect(unknown).toEqual([])
  })
})

describe('pipeline', () => {
  const r = pipeline.Resources

  it('keeps artifacts in a KMS-encrypted, private, TLS-only bucket', () => {
    // Prepare
    const bucket = r.ArtifactBucket?.Properties ?? {}
    const policy = (
      propsOf(pipeline, 'ArtifactBucketPolicy').PolicyDocument as { Statement: Statement[] }
    ).Statement
    // Act
    const sse = (bucket.BucketEncryption as { ServerSideEncryptionConfiguration: Json[] })
      .ServerSideEncryptionConfiguration[0] as {
      ServerSideEncryptionByDefault: Record<string, Json>
    }
    const denyNonTls = policy.find(
      (s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
    )
    // Assess
    expect(sse.ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: { 'Fn::GetAtt': ['ArtifactKey', 'Arn'] },
    })
    expect(r.ArtifactKey?.Properties?.EnableKeyRotation).toBe(true)
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    })
    expect(denyNonTls?.Principal).toBe('*')
    expect(actionsOf(denyNonTls as Statement)).toEqual(['s3:*'])
    expect(r.Pipeline?.Properties?.ArtifactStore).toMatchObject({
      EncryptionKey: { Type: 'KMS', Id: { 'Fn::GetAtt': ['ArtifactKey', 'Arn'] } },
    })
  })

  it('goes CodeConnections source -> CodeBuild (buildspec.yml) -> change set create, execute', () => {
    // Prepare
    const p = r.Pipeline?.Properties ?? {}
    const stages = p.Stages as {
      Name: string
      Actions: {
        Name: string
        ActionTypeId: { Provider: string }
        Configuration: Record<string, Json>
        RunOrder?: number
      }[]
    }[]
    // Act
    const shape = stages.map((s) => [
      s.Name,
      s.Actions.map(
        (a) => `${a.ActionTypeId.Provider}:${String(a.Configuration.ActionMode ?? '')}`,
      ),
    ])
    const createChangeSet = stages[2]?.Actions[0]?.Configuration ?? {}
    // Assess
    expect(p.PipelineType).toBe('V2')
    expect(shape).toEqual([
      ['Source', ['CodeStarSourceConnection:']],
      ['Build', ['CodeBuild:']],
      ['Deploy', ['CloudFormation:CHANGE_SET_REPLACE', 'CloudFormation:CHANGE_SET_EXECUTE']],
    ])
    expect(createChangeSet.TemplatePath).toBe('BuildOutput::packaged.yaml')
    expect(r.BuildProject?.Properties?.Source).toEqual({
      Type: 'CODEPIPELINE',
      BuildSpec: 'buildspec.yml',
    })
  })

  it('buildspec.yml runs npm ci, the tests, sam build, the built Handlers check and sam package into packaged.yaml', () => {
    // Prepare
    const spec = parseYaml(readFileSync(join(REPO_ROOT, 'buildspec.yml'), 'utf8')) as {
      phases: Record<string, { commands: string[] }>
      artifacts: { files: string[] }
    }
    // Act
    const commands = Object.values(spec.phases)
      .flatMap((phase) => phase.commands)
      .join('\n')
    const order = [
      'npm ci',
      'npm test',
      'sam build',
      'node scripts/built-handlers.ts .aws-sam/build',
      'sam package',
    ].map((c) => commands.indexOf(c))
    // Assess
    expect(order.every((i) => i >= 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(commands).toMatch(/--output-template-file packaged\.yaml/)
    expect(spec.artifacts.files).toEqual(['packaged.yaml'])
  })

  it("passes the app stack's parameters on, never a ciphertext in clear in the template", () => {
    // Prepare
    const deploy = (
      propsOf(pipeline, 'Pipeline').Stages as {
        Actions: { Configuration: Record<string, Json> }[]
      }[]
    )[2]?.Actions[0]?.Configuration
    // Act
    const overrides = JSON.parse(
      resolveValue(deploy?.ParameterOverrides as Json, {
        template: pipeline,
        parameters: { FullRepositoryId: 'o/r', UpstreamUrl: 'https://u.example/' },
        unfixed: 'placeholder',
      }) as string,
    ) as Record<string, string>
    // Assess
    expect(Object.keys(overrides).sort()).toEqual(
      Object.keys(template.Parameters ?? {})
        .filter((n) => pipeline.Parameters?.[n] !== undefined)
        .sort(),
    )
    for (const name of ['DataKeyCiphertext', 'ApiTokenCiphertext']) {
      expect(pipeline.Parameters?.[name]?.NoEcho).toBe(true)
      expect(overrides[name]).toBe('')
    }
  })
})
