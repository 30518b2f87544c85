// The rule behind the functions' layout (template.yaml): `sam build` keeps an esbuild
// function's Handler only when `<folder>/<module>.js` was built, else cuts it to its last path
// segment (samcli/lib/build/bundler.py); Lambda's Node.js runtime loads <module> with .js,
// .mjs or .cjs under the task root. A Handler without a folder, bundled as <module>.mjs at
// the artifact's root, is the same before and after sam build and loads; one with a folder,
// bundled as .mjs at its path, is cut and does not load (what shipped before).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { runtimeHandlerFile, samBuiltHandler } from '../../scripts/template.ts'
import { REPO_ROOT, runNode } from '../support/child.ts'

const root = mkdtempSync(join(tmpdir(), 'kms-handler-layout-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const segment = fc.stringMatching(/^[a-z][a-z0-9_-]{0,7}$/)
let next = 0
/** A fresh task root holding `files` (relative paths). */
const artifact = (files: string[]): string => {
  const dir = join(root, String(next++))
  for (const file of files) {
    mkdirSync(join(dir, file, '..'), { recursive: true })
    writeFileSync(join(dir, file), 'export const handler = () => 1\n')
  }
  return dir
}

describe('Handler layout: sam build and the Node.js runtime agree', () => {
  it('a Handler without a folder, bundled as <module>.mjs at the root, is kept and loads', () => {
    fc.assert(
      fc.property(segment, segment, (module, exported) => {
        // Prepare
        const handler = `${module}.${exported}`
        const dir = artifact([`${module}.mjs`, `${module}.mjs.map`])
        // Act
        const built = samBuiltHandler(handler, [`${module}.mjs`, `${module}.mjs.map`])
        // Assess
        expect(built).toBe(handler)
        expect(runtimeHandlerFile(dir, built)).toBe(join(dir, `${module}.mjs`))
      }),
      { numRuns: 50 },
    )
  })

  it('a Handler with a folder, bundled as .mjs at its path, is cut by sam build and does not load', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 3 }), segment, (folders, module) => {
        // Prepare
        const path = `${folders.join('/')}/${module}`
        const handler = `${path}.handler`
        const dir = artifact([`${path}.mjs`])
        // Act
        const built = samBuiltHandler(handler, [`${path}.mjs`])
        // Assess
        expect(built).toBe(`${module}.handler`)
        expect(runtimeHandlerFile(dir, handler)).toBe(join(dir, `${path}.mjs`))
        expect(runtimeHandlerFile(dir, built)).toBeUndefined()
      }),
      { numRuns: 50 },
    )
  })

  it('a Handler with a folder is kept when <folder>/<module>.js is built', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 3 }), segment, (folders, module) => {
        // Prepare
        const path = `${folders.join('/')}/${module}`
        // Act
        const built = samBuiltHandler(`${path}.handler`, [`${path}.js`])
        // Assess
        expect(built).toBe(`${path}.handler`)
      }),
      { numRuns: 50 },
    )
  })

  it('the runtime tries the name as is, then .js, .mjs, .cjs, and never a folder', () => {
    // Prepare
    const dir = artifact(['a.cjs', 'b.mjs', 'b.js', 'c'])
    mkdirSync(join(dir, 'd.js'))
    // Act
    const found = ['a.h', 'b.h', 'c.h', 'd.h', 'nodot'].map((h) => runtimeHandlerFile(dir, h))
    // Assess
    expect(found).toEqual([
      join(dir, 'a.cjs'),
      join(dir, 'b.js'),
      join(dir, 'c'),
      undefined,
      undefined,
    ])
  })
})

describe('scripts/built-handlers.ts (CI, after sam build)', () => {
  it('prints each built Handler with its file, and exits 1 when one resolves to none', async () => {
    // Prepare: the layout before this fix: Handler cut to handler.handler, bundle in a folder.
    const built = artifact([
      'SecureItemsFunction/handler.mjs',
      'SecureFetchFunction/functions/secure-fetch/handler.mjs',
    ])
    writeFileSync(
      join(built, 'template.yaml'),
      `Resources:
  SecureItemsFunction:
    Type: AWS::Serverless::Function
    Properties: { Handler: handler.handler, CodeUri: SecureItemsFunction, Runtime: nodejs24.x }
  SecureFetchFunction:
    Type: AWS::Serverless::Function
    Properties: { Handler: handler.handler, CodeUri: SecureFetchFunction, Runtime: nodejs24.x }
`,
    )
    // Act
    const run = await runNode(join(REPO_ROOT, 'scripts/built-handlers.ts'), { args: [built] })
    // Assess
    expect(run.code).toBe(1)
    expect(run.stdout.trim().split('\n')).toEqual([
      'ok   SecureItemsFunction: Handler handler.handler (source template: handler.handler) -> SecureItemsFunction/handler.mjs',
      'FAIL SecureFetchFunction: Handler handler.handler (source template: handler.handler) -> NO FILE: the runtime would fail INIT (Runtime.ImportModuleError)',
    ])
  })
})
