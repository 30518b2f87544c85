// dist/ (the built library the functions bundle as `middy-kms-secrets`, and the CLI run from
// cli/src imports): built with `npm run build` when it is missing or older than its sources.
// `node scripts/demo/build.ts` does that before npm run kms-secrets and npm run bench.

import { execFile } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

/** What package.json exports: all must be there. */
const OUTPUTS = ['dist/index.js', 'dist/lite.js', 'dist/provider.js', 'dist/format.js']
const INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.build.json']

function newestMtime(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = stat.mtimeMs // a deleted source file changes its folder's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)))
  return newest
}

/** Why dist/ must be built, or undefined when it is up to date. */
export function distStaleness(root: string): string | undefined {
  const missing = OUTPUTS.filter((file) => !existsSync(join(root, file)))
  if (missing.length > 0) return `${missing[0]} is missing`
  const built = Math.min(...OUTPUTS.map((file) => statSync(join(root, file)).mtimeMs))
  const sources = Math.max(
    newestMtime(join(root, 'src')),
    ...INPUTS.filter((file) => existsSync(join(root, file))).map(
      (file) => statSync(join(root, file)).mtimeMs,
    ),
  )
  return sources > built ? 'src/ changed since the last build' : undefined
}

/** npm next to this node (as Node's installers lay it out), else npm from PATH. */
function npmCommand(): string {
  const beside = join(dirname(process.execPath), 'npm')
  return existsSync(beside) ? beside : 'npm'
}

/** Runs `npm run build` in `root`; rejects with its output's last lines on failure. */
export async function runBuild(root: string, signal: AbortSignal): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(npmCommand(), ['run', 'build'], {
      cwd: root,
      signal,
    })
    return stdout + stderr
  } catch (error) {
    const {
      stdout = '',
      stderr = '',
      code,
    } = error as { stdout?: string; stderr?: string; code?: unknown }
    const tail = `${stdout}${stderr}`.trim().split('\n').slice(-15).join('\n')
    throw new Error(`npm run build failed (exit ${String(code)}):\n${tail}`)
  }
}

if (process.argv[1] === import.meta.filename) {
  const root = join(import.meta.dirname, '..', '..')
  const why = distStaleness(root)
  if (why !== undefined) {
    // stderr: `npm run -s kms-secrets` writes its values to stdout.
    process.stderr.write(`building the library (npm run build: ${why})\n`)
    try {
      await runBuild(root, new AbortController().signal)
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`)
      process.exitCode = 1
    }
  }
}
