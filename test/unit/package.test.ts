// Issue 16 item 8: what `npm pack` ships. The listing itself is checked on a real pack
// from sources without dist/ by test/integration/stranger.test.ts.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../support/child.ts'
import { checkListing, REQUIRED } from '../support/pack.ts'

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  license: string
  repository: { url: string }
  homepage: string
  bugs: { url: string }
  files: string[]
  scripts: Record<string, string>
}

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
    const complete = checkListing([...REQUIRED, 'docs/FORMAT.md'])
    const broken = checkListing(['package.json', 'README.md', 'src/index.ts', 'dist/index.js'])
    // Assess
    expect(complete).toEqual({ missing: [], unwanted: [] })
    expect(broken.missing).toContain('LICENSE')
    expect(broken.missing).toContain('dist/cli/kms-secrets.js')
    expect(broken.unwanted).toEqual(['src/index.ts'])
  })
})
