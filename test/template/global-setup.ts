// Vitest globalSetup of the template project: npm run invoke and the demo run functions under
// aws-lambda-ric; on a machine without it in the cache, install it once here (a native build
// of a few minutes) rather than inside a test's time limit.

import { ricEntry } from '../../scripts/local/ric.ts'

export default function setup(): void {
  ricEntry((line) => process.stderr.write(`${line}\n`))
}
