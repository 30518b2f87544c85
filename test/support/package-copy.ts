// A user's project in a temp directory: node_modules holds a copy of the built package
// (dist/ and package.json, so its .d.ts resolve from there, never from this repository's
// node_modules) and links to the other packages named.
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { REPO_ROOT } from './child.ts'

export const PACKAGE = 'middy-kms-secrets'

/** The package's `dependencies`: what npm installs with it. */
export const dependenciesOfPackage = (): string[] => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
  }
  return Object.keys(pkg.dependencies ?? {})
}

/** Writes the project's package.json and node_modules: the package's copy, links to `others`. */
export const projectWithPackage = (project: string, others: readonly string[]): void => {
  const copy = join(project, 'node_modules', PACKAGE)
  cpSync(join(REPO_ROOT, 'dist'), join(copy, 'dist'), { recursive: true })
  cpSync(join(REPO_ROOT, 'package.json'), join(copy, 'package.json'))
  for (const name of new Set(others)) {
    if (name === PACKAGE) continue
    const link = join(project, 'node_modules', name)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(join(REPO_ROOT, 'node_modules', name), link)
  }
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user-function', type: 'module', private: true }),
  )
}
