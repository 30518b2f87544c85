// Where aws-lambda-ric (the Node.js Runtime Interface Client Lambda's runtime is built on)
// lives: installed once per machine from scripts/local/ric/package-lock.json into a cache
// folder. Its install builds curl and aws-lambda-cpp from source (about 5 minutes on two
// cores), so it is neither a dependency of the project (npm ci, and sam build's npm ci for
// every function, would build it each time) nor bundled. Dev tooling: never bundled.

import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const TOOL_DIR = join(dirname(fileURLToPath(import.meta.url)), 'ric')
const FILES = ['package.json', 'package-lock.json']

/** The cache folder for this exact lockfile (a new lockfile installs afresh). */
export function ricInstallDir(env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256')
  for (const file of FILES) hash.update(readFileSync(join(TOOL_DIR, file)))
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache')
  return join(cache, 'middy-kms-secrets', `aws-lambda-ric-${hash.digest('hex').slice(0, 12)}`)
}

/**
 * Path of aws-lambda-ric's entry (index.mjs), installing it first when the cache lacks it.
 * `log` tells why a run pauses for minutes; an install that fails throws with npm's output.
 */
export function ricEntry(log: (line: string) => void, env = process.env): string {
  const dir = ricInstallDir(env)
  const entry = join(dir, 'node_modules', 'aws-lambda-ric', 'index.mjs')
  const native = join(dir, 'node_modules', 'aws-lambda-ric', 'rapid-client.node')
  if (existsSync(entry) && existsSync(native)) return entry
  log(`installing aws-lambda-ric once into ${dir} (npm ci: a native build of a few minutes)`)
  const scratch = `${dir}.tmp-${process.pid}`
  rmSync(scratch, { recursive: true, force: true })
  mkdirSync(scratch, { recursive: true })
  for (const file of FILES) copyFileSync(join(TOOL_DIR, file), join(scratch, file))
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: scratch,
    env,
    encoding: 'utf8',
  })
  if (npm.status !== 0) {
    rmSync(scratch, { recursive: true, force: true })
    throw new Error(
      `npm ci of aws-lambda-ric failed (it needs cmake, make, a C++ compiler and python3):\n${npm.stdout}${npm.stderr}`,
    )
  }
  // Whole or nothing: a parallel or interrupted install never leaves a half folder in place.
  rmSync(dir, { recursive: true, force: true })
  renameSync(scratch, dir)
  return entry
}

// node scripts/local/ric.ts: install it now if needed (CI does, before the tests), print where.
if (process.argv[1] !== undefined && process.argv[1] === import.meta.filename) {
  const started = performance.now()
  const entry = ricEntry((line) => process.stderr.write(`${line}\n`))
  console.log(`aws-lambda-ric: ${entry} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
}
