// Issue 20 item 5: the emitted .d.ts of the main entry and /lite typecheck (strict,
// skipLibCheck false) in a project that has only this package, what npm installs with
// it, and @types/node: no @middy/core, no @types/aws-lambda. Reads dist/ (npm run build).
// /provider is not here: its types extend Powertools' BaseProvider, so they need
// @aws-lambda-powertools/parameters, which its users install anyway.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, runNode } from '../support/child.ts'
import { dependenciesOfPackage, PACKAGE, projectWithPackage } from '../support/package-copy.ts'

// What a user writes with each entry: every face, so tsc reads every .d.ts they reach.
const userCode = (
  entry: string,
) => `import { clearCache, isTransient, kmsSecrets, KmsSecretsError, loadSecrets, type KmsSecretsMiddleware } from '${entry}'

const middleware: KmsSecretsMiddleware<{ apiToken: 'API_TOKEN' }, undefined, true> = kmsSecrets({
  fetchData: { apiToken: 'API_TOKEN' },
  setToContext: true,
})
await middleware.ready()
const secrets = await loadSecrets({ fetchData: { key: 'DATA_KEY' }, transform: 'binary' })
export const key: Uint8Array = secrets.key
export const failed = (error: unknown): boolean =>
  error instanceof KmsSecretsError && error.code === 'THROTTLED' && isTransient(error)
clearCache()
`

let project: string
beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'declarations-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

describe('published declarations', () => {
  it('typecheck without @middy/core or @types/aws-lambda', async () => {
    // Prepare
    projectWithPackage(project, [...dependenciesOfPackage(), '@types/node'])
    const files = { 'main.ts': PACKAGE, 'lite.ts': `${PACKAGE}/lite` }
    for (const [file, entry] of Object.entries(files)) {
      writeFileSync(join(project, file), userCode(entry))
    }
    const tsc = join(REPO_ROOT, 'node_modules/typescript/lib/tsc.js')
    const flags = ['--strict', '--skipLibCheck', 'false', '--noEmit', '--types', 'node']
    const target = ['--target', 'es2022', '--module', 'nodenext']

    // Act
    const run = await runNode(tsc, {
      args: [...flags, ...target, ...Object.keys(files)],
      cwd: project,
      timeoutMs: 120_000,
    })

    // Assess
    expect(`${run.stdout}${run.stderr}`).toBe('')
    expect(run.code).toBe(0)
  }, 150_000)
})
