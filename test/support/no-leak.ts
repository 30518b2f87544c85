// Asserts that no secret shows up in some output (logs, stdout, error messages),
// in any of the forms it commonly takes once serialized. The failure message
// names the secret by index and the form found, never the secret itself.

import { registerSecrets } from './leak-log.ts'
import { type Secret, secretForms } from './secret-forms.ts'

export { type Secret, secretForms } from './secret-forms.ts'

/** Throws if any secret appears in `output` in any form of secretForms(). */
export function expectNoSecrets(output: string, secrets: readonly Secret[]): void {
  registerSecrets(secrets) // for the whole-run leak check (integration project only)
  secrets.forEach((secret, index) => {
    for (const [form, needle] of secretForms(secret)) {
      const at = output.indexOf(needle)
      if (at >= 0) {
        throw new Error(
          `secret #${index} leaked (${form}) at offset ${at} of a ${output.length}-character output`,
        )
      }
    }
  })
}
