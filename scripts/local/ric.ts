// aws-lambda-ric (Lambda's Node.js runtime client) from ric/package-lock.json, once per machine
// into a cache folder: its native build takes minutes, which no `npm ci` should pay for.

import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, join } from 'node:path'

const FILES = ['package.json', 'package-lock.json'].map((file) =>
  join(import.meta.dirname, 'ric', file),
)

/** Path of aws-lambda-ric's index.mjs; `log` says why a first run pauses for minutes. */
export function ricEntry(log: (line: string) => void, env = process.env): string {
  const hash = createHash('sha256')
  for (const file of FILES) hash.update(readFileSync(file))
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache')
  // One folder per lockfile: a new lockfile installs afresh.
  const dir = join(cache, 'middy-kms-secrets', `aws-lambda-ric-${hash.digest('hex').slice(0, 12)}`)
  const module = join(dir, 'node_modules', 'aws-lambda-ric')
  const entry = join(module, 'index.mjs')
  if (existsSync(entry) && existsSync(join(module, 'rapid-client.node'))) return entry
  log(`installing aws-lambda-ric once into ${dir} (npm ci: a native build of a few minutes)`)
  const scratch = `${dir}.tmp-${process.pid}`
  rmSync(scratch, { recursive: true, force: true })
  mkdirSync(scratch, { recursive: true })
  for (const file of FILES) copyFileSync(file, join(scratch, basename(file)))
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

if (import.meta.main) {
  const started = performance.now()
  const entry = ricEntry((line) => process.stderr.write(`${line}\n`))
  console.log(`aws-lambda-ric: ${entry} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
}
