import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

// Built by concatenation so this file does not match itself.
const forbidden = [
  {
    rule: 'TLS verification switched off',
    pattern: new RegExp(`rejectUnauthorized${'\\s*:\\s*'}false`),
  },
  {
    rule: 'TLS verification switched off by env',
    pattern: new RegExp(['NODE', 'TLS', 'REJECT', 'UNAUTHORIZED'].join('_')),
  },
  {
    rule: 'hostname check disabled',
    pattern: new RegExp(
      `checkServerIdentity${'\\s*:\\s*'}\\(\\)\\s*=>\\s*(undefined|null|\\{\\s*\\})`,
    ),
  },
]

/** Every file of the project: tracked, or new and not ignored. */
const projectFiles = () =>
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((path) => path !== '' && !path.endsWith('package-lock.json'))

describe('security rules over the whole project', () => {
  it('finds the files to check', () => {
    // Assess
    expect(projectFiles()).toEqual(expect.arrayContaining(['src/core/decrypt.ts', 'package.json']))
  })

  it.each(forbidden)('nothing turns off TLS checks: $rule', ({ pattern }) => {
    // Act
    const hits = projectFiles().filter((path) => {
      try {
        return pattern.test(readFileSync(path, 'utf8'))
      } catch {
        return false // deleted in the work tree
      }
    })

    // Assess
    expect(hits).toEqual([])
  })

  it('the rule itself catches what it forbids', () => {
    // Assess
    const off = 'fal' + 'se'
    const samples = [
      `{ rejectUnauthorized: ${off} }`,
      `process.env.${['NODE', 'TLS', 'REJECT', 'UNAUTHORIZED'].join('_')} = '0'`,
      `{ checkServerIdentity: () => ${'undef' + 'ined'} }`,
    ]
    samples.forEach((sample, i) => {
      expect(forbidden[i]?.pattern.test(sample)).toBe(true)
    })
  })
})
