// Issue 16 item 8, issue 21 item 1: what `npm pack` ships, for the library and the CLI
// (cli/). The listings themselves are checked on real packs from sources without dist/ by
// test/integration/stranger.test.ts.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../support/child.ts'
import { CLI, checkListing, cliModules, LIBRARY } from '../support/pack.ts'

interface PackageJson {
  name: string
  license: string
  repository: { url: string }
  homepage: string
  bugs: { url: string }
  files: string[]
  scripts: Record<string, string>
  workspaces?: string[]
  bin?: Record<string, string>
  exports: Record<string, unknown>
  dependencies?: Record<string, string>
}
const packageJson = (dir: string) =>
  JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as PackageJson
const pkg = packageJson(LIBRARY.dir)
const cli = packageJson(CLI.dir)

describe('the npm package', () => {
  it('builds dist/ before packing, and ships the MIT LICENSE it names', () => {
    // Assess
    expect(pkg.scripts.prepack).toBe('npm run build')
    expect(pkg.license).toBe('MIT')
    expect(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/)
    expect(pkg.files).toContain('LICENSE')
  })

  it('says where it lives', () => {
    // Assess
    expect(pkg.repository.url).toMatch(
      /^git\+https:\/\/github\.com\/[^/]+\/middy-kms-secrets\.git$/,
    )
    expect(pkg.homepage).toMatch(/^https:\/\/github\.com\/.+#readme$/)
    expect(pkg.bugs.url).toMatch(/^https:\/\/github\.com\/.+\/issues$/)
  })

  it('ships every file the README links to (relative links only to docs/, which is packed)', () => {
    // Prepare
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string)
    // Act
    // A link's file, without its #anchor.
    const relative = targets
      .filter((target) => !/^(https?:|#)/.test(target))
      .map((target) => target.split('#')[0] as string)
    // Assess
    expect(relative.length).toBeGreaterThan(0)
    for (const target of relative) {
      expect(target).toMatch(/^docs\//)
      expect(existsSync(join(REPO_ROOT, target)), target).toBe(true)
    }
    expect(pkg.files).toContain('docs')
  })

  it('checkListing names what is missing and what must not ship', () => {
    // Act
    const complete = checkListing([...LIBRARY.required, 'docs/FORMAT.md'])
    const broken = checkListing(['package.json', 'README.md', 'src/index.ts', 'dist/index.js'])
    // The CLI's modules, where they are built now and where they were before the split.
    const tooling = checkListing([
      ...LIBRARY.required,
      'dist/main.js',
      'dist/template/read.d.ts',
      'dist/encrypt/values.js',
      'dist/cli/kms-secrets.js',
      'dist/cli/commands/check.js',
    ])
    const cliComplete = checkListing([...CLI.required, 'dist/template/read.js'], CLI)
    const cliBroken = checkListing(['package.json', 'docs/FORMAT.md', 'dist/main.js'], CLI)
    // Assess
    expect(complete).toEqual({ missing: [], unwanted: [] })
    expect(broken.missing).toContain('LICENSE')
    expect(broken.missing).toContain('dist/format.js')
    expect(broken.unwanted).toEqual(['src/index.ts'])
    expect(tooling).toEqual({
      missing: [],
      unwanted: [
        'dist/main.js',
        'dist/template/read.d.ts',
        'dist/encrypt/values.js',
        'dist/cli/kms-secrets.js',
        'dist/cli/commands/check.js',
      ],
    })
    expect(cliComplete).toEqual({ missing: [], unwanted: [] })
    expect(cliBroken).toEqual({
      missing: ['README.md', 'dist/kms-secrets.js', 'dist/encrypt.js', 'dist/encrypt.d.ts'],
      unwanted: ['docs/FORMAT.md'],
    })
  })

  it('lists the CLI modules from cli/src, the template reader and the encrypt side among them', () => {
    // Act
    const modules = cliModules()
    // Assess
    expect(modules).toEqual(
      expect.arrayContaining(['dist/kms-secrets.js', 'dist/template/read.js', 'dist/encrypt.js']),
    )
    expect(modules.every((path) => /^dist\/.+\.js$/.test(path))).toBe(true)
  })
})

describe('two packages, one repository (npm workspaces)', () => {
  it('the library at the root: no bin, no YAML, the CLI is its workspace', () => {
    // Assess
    expect(pkg.name).toBe('middy-kms-secrets')
    expect(pkg.workspaces).toEqual([CLI.dir])
    expect(pkg.bin).toBeUndefined()
    expect(Object.keys(pkg.dependencies ?? {})).not.toContain('yaml')
    expect(Object.keys(pkg.exports)).not.toContain('./encrypt')
    expect(Object.keys(pkg.exports)).toContain('./format')
  })

  it('the CLI in cli/: bin kms-secrets, kms-secrets/encrypt, on the library, yaml and the AWS SDK', () => {
    // Assess
    expect(cli.name).toBe('kms-secrets')
    expect(cli.bin).toEqual({ 'kms-secrets': 'dist/kms-secrets.js' })
    expect(Object.keys(cli.exports)).toContain('./encrypt')
    expect(Object.keys(cli.dependencies ?? {}).sort()).toEqual([
      '@aws-sdk/client-kms',
      'middy-kms-secrets',
      'yaml',
    ])
    expect(cli.scripts.prepack).toBe('npm run build')
    expect(cli.license).toBe(pkg.license)
  })
})
