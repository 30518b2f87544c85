// dist/ (the built library the functions bundle and the CLI imports): `npm run build` when it
// is missing or older than its sources. Run directly before npm run kms-secrets and bench.

import { execFile } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { glob } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

const OUTPUTS = ['dist/index.js', 'dist/lite.js', 'dist/provider.js', 'dist/format.js']
// A deleted source file changes its folder's mtime: folders count too.
const INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'src/**']

/** Why dist/ must be built, or undefined when it is up to date. */
export async function distStaleness(root: string): Promise<string | undefined> {
  const missing = OUTPUTS.find((file) => !existsSync(join(root, file)))
  if (missing !== undefined) return `${missing} is missing`
  const mtime = (file: string) => statSync(join(root, file)).mtimeMs
  const built = Math.min(...OUTPUTS.map(mtime))
  for await (const file of glob(INPUTS, { cwd: root })) {
    if (mtime(file) > built) return 'src/ changed since the last build'
  }
  return undefined
}

/** `npm run build` (npm beside this node, as Node's installers lay it out); its output. */
export async function runBuild(root: string, signal?: AbortSignal): Promise<string> {
  const npm = join(dirname(process.execPath), 'npm')
  const build = promisify(execFile)(existsSync(npm) ? npm : 'npm', ['run', 'build'], {
    cwd: root,
    signal,
  })
  const { stdout, stderr } = await build.catch((error) => {
    const tail = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim().split('\n').slice(-15)
    throw new Error(`npm run build failed (exit ${error.code}):\n${tail.join('\n')}`)
  })
  return stdout + stderr
}

if (process.argv[1] === import.meta.filename) {
  const root = join(import.meta.dirname, '..', '..')
  const why = await distStaleness(root)
  if (why !== undefined) {
    // stderr: `npm run -s kms-secrets` writes its values to stdout.
    process.stderr.write(`building the library (npm run build: ${why})\n`)
    await runBuild(root).catch((error: Error) => {
      process.stderr.write(`${error.message}\n`)
      process.exitCode = 1
    })
  }
}
