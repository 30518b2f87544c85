// On a fresh clone dist/ does not exist: `npm start` builds it once it has loaded, and
// `npm run local-stack` never needs it. So neither may import the library by name statically
// (a dynamic import after the build is fine): Node would fail before the first line runs.
import { join } from 'node:path'
import { build, type Metafile } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../support/child.ts'

/** The packages a module reaches through static imports only. */
const staticPackages = async (entry: string): Promise<string[]> => {
  const { metafile } = await build({
    entryPoints: [join(REPO_ROOT, entry)],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    tsconfigRaw: {}, // Node resolves packages as installed, not by tsconfig.json's paths
    logLevel: 'silent',
  })
  const inputs: Metafile['inputs'] = metafile.inputs
  const found = new Set<string>()
  const seen = new Set<string>()
  const walk = (path: string) => {
    if (seen.has(path)) return
    seen.add(path)
    for (const edge of inputs[path]?.imports ?? []) {
      if (edge.kind !== 'import-statement') continue
      if (edge.external) found.add(edge.path)
      else walk(edge.path)
    }
  }
  walk(entry)
  return [...found]
}

describe('scripts a fresh clone runs first', () => {
  it.each(['scripts/demo.ts', 'scripts/local-stack.ts'])(
    '%s loads without dist/: no static import of middy-kms-secrets',
    async (entry) => {
      // Act
      const packages = await staticPackages(entry)

      // Assess
      expect(packages).toContain('@aws-sdk/client-kms')
      expect(packages.filter((name) => name.startsWith('middy-kms-secrets'))).toEqual([])
    },
  )
})
