// node scripts/built-handlers.ts [.aws-sam/build], after `sam build` (CI): each function's
// Handler in the built template, its source template's, and the file Lambda's Node.js runtime
// would load for it. Exit 1 when one resolves to no file (INIT would fail).

import { join, relative, resolve } from 'node:path'
import { functionsOf, readTemplate, runtimeHandlerFile } from './template.ts'

const buildDir = resolve(process.argv[2] ?? '.aws-sam/build')
const sources = functionsOf(readTemplate(join(import.meta.dirname, '..', 'template.yaml')))
const built = functionsOf(readTemplate(join(buildDir, 'template.yaml')))
for (const fn of built) {
  const file = runtimeHandlerFile(resolve(buildDir, fn.codeUri), fn.handler)
  const source = sources.find((s) => s.logicalId === fn.logicalId)?.handler
  const where =
    file === undefined
      ? 'NO FILE: the runtime would fail INIT (Runtime.ImportModuleError)'
      : relative(buildDir, file)
  console.log(
    `${file ? 'ok  ' : 'FAIL'} ${fn.logicalId}: Handler ${fn.handler} (source template: ${source}) -> ${where}`,
  )
  if (file === undefined) process.exitCode = 1
}
if (built.length === 0) process.exitCode = 1
