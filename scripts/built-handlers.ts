// node scripts/built-handlers.ts [.aws-sam/build]
//
// After `sam build`: prints each function's Handler in the built template (what `sam package`
// / `sam deploy` upload) next to the source template's, and the file Lambda's Node.js runtime
// would load for it under the function's artifact folder. Exit 1 when a built Handler
// resolves to no file (the runtime would fail INIT with Runtime.ImportModuleError). Dev
// tooling (.ci/run): never bundled.

import { dirname, join, relative, resolve } from 'node:path'
import { functionsOf, readTemplate, runtimeHandlerFile } from './template.ts'

export interface BuiltHandler {
  logicalId: string
  source: string | undefined
  built: string
  /** The module the runtime loads, relative to the built template's folder; undefined: none. */
  file: string | undefined
}

/** Each function of `buildDir`/template.yaml with the file its Handler resolves to. */
export function builtHandlers(buildDir: string, sourceTemplate: string): BuiltHandler[] {
  const builtTemplate = join(buildDir, 'template.yaml')
  const sources = functionsOf(readTemplate(sourceTemplate))
  return functionsOf(readTemplate(builtTemplate)).map((fn) => {
    const taskRoot = resolve(dirname(builtTemplate), fn.codeUri)
    const file = runtimeHandlerFile(taskRoot, fn.handler)
    return {
      logicalId: fn.logicalId,
      source: sources.find((s) => s.logicalId === fn.logicalId)?.handler,
      built: fn.handler,
      file: file === undefined ? undefined : relative(buildDir, file),
    }
  })
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === import.meta.filename) {
  const buildDir = resolve(process.argv[2] ?? '.aws-sam/build')
  const rows = builtHandlers(buildDir, join(import.meta.dirname, '..', 'template.yaml'))
  for (const row of rows) {
    const where = row.file ?? 'NO FILE: the runtime would fail INIT (Runtime.ImportModuleError)'
    console.log(
      `${row.file ? 'ok  ' : 'FAIL'} ${row.logicalId}: Handler ${row.built} (source template: ${row.source}) -> ${where}`,
    )
  }
  if (rows.length === 0 || rows.some((row) => row.file === undefined)) process.exitCode = 1
}
