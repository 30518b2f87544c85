// The two packages as npm ships them: `npm pack` from a copy of the sources without dist/
// (so the build before packing must make it, and this repository's dist/ folders, which
// other tests use, are left alone).

import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from './child.ts'

export interface PackageLayout {
  /** Its folder in this repository. */
  dir: string
  /** What a user's install needs. */
  required: readonly string[]
  /** What it may ship besides: a path matching this. */
  shipped: RegExp
  /** What the build before packing reads, and what ships as is (relative to `dir`). */
  sources: readonly string[]
}

/** `npm install middy-kms-secrets`: the library (code, types, licence, the docs the README links to). */
export const LIBRARY: PackageLayout = {
  dir: '.',
  required: [
    'package.json',
    'README.md',
    'LICENSE',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/lite.js',
    'dist/lite.d.ts',
    'dist/provider.js',
    'dist/provider.d.ts',
    'dist/format.js',
    'dist/format.d.ts',
  ],
  shipped: /^(dist\/|docs\/|package\.json$|README\.md$|LICENSE$)/,
  sources: [
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'src',
    'docs',
    'README.md',
    'LICENSE',
  ],
}

/** `npm install -D kms-secrets`: the CLI (its bin, the encrypt side, their types). */
export const CLI: PackageLayout = {
  dir: 'cli',
  required: [
    'package.json',
    'README.md',
    'dist/kms-secrets.js',
    'dist/encrypt.js',
    'dist/encrypt.d.ts',
  ],
  shipped: /^(dist\/|package\.json$|README\.md$)/,
  sources: ['package.json', 'tsconfig.build.json', 'src', 'README.md'],
}

/** Each module of cli/src at the path it builds to: none of them may ship in the library. */
export const cliModules = (): string[] =>
  readdirSync(join(REPO_ROOT, CLI.dir, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts'))
    .map((path) => `dist/${path.replace(/\.ts$/, '.js')}`)

/**
 * The required files missing from a listing, and the files that must never ship: anything
 * outside `shipped` and, in the library, a module of the CLI (cli/src: its commands, the
 * template reader and resolver, the encrypt side), here or where it lived before (dist/cli/).
 */
export function checkListing(
  paths: readonly string[],
  layout: PackageLayout = LIBRARY,
): { missing: string[]; unwanted: string[] } {
  const missing = layout.required.filter((path) => !paths.includes(path))
  const tooling = new Set(layout === LIBRARY ? cliModules() : [])
  const module = (path: string) => path.replace(/^dist\/cli\//, 'dist/').replace(/\.d\.ts$/, '.js')
  const unwanted = paths.filter((path) => !layout.shipped.test(path) || tooling.has(module(path)))
  return { missing, unwanted }
}

/** Packs one package into `destination`: the tarball's path and the files it holds. */
export async function packPackage(
  destination: string,
  layout: PackageLayout = LIBRARY,
): Promise<{ tarball: string; files: string[] }> {
  // The copy keeps the package's place below the root: cli/'s tsconfig extends the root's.
  const root = mkdtempSync(join(destination, 'source-'))
  const copy = join(root, layout.dir)
  try {
    mkdirSync(copy, { recursive: true })
    if (layout.dir !== '.') cpSync(join(REPO_ROOT, 'tsconfig.json'), join(root, 'tsconfig.json'))
    for (const name of layout.sources) {
      cpSync(join(REPO_ROOT, layout.dir, name), join(copy, name), { recursive: true })
    }
    // The CLI finds the library (built: dist/) where npm links it, node_modules/middy-kms-secrets.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'))
    const { stdout } = await promisify(execFile)(
      'npm',
      ['pack', '--json', '--pack-destination', destination],
      { cwd: copy, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
    )
    // The build's output precedes the JSON.
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as [
      { filename: string; files: { path: string }[] },
    ]
    return {
      tarball: join(destination, packed.filename),
      files: packed.files.map((file) => file.path).sort(),
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
