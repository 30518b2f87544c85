// The one tool locator, on folders made here: never the machine's HOME, pyenv or tools.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  findTool,
  requireTool,
  TOOLS,
  type Tool,
  ToolNotFoundError,
  toolNotFoundMessage,
  toolsCommand,
} from '../../../scripts/local/tools.ts'

let root: string
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tools-'))
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

/** An executable file at root/relative. */
const executable = (relative: string, body = 'exit 0') => {
  const path = join(root, relative)
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
  return path
}

const NAMES = Object.keys(TOOLS) as Tool[]
const EMPTY_PATH = '/nonexistent'

describe('findTool', () => {
  it.each(NAMES)('finds %s on PATH first (pipx)', (tool) => {
    // Prepare
    const onPath = executable(`bin/${tool}`)
    executable(`pyenv/shims/${tool}`)
    // Act
    const found = findTool(tool, {
      lookupEnv: {
        PATH: `${EMPTY_PATH}${delimiter}${join(root, 'bin')}`,
        PYENV_ROOT: join(root, 'pyenv'),
      },
    })
    // Assess
    expect(found).toBe(onPath)
  })

  it.each(NAMES)('finds %s in $PYENV_ROOT/shims when PATH lacks it', (tool) => {
    // Prepare
    const shim = executable(`somewhere/pyenv/shims/${tool}`)
    // Act
    const found = findTool(tool, {
      lookupEnv: { PATH: EMPTY_PATH, PYENV_ROOT: join(root, 'somewhere/pyenv') },
    })
    // Assess
    expect(found).toBe(shim)
  })

  it('falls back to $HOME/.pyenv/shims', () => {
    // Prepare
    const shim = executable('home/.pyenv/shims/cfn-lint')
    // Act
    const found = findTool('cfn-lint', {
      lookupEnv: { PATH: EMPTY_PATH, HOME: join(root, 'home') },
    })
    // Assess
    expect(found).toBe(shim)
  })

  it('skips files that are not executable', () => {
    // Prepare
    writeFileSync(join(root, 'aws'), 'not executable')
    // Act
    const found = findTool('aws', { lookupEnv: { PATH: root } })
    // Assess
    expect(found).toBeUndefined()
  })

  it('whatever the lookup environment holds, finds only an executable named after the tool', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NAMES),
        fc.subarray(['PATH', 'PYENV_ROOT', 'HOME'] as const),
        (tool, where) => {
          // Prepare: the tool in exactly the places chosen, under a fresh folder
          const base = mkdtempSync(join(root, 'case-'))
          const env: NodeJS.ProcessEnv = { PATH: EMPTY_PATH }
          for (const place of where) {
            const dir = join(base, place)
            const file =
              place === 'PATH'
                ? join(dir, tool)
                : join(dir, place === 'HOME' ? '.pyenv/shims' : 'shims', tool)
            mkdirSync(join(file, '..'), { recursive: true })
            writeFileSync(file, '#!/bin/sh\n')
            chmodSync(file, 0o755)
            env[place] = place === 'PATH' ? `${EMPTY_PATH}${delimiter}${dir}` : dir
          }
          // Act
          const found = findTool(tool, { lookupEnv: env })
          // Assess
          if (where.length === 0) expect(found).toBeUndefined()
          else expect(found?.endsWith(`/${tool}`) && found.startsWith(base)).toBe(true)
        },
      ),
      { numRuns: 30 },
    )
  })
})

describe('requireTool', () => {
  it.each(NAMES)('throws one line naming %s and how to install it', (tool) => {
    // Act
    const failure = () => requireTool(tool, { lookupEnv: { PATH: EMPTY_PATH } })
    // Assess
    expect(failure).toThrowError(new ToolNotFoundError(tool))
    expect(toolNotFoundMessage(tool)).toMatch(
      new RegExp(
        `^${tool.replaceAll('+', '\\+')} not found on PATH or in pyenv's shims: install it with (pipx install \\S+|your system's packages, e\\.g\\. apt-get install \\S+ \\(aws-lambda-ric's first build, for npm start and npm run invoke, needs it\\))$`,
      ),
    )
  })
})

describe('node scripts/local/tools.ts', () => {
  const io = () => {
    const out: string[] = []
    const err: string[] = []
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } }
  }

  it('--path prints the folders of the tools found, once each', () => {
    // Prepare
    executable('a/moto_server')
    executable('a/aws')
    const { out, io: streams } = io()
    // Act
    const code = toolsCommand(['--path'], streams, { lookupEnv: { PATH: join(root, 'a') } })
    // Assess
    expect(code).toBe(0)
    expect(out).toEqual([join(root, 'a')])
  })

  it('--check says where each tool is, then exits 1 with one line per missing tool', () => {
    // Prepare
    executable('a/aws')
    const { out, err, io: streams } = io()
    // Act
    const code = toolsCommand(['--check'], streams, { lookupEnv: { PATH: join(root, 'a') } })
    // Assess
    expect(code).toBe(1)
    expect(out).toEqual([`found aws: ${join(root, 'a/aws')}`])
    expect(err).toEqual(
      ['moto_server', 'cfn-lint', 'cmake', 'make', 'c++', 'python3'].map((tool) =>
        toolNotFoundMessage(tool as Tool),
      ),
    )
  })

  it.each([[[]], [['--list']], [['--check', 'aws']]])('%j is a usage error (exit 2)', (args) => {
    // Prepare
    const { err, io: streams } = io()
    // Act
    const code = toolsCommand(args, streams)
    // Assess
    expect(code).toBe(2)
    expect(err).toEqual(['usage: tools.ts --path | --check'])
  })
})
