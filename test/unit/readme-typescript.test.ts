// Issue 16 item 9: every TypeScript block of the README compiles under `strict`, in a
// project that has exactly the packages the README's Install section says to install.
import { spawnSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../support/child.ts'
import { installedPackages, readmeBlocks } from '../support/readme.ts'

const PACKAGE = 'middy-kms-secrets'
let project: string

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'readme-ts-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

describe('README TypeScript examples', () => {
  it('the Install section names the package and @types/aws-lambda', () => {
    // Act
    const packages = readmeBlocks('sh', 'Install').flatMap(installedPackages)
    // Assess
    expect(packages).toContain(PACKAGE)
    expect(packages).toContain('@types/aws-lambda')
  })

  it('every ts block compiles under strict with only the installed packages', () => {
    // Prepare: node_modules holds what npm would install: a copy of the package (dist/ and
    // package.json, so its .d.ts resolve from here, not from this repository), its
    // dependencies, and what Install lists.
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    const copy = join(project, 'node_modules', PACKAGE)
    cpSync(join(REPO_ROOT, 'dist'), join(copy, 'dist'), { recursive: true })
    cpSync(join(REPO_ROOT, 'package.json'), join(copy, 'package.json'))
    const packages = readmeBlocks('sh', 'Install').flatMap(installedPackages)
    const others = [...Object.keys(pkg.dependencies), ...packages].filter(
      (name) => name !== PACKAGE,
    )
    for (const name of new Set(others)) {
      const link = join(project, 'node_modules', name)
      mkdirSync(dirname(link), { recursive: true })
      symlinkSync(join(REPO_ROOT, 'node_modules', name), link)
    }
    const blocks = readmeBlocks('ts')
    const files = blocks.map((block) => `readme-line-${block.line}.ts`)
    for (const [i, block] of blocks.entries()) {
      writeFileSync(join(project, files[i] as string), block.code)
    }
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'user-function', type: 'module', private: true }),
    )
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          noEmit: true,
          // The package's own .d.ts are checked too: a missing types package shows there
          // (errors inside other libraries' .d.ts are theirs, and left out below).
          skipLibCheck: false,
        },
        files,
      }),
    )
    // Act
    const tsc = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', project],
      { encoding: 'utf8', timeout: 120_000 },
    )
    // Assess
    const errors = `${tsc.stdout}${tsc.stderr}`
      .split('\n')
      .filter((line) => line.trim() !== '')
      .filter(
        (line) => !line.includes('node_modules/') || line.includes(`node_modules/${PACKAGE}/`),
      )
    expect(blocks.length).toBeGreaterThanOrEqual(3)
    expect(errors).toEqual([])
  }, 150_000)
})
