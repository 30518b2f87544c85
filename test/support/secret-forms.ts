// The forms a secret commonly takes once serialized: what the leak checks search for
// (no-leak.ts in one output, leak-log.ts across a whole integration run).

export type Secret = string | Uint8Array

/** The (form name, needle) pairs searched for one secret. */
export function secretForms(secret: Secret): Array<[form: string, needle: string]> {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)
  const forms: Array<[string, string]> = []
  const add = (form: string, needle: string) => {
    if (needle.length > 0 && !forms.some(([, existing]) => existing === needle))
      forms.push([form, needle])
  }
  if (typeof secret === 'string') {
    add('raw', secret)
    const escaped = JSON.stringify(secret).slice(1, -1)
    add('JSON-escaped', escaped)
    add('JSON-escaped twice', JSON.stringify(escaped).slice(1, -1))
    add(
      'JSON-escaped (ASCII only)',
      escaped.replace(
        /[\u0080-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      ),
    )
    add('URL-encoded', encodeURIComponent(secret))
  } else {
    add('latin1', bytes.toString('latin1'))
  }
  add('hex', bytes.toString('hex'))
  // base64 as is, then as it appears inside a longer base64 text where the
  // secret does not start on a 3-byte boundary (only the stable middle part).
  add('base64', bytes.toString('base64').replace(/=+$/, ''))
  add('base64url', bytes.toString('base64url'))
  for (const [shift, head] of [
    [0, 0],
    [1, 2],
    [2, 3],
  ] as const) {
    const shifted = Buffer.concat([Buffer.alloc(shift), bytes])
      .toString('base64')
      .replace(/=+$/, '')
    const tail = (shift + bytes.length) % 3 === 0 ? 0 : 1
    const core = shifted.slice(head, shifted.length - tail)
    if (core.length >= 8) {
      add(`base64 (offset ${shift})`, core)
      add(`base64url (offset ${shift})`, core.replace(/\+/g, '-').replace(/\//g, '_'))
    }
  }
  return forms
}
