// dist/ (the built library the functions bundle and the CLI imports): `npm run build` when it
// is missing or older than its sources. Run directly before npm run kms-secrets and bench.

import { execFile } from 'node:child_process'
import { existsSync, globSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

const ROOT = join(import.meta.dirname, '..', '..')
const OUTPUTS = ['dist/index.js', 'dist/lite.js', 'dist/provider.js', 'dist/format.js']
// A deleted source file changes its folder's mtime: folders count too.
const INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'src/**']
const mtime = (file: string) => statSync(join(ROOT, file)).mtimeMs

type Log = (line: string) => void

export async function buildIfStale(
  begin: Log,
  progress: Log,
  verbose = false,
  signal?: AbortSignal,
) {
  const missing = OUTPUTS.find((file) => !existsSync(join(ROOT, file)))
  const built = missing ? 0 : Math.min(...OUTPUTS.map(mtime))
  const changed = globSync(INPUTS, { cwd: ROOT }).some((file) => mtime(file) > built)
  if (!missing && !changed) return progress('library: dist/ is up to date')
  const why = missing ? `${missing} is missing` : 'src/ changed since the last build'
  begin(`building the library (npm run build: ${why})`)
  const npm = join(dirname(process.execPath), 'npm') // where Node's installers put it
  const run = promisify(execFile)(existsSync(npm) ? npm : 'npm', ['run', 'build'], {
    cwd: ROOT,
    signal,
  })
  const { stdout, stderr } = await run.catch((error) => {
    const tail = `${error.stdout}${error.stderr}`.trim().split('\n').slice(-15).join('\n')
    throw new Error(`npm run build failed (exit ${error.code}):\n${tail}`)
  })
  if (verbose) process.stderr.write(stdout + stderr)
}

if (process.argv[1] === import.meta.filename) {
  // stderr: `npm run -s kms-secrets` writes its values to stdout.
  const log = (line: string) => process.stderr.write(`${line}\n`)
  await buildIfStale(log, () => {}).catch((error: Error) => {
    log(error.message)
    process.exitCode = 1
  })
}
