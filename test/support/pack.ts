// The package as npm ships it: `npm pack` from a copy of the sources without dist/ (so
// prepack must build it, and this repository's dist/, which other tests use, is left alone).

import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from './child.ts'

/** What a user's `npm install middy-kms-secrets` needs: code, CLI, types, licence. */
export const REQUIRED = [
  'package.json',
  'README.md',
  'LICENSE',
  'dist/index.js',
  'dist/index.d.ts',
  'dist/lite.js',
  'dist/lite.d.ts',
  'dist/provider.js',
  'dist/provider.d.ts',
  'dist/encrypt.js',
  'dist/encrypt.d.ts',
  'dist/cli/kms-secrets.js',
]

/** The required files missing from a listing, and the files that must never ship. */
export function checkListing(paths: readonly string[]): { missing: string[]; unwanted: string[] } {
  const missing = REQUIRED.filter((path) => !paths.includes(path))
  // docs/: what the packed README links to.
  const unwanted = paths.filter(
    (path) => !/^(dist\/|docs\/|package\.json$|README\.md$|LICENSE$)/.test(path),
  )
  return { missing, unwanted }
}

/** What prepack's build reads, and what the package ships besides dist/. */
const SOURCES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'docs']
const SHIPPED = ['README.md', 'LICENSE']

/** Packs the package into `destination`: the tarball's path and the files it holds. */
export async function packPackage(
  destination: string,
): Promise<{ tarball: string; files: string[] }> {
  const copy = mkdtempSync(join(destination, 'source-'))
  try {
    for (const name of [...SOURCES, ...SHIPPED]) {
      cpSync(join(REPO_ROOT, name), join(copy, name), { recursive: true })
    }
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'))
    const { stdout } = await promisify(execFile)(
      'npm',
      ['pack', '--json', '--pack-destination', destination],
      { cwd: copy, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
    )
    // The prepack build's output precedes the JSON.
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as [
      { filename: string; files: { path: string }[] },
    ]
    return {
      tarball: join(destination, packed.filename),
      files: packed.files.map((file) => file.path).sort(),
    }
  } finally {
    rmSync(copy, { recursive: true, force: true })
  }
}
