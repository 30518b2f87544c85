// scripts/template.ts: functionsOf and esbuild options, on small inline templates. The YAML
// reader and mergeGlobals it re-exports from cli/src/template/read.ts are tested with it:
// test/unit/template.test.ts; the intrinsic resolver: test/unit/resolve.test.ts.

import { describe, expect, it } from 'vitest'
import {
  builtHandlerPath,
  esbuildOptionsOf,
  functionsOf,
  parseTemplate,
} from '../../scripts/template.ts'

const SMALL = `
AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs24.x
    Timeout: 10
    Layers: [global-layer]
    Environment:
      Variables:
        SHARED: from-globals
        OVERRIDDEN: global
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: esbuild
      BuildProperties:
        UseNpmCi: true
        Format: esm
        Target: node24
        Minify: false
        Sourcemap: true
        Outbase: "."
        OutExtension: [.js=.mjs]
        EntryPoints: [src/fn/handler.ts]
        External: ["@aws-sdk/*"]
    Properties:
      FunctionName: !Sub \${AWS::StackName}-fn
      Handler: src/fn/handler.main
      Timeout: 20
      Layers: [own-layer]
      Environment:
        Variables:
          OVERRIDDEN: local
  Plain:
    Type: AWS::Lambda::Function
    Properties: { Handler: index.handler, Runtime: nodejs22.x }
`

describe('functionsOf', () => {
  const template = parseTemplate(SMALL)

  it('lists SAM and plain functions, SAM Globals merged the way SAM merges them', () => {
    // Prepare / Act
    const [fn, plain] = functionsOf(template)
    // Assess
    expect(fn?.logicalId).toBe('Fn')
    expect(fn?.handlerModule).toBe('src/fn/handler')
    expect(fn?.handlerExport).toBe('main')
    expect(fn?.runtime).toBe('nodejs24.x')
    expect(fn?.timeout).toBe(20)
    expect(fn?.memorySize).toBe(128)
    expect(fn?.properties.Layers).toEqual(['global-layer', 'own-layer'])
    expect(fn?.environment.SHARED).toBe('from-globals')
    expect(fn?.environment.OVERRIDDEN).toBe('local')
    expect(fn?.entryPoints).toEqual(['src/fn/handler.ts'])
    expect(plain?.logicalId).toBe('Plain')
    expect(plain?.runtime).toBe('nodejs22.x')
    expect(plain?.timeout).toBe(3)
    expect(plain?.entryPoints).toEqual(['index'])
  })

  it('rejects a handler without an export name', () => {
    // Prepare
    const t = parseTemplate(
      'Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties: { Handler: index }',
    )
    // Act / Assess
    expect(() => functionsOf(t)).toThrow(/F: Handler must be/)
  })
})

describe('esbuildOptionsOf / builtHandlerPath', () => {
  const [fn] = functionsOf(parseTemplate(SMALL))

  it('maps BuildProperties to esbuild options, leaving out what only sam build reads', () => {
    // Prepare / Act
    const options = esbuildOptionsOf(fn as NonNullable<typeof fn>)
    // Assess
    expect(options).toEqual({
      entryPoints: ['src/fn/handler.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      minify: false,
      sourcemap: true,
      outbase: '.',
      outExtension: { '.js': '.mjs' },
      external: ['@aws-sdk/*'],
    })
    expect(builtHandlerPath(fn as NonNullable<typeof fn>, options)).toBe('src/fn/handler.mjs')
  })

  it('places the bundle at the entry basename when there is no Outbase (esbuild default)', () => {
    // Prepare
    const f = fn as NonNullable<typeof fn>
    // Act
    const path = builtHandlerPath(f, { ...esbuildOptionsOf(f), outbase: undefined })
    // Assess
    expect(path).toBe('handler.mjs')
  })

  it('refuses a BuildProperty it does not understand rather than build differently', () => {
    // Prepare
    const f = fn as NonNullable<typeof fn>
    const odd = { ...f, buildProperties: { ...f.buildProperties, Packages: 'external' } }
    // Act / Assess
    expect(() => esbuildOptionsOf(odd)).toThrow(/BuildProperties\.Packages/)
    expect(() => esbuildOptionsOf({ ...f, buildMethod: 'makefile' })).toThrow(/not esbuild/)
  })
})
