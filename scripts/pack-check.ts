// Checks what `npm pack` ships, from a state like a fresh clone (no dist/): prepack must
// build it. Used by .ci/run; prints the listing and fails on anything missing.
//
//   node scripts/pack-check.ts            (runs `npm pack --dry-run --json` here)

import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** What a user's `npm install middy-kms-secrets` needs: code, CLI, types, licence. */
export const REQUIRED = [
  'package.json',
  'README.md',
  'LICENSE',
  'dist/index.js',
  'dist/index.d.ts',
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

if (import.meta.main) {
  const root = fileURLToPath(new URL('..', import.meta.url))
  rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true })
  const json = execFileSync('npm', ['pack', '--dry-run', '--json'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  // Output of the prepack build may precede the JSON.
  const [packed] = JSON.parse(json.slice(json.indexOf('['))) as [{ files: { path: string }[] }]
  const paths = packed.files.map((file) => file.path).sort()
  console.log(`npm pack would ship ${paths.length} files:\n  ${paths.join('\n  ')}`)
  const { missing, unwanted } = checkListing(paths)
  if (missing.length > 0) console.error(`pack check: missing ${missing.join(', ')}`)
  if (unwanted.length > 0) console.error(`pack check: not meant to ship ${unwanted.join(', ')}`)
  process.exitCode = missing.length + unwanted.length > 0 ? 1 : 0
}
