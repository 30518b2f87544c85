// `middy-kms-secrets/format` as the tests (and Stryker's runs) resolve it: the library's
// source, src/format.ts, as tsconfig.json's paths do for the typecheck. The CLI (cli/src)
// imports the subpath by name; through the package it would be dist/, which coverage and
// mutation testing of src/ never see. Child processes (Node itself) still load dist/.
import { fileURLToPath } from 'node:url'

export const formatSource = {
  'middy-kms-secrets/format': fileURLToPath(new URL('../../src/format.ts', import.meta.url)),
}
