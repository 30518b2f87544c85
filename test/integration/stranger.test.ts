// Issue 20: the package as a stranger meets it. `npm pack` (prepack builds dist/), a fresh
// project per face installed with exactly the README's Install lines (run as written, the
// tarball's path in place of the package name), each README handler example typechecked
// (strict, skipLibCheck false, the README's tsconfig.json), bundled with the README's
// esbuild flags into index.mjs and run under aws-lambda-ric behind the loopback Runtime API,
// against moto, with values encrypted for the function by the CLI, packed too (cli/, package
// `kms-secrets`) and installed beside the library with the README's lines.
//
// The examples end in `// ...`; to see what they read, the run replaces that line with a
// return of the values they declared (and, where the handler has a `context`, logs it
// first, as users do). The example itself is typechecked as written, beside that version.

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { promisify } from 'node:util'
import { CreateKeyCommand } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { invoke } from '../../scripts/invoke.ts'
import { awsEnv, childEnv } from '../../scripts/local/aws-env.ts'
import { ricEntry } from '../../scripts/local/ric.ts'
import { esbuildOptionsOf, functionsOf, parseTemplate } from '../../scripts/template.ts'
import { kmsClient } from '../support/aws.ts'
import { REPO_ROOT, runNode } from '../support/child.ts'
import { expectNoSecrets } from '../support/no-leak.ts'
import { CLI, checkListing, packPackage } from '../support/pack.ts'
import {
  bundlingCommands,
  installLines,
  type ReadmeBlock,
  readmeBlocks,
} from '../support/readme.ts'

const PACKAGE = 'middy-kms-secrets'
const CLI_PACKAGE = 'kms-secrets'
const FUNCTION_NAME = 'scratch-fn'
const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc')
const ESBUILD = join(REPO_ROOT, 'node_modules/.bin/esbuild')

/** What each face needs, no more: each typechecks and runs with only these. The CLI's project
 * (a deploy script's) encrypts the values. */
type Face = 'middleware' | 'loadSecrets' | 'provider' | 'lite' | 'cli'
const FACES: Record<Face, readonly string[]> = {
  middleware: [PACKAGE, '@aws-sdk/client-kms', '@middy/core', '@types/node', '@types/aws-lambda'],
  loadSecrets: [PACKAGE, '@aws-sdk/client-kms', '@types/node'],
  provider: [PACKAGE, '@aws-sdk/client-kms', '@aws-lambda-powertools/parameters', '@types/node'],
  lite: [PACKAGE, '@types/node'],
  cli: [PACKAGE, CLI_PACKAGE],
}
/** The README's Install lines a face's project runs: those that install only what it needs. */
const linesFor = (face: Face) =>
  installLines().filter(({ packages }) => packages.every((name) => FACES[face].includes(name)))

/** The face of a README example, by what it imports. */
const faceOf = (code: string): Face =>
  code.includes("from '@middy/core'")
    ? 'middleware'
    : code.includes(`from '${PACKAGE}/provider'`)
      ? 'provider'
      : code.includes(`from '${PACKAGE}/lite'`)
        ? 'lite'
        : 'loadSecrets'

const examples = readmeBlocks('ts').filter((block) => block.section !== 'Install')

const exec = promisify(execFile)
/** Runs a program; never throws: its exit code and its stdout + stderr. */
async function run(
  file: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(file, args, {
      ...options,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
    return { code: 0, output: `${stdout}${stderr}` }
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string; message: string }
    const code = typeof failed.code === 'number' ? failed.code : 1
    return { code, output: `${failed.stdout ?? ''}${failed.stderr ?? failed.message}` }
  }
}

// The values, and what the examples' names for them answer (binary as hex).
const TOKEN = `tok-${randomBytes(12).toString('hex')}`
const DATA_KEY = randomBytes(32)
const CONFIG = {
  url: 'https://example.invalid',
  retries: 3,
  note: `cfg-${randomBytes(6).toString('hex')}`,
}
const BUNDLE = {
  DB_PASSWORD: `db-${randomBytes(9).toString('hex')}`,
  SMTP: `smtp-${randomBytes(9).toString('hex')}`,
}
const EXPECTED: Record<string, unknown> = {
  apiToken: TOKEN,
  token: TOKEN,
  dataKey: DATA_KEY.toString('hex'),
  config: CONFIG,
  all: BUNDLE,
}
const SECRETS = [TOKEN, DATA_KEY, CONFIG.note, BUNDLE.DB_PASSWORD, BUNDLE.SMTP]

let work = ''
let tarball = ''
let packedFiles: string[] = []
let cliTarball = ''
let cliPackedFiles: string[] = []
const projects = {} as Record<Face, { dir: string; install: { code: number; output: string } }>
let environment: Record<string, string> = {}

/** A fresh project for one face, installed with the README's lines for what it needs. */
async function installProject(face: Face) {
  const dir = join(work, face)
  mkdirSync(dir)
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `user-${face.toLowerCase()}`, private: true, type: 'module' }),
  )
  const env = {
    ...process.env,
    // Packages come from npm's cache where it has them; the commands stay as written.
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  }
  let output = ''
  for (const { line } of linesFor(face)) {
    const command = line
      .replace(/(?<=\s)middy-kms-secrets(?=\s|$)/, tarball)
      .replace(/(?<=\s)kms-secrets(?=\s|$)/, cliTarball)
    const result = await run('bash', ['-c', command], { cwd: dir, env })
    output += `$ ${line}\n${result.output}`
    if (result.code !== 0) return { dir, install: { code: result.code, output } }
  }
  return { dir, install: { code: 0, output } }
}

/** The README's tsconfig.json, and for the middleware its declaration of Middy's optional peer. */
function prepareTypes(face: Face, dir: string) {
  const [tsconfig] = readmeBlocks('json', 'Install')
  writeFileSync(join(dir, 'tsconfig.json'), tsconfig?.code ?? '')
  if (face === 'middleware') {
    const [declaration] = readmeBlocks('ts', 'Install')
    writeFileSync(join(dir, 'middy-durable.d.ts'), declaration?.code ?? '')
  }
}

/** The example, answering with the values it declared (after logging `context`, if it has one). */
function answering(code: string): string {
  const names = [...code.matchAll(/const [{[] ?([^}\]]+?) ?[}\]] =|const (\w+) = await/g)].flatMap(
    (match) => (match[1] ? match[1].split(',').map((name) => name.trim()) : [match[2] as string]),
  )
  const logs = /\(event, context\)/.test(code)
    ? '$1console.log(context)\n$1console.log(JSON.stringify(context))\n'
    : ''
  return `${code.replace(/^( *)\/\/ \.\.\.$/m, `${logs}$1return reveal({ ${names.join(', ')} })`)}
const reveal = (values: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value,
    ]),
  )
`
}

/** The README's esbuild flags for a face: plain for /lite, the main entry's for the others. */
function flagsFor(face: Face): string[] {
  const commands = bundlingCommands()
  const lite = commands.find((command) => command.comment.includes('/lite'))
  const main = commands.find((command) => command !== lite)
  return (face === 'lite' ? lite : main)?.flags ?? []
}

/** Bundles `entry` of a project into <dir>/build-<name>/Fn/index.mjs with the README's flags. */
async function bundle(face: Face, entry: string, name: string, flags = flagsFor(face)) {
  const root = join(projects[face].dir, `build-${name}`)
  const result = await run(
    ESBUILD,
    [entry, ...flags, `--outfile=${join(root, 'Fn', 'index.mjs')}`, '--log-level=warning'],
    { cwd: projects[face].dir },
  )
  return { root, ...result }
}

/**
 * Runs the bundle under `root` under aws-lambda-ric (scripts/invoke.ts, on a one-function
 * template) against moto, with the encrypted values: its answer and everything it logged.
 */
async function runHandler(root: string, logFormat: 'JSON' | 'Text' = 'Text') {
  const template = join(root, 'template.json')
  writeFileSync(
    template,
    JSON.stringify({
      Transform: 'AWS::Serverless-2016-10-31',
      Resources: {
        Fn: {
          Type: 'AWS::Serverless::Function',
          Properties: {
            FunctionName: FUNCTION_NAME,
            Handler: 'index.handler',
            Runtime: 'nodejs24.x',
            Timeout: 30,
            LoggingConfig: { LogFormat: logFormat },
            Environment: { Variables: environment },
          },
        },
      },
    }),
  )
  const logs = new PassThrough()
  let output = ''
  logs.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  const result = await invoke(
    {
      logicalId: 'Fn',
      events: [],
      parameterOverrides: {},
      template,
      buildDir: root,
      skipBuild: true,
      samLocal: false,
      help: false,
    },
    {
      cwd: root,
      env: childEnv(awsEnv(inject('motoEndpoint'))),
      log: (line) => {
        output += `${line}\n`
      },
      logStream: logs,
    },
  )
  return { invocation: result.invocations[0], output }
}

describe('the README', () => {
  it('its Install lines, together, install exactly what each face needs; each line serves one at least', () => {
    // Prepare
    const faces = Object.keys(FACES) as Face[]
    // Assess
    for (const face of faces) {
      const packages = linesFor(face).flatMap((line) => line.packages)
      expect(packages.sort(), face).toEqual([...FACES[face]].sort())
    }
    for (const { line } of installLines()) {
      expect(
        faces.some((face) => linesFor(face).some((used) => used.line === line)),
        line,
      ).toBe(true)
    }
  })

  it('its SAM BuildProperties are its esbuild flags for the main entry', () => {
    // Prepare: the README's Metadata on a function of a template, as sam build reads it.
    const [metadata] = readmeBlocks('yaml', 'Bundling for Lambda')
    const template = parseTemplate(
      `Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n${(metadata?.code ?? '').trimEnd().replace(/^/gm, '    ')}\n    Properties: { Handler: handler.handler }\n`,
    )
    const flags = Object.fromEntries(flagsFor('middleware').map((flag) => flag.split('=')))
    // Act
    const [fn] = functionsOf(template)
    const options = esbuildOptionsOf(fn as NonNullable<typeof fn>)
    // Assess
    expect({
      '--bundle': undefined,
      '--platform': options.platform,
      '--format': options.format,
      '--target': options.target,
      '--main-fields': options.mainFields?.join(','),
    }).toEqual(flags)
    expect(options.outExtension).toEqual({ '.js': '.mjs' })
    expect(flagsFor('lite')).toEqual(
      flagsFor('middleware').filter((f) => !f.startsWith('--main-fields=')),
    )
  })

  it('has a handler example for each face', () => {
    // Assess
    expect(examples.map((block) => faceOf(block.code)).sort()).toEqual(
      ['lite', 'loadSecrets', 'middleware', 'provider'].sort(),
    )
  })
})

describe('the packed package, in a stranger project', () => {
  beforeAll(async () => {
    // aws-lambda-ric: a native build of minutes on a machine that has none yet.
    ricEntry((line) => process.stderr.write(`${line}\n`))
    work = mkdtempSync(join(tmpdir(), 'kms-stranger-'))
    ;[{ tarball, files: packedFiles }, { tarball: cliTarball, files: cliPackedFiles }] =
      await Promise.all([packPackage(work), packPackage(work, CLI)])
    const faces = Object.keys(FACES) as Face[]
    const installed = await Promise.all(faces.map(installProject))
    faces.forEach((face, i) => {
      projects[face] = installed[i] as (typeof projects)[Face]
      prepareTypes(face, projects[face].dir)
    })
    // The values, encrypted for the function with the CLI as its project installed it.
    const motoEndpoint = inject('motoEndpoint')
    const key = await kmsClient(motoEndpoint).send(
      new CreateKeyCommand({ Description: 'stranger' }),
    )
    // The file npm linked as the project's kms-secrets command.
    const cli = realpathSync(join(projects.cli.dir, 'node_modules', '.bin', CLI_PACKAGE))
    const keyArgs = ['--key-id', key.KeyMetadata?.KeyId as string, '--function-name', FUNCTION_NAME]
    const encrypt = async (command: string, input: string, args: string[] = []) => {
      const result = await runNode(cli, {
        args: [command, ...keyArgs, ...args],
        input,
        env: awsEnv(motoEndpoint),
      })
      expect(result.code, result.stderr).toBe(0)
      return result.stdout.trim()
    }
    writeFileSync(join(work, 'data-key.bin'), DATA_KEY)
    environment = {
      API_TOKEN: await encrypt('encrypt', TOKEN),
      DATA_KEY: await encrypt('encrypt', '', ['--in', join(work, 'data-key.bin')]),
      CONFIG: await encrypt('encrypt', JSON.stringify(CONFIG)),
      SECRETS_BUNDLE: await encrypt(
        'bundle',
        Object.entries(BUNDLE)
          .map(([name, value]) => `${name}=${value}\n`)
          .join(''),
      ),
    }
  }, 600_000)

  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true })
  })

  it("the README's Install lines run as written in each face's project", () => {
    // Assess
    for (const face of Object.keys(FACES) as Face[]) {
      expect(projects[face].install.code, projects[face].install.output).toBe(0)
    }
    // The AWS SDK is an optional peer: a /lite project does not get it.
    expect(existsSync(join(projects.lite.dir, 'node_modules/@aws-sdk/client-kms'))).toBe(false)
    expect(existsSync(join(projects.loadSecrets.dir, 'node_modules/@aws-sdk/client-kms'))).toBe(
      true,
    )
  })

  it('ships what a user needs (built before packing: dist/) and nothing else: no CLI, template or YAML code', () => {
    // Prepare
    const installed = JSON.parse(
      readFileSync(join(projects.lite.dir, 'node_modules', PACKAGE, 'package.json'), 'utf8'),
    ) as { bin?: unknown; dependencies?: Record<string, string> }
    // Assess
    expect(checkListing(packedFiles)).toEqual({ missing: [], unwanted: [] })
    expect(installed.bin).toBeUndefined()
    // What /lite needs: nothing (the AWS SDK is an optional peer).
    expect(installed.dependencies ?? {}).toEqual({})
    expect(existsSync(join(projects.lite.dir, 'node_modules/yaml'))).toBe(false)
  })

  it('the CLI: its tarball ships its bin and kms-secrets/encrypt; npx kms-secrets --help answers', async () => {
    // Act
    const help = await run('npx', [CLI_PACKAGE, '--help'], {
      cwd: projects.cli.dir,
      env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
    })
    // Assess
    expect(checkListing(cliPackedFiles, CLI)).toEqual({ missing: [], unwanted: [] })
    expect(help.code, help.output).toBe(0)
    expect(help.output).toMatch(/^kms-secrets: encrypt values for middy-kms-secrets/)
    expect(help.output).toContain('Commands:')
    // One library in the project: the CLI uses the one installed beside it.
    expect(existsSync(join(projects.cli.dir, 'node_modules', CLI_PACKAGE, 'node_modules'))).toBe(
      false,
    )
  })

  it.each(
    examples.map((block): [string, ReadmeBlock] => [
      `${faceOf(block.code)} (README line ${block.line})`,
      block,
    ]),
  )(
    'README example %s: typechecks with only its packages, bundles, and answers under aws-lambda-ric',
    async (_title, block) => {
      // Prepare
      const face = faceOf(block.code)
      const { dir } = projects[face]
      const name = `line-${block.line}`
      writeFileSync(join(dir, `readme-${name}.ts`), block.code)
      writeFileSync(join(dir, `${name}.ts`), answering(block.code))
      // Act
      const tsc = await run(process.execPath, [TSC, '-p', dir], { cwd: dir })
      const built = await bundle(face, `${name}.ts`, name)
      const ran = built.code === 0 ? await runHandler(built.root) : undefined
      // Assess
      // Soft: a type error does not hide what the run shows.
      expect.soft(tsc.output.trim().split('\n').filter(Boolean), 'tsc').toEqual([])
      expect(built.code, built.output).toBe(0)
      expect(ran?.invocation?.ok, ran?.output).toBe(true)
      const answer = ran?.invocation?.value as Record<string, unknown>
      expect(Object.keys(answer).length).toBeGreaterThan(0)
      expect
        .soft(answer)
        .toEqual(Object.fromEntries(Object.keys(answer).map((key) => [key, EXPECTED[key]])))
      // A logged context (the middleware's example logs it) and the logs show no plaintext.
      expectNoSecrets(ran?.output ?? '', SECRETS)
    },
    240_000,
  )

  it("the main entry bundled with /lite's plain flags fails at INIT, as the README says", async () => {
    // Prepare: the loadSecrets example, bundled without --main-fields.
    const [example] = examples.filter((block) => faceOf(block.code) === 'loadSecrets')
    writeFileSync(join(projects.loadSecrets.dir, 'plain.ts'), example?.code ?? '')
    const built = await bundle('loadSecrets', 'plain.ts', 'plain', flagsFor('lite'))
    expect(built.code, built.output).toBe(0)
    // Act
    const ran = await runHandler(built.root)
    // Assess
    expect(ran.invocation?.phase, ran.output).toBe('init')
    expect(ran.invocation?.value).toMatchObject({
      errorMessage: 'Dynamic require of "node:https" is not supported',
    })
  }, 240_000)

  it('redactLogs under the JSON log format: console.error(error) keeps errorType, errorMessage, stackTrace; objects stay objects', async () => {
    // Prepare
    const { dir } = projects.loadSecrets
    writeFileSync(
      join(dir, 'redacted.ts'),
      `import { loadSecrets } from '${PACKAGE}'

const options = { fetchData: { apiToken: 'API_TOKEN' }, redactLogs: true }

export const handler = async () => {
  const { apiToken } = await loadSecrets(options)
  console.error(new Error(\`upstream refused \${apiToken}\`))
  console.log({ attempt: 1, token: apiToken })
  return 'logged'
}
`,
    )
    const built = await bundle('loadSecrets', 'redacted.ts', 'redacted')
    expect(built.code, built.output).toBe(0)
    // Act
    const ran = await runHandler(built.root, 'JSON')
    // Assess
    expect(ran.invocation?.value, ran.output).toBe('logged')
    expectNoSecrets(ran.output, SECRETS)
    const records = ran.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; message: unknown })
    const error = records.find((record) => record.level === 'ERROR')?.message as Record<
      string,
      unknown
    >
    expect(error, ran.output).toMatchObject({ errorType: 'Error' })
    expect(error.errorMessage).toMatch(/^upstream refused /)
    expect(Array.isArray(error.stackTrace)).toBe(true)
    const info = records.find((record) => record.level === 'INFO')?.message
    expect(info, ran.output).toMatchObject({ attempt: 1 })
  }, 240_000)

  it.each([
    ['22', () => run('bash', [join(REPO_ROOT, 'scripts/fetch-node.sh'), '22'], { cwd: work })],
    ['24', async () => ({ code: 0, output: process.execPath })],
  ])(
    'require() of every entry from a CommonJS file works on Node %s, which engines allows',
    async (major, nodeOf) => {
      // Prepare: the provider's project has every peer an entry loads.
      const node = await nodeOf()
      expect(node.code, node.output).toBe(0)
      const binary = node.output.trim().split('\n').pop() as string
      const { dir } = projects.provider
      const entries = ['', '/lite', '/provider', '/format'].map((entry) => `${PACKAGE}${entry}`)
      writeFileSync(
        join(dir, 'require.cjs'),
        `const loaded = ${JSON.stringify(entries)}.map((entry) => [entry, Object.keys(require(entry)).length])
console.log(JSON.stringify({ version: process.versions.node, loaded }))
`,
      )
      // Act
      const result = await run(binary, ['require.cjs'], { cwd: dir })
      // Assess
      expect(result.code, result.output).toBe(0)
      const { version, loaded } = JSON.parse(result.output.trim().split('\n').pop() as string) as {
        version: string
        loaded: [string, number][]
      }
      expect(version.split('.')[0]).toBe(major)
      const engines = (
        JSON.parse(readFileSync(join(dir, 'node_modules', PACKAGE, 'package.json'), 'utf8')) as {
          engines: { node: string }
        }
      ).engines.node
      const [, minMajor, minMinor] = /^>=(\d+)\.(\d+)$/.exec(engines) ?? []
      const [vMajor, vMinor] = version.split('.').map(Number) as [number, number]
      expect(vMajor * 1000 + vMinor).toBeGreaterThanOrEqual(
        Number(minMajor) * 1000 + Number(minMinor),
      )
      expect(loaded.map(([entry]) => entry)).toEqual(entries)
      for (const [entry, count] of loaded) expect(count, entry).toBeGreaterThan(0)
    },
    300_000,
  )
})
