import { format } from 'node:util'

/**
 * Opt-in log-leak guard: once secrets are loaded, every occurrence of their plaintext
 * (and of its base64, hex and JSON-escaped forms) in what the process writes through
 * `console` or `process.stdout/stderr` is masked, so an accidental
 * `console.log(context)` cannot ship a secret to CloudWatch.
 */
export const MASK = '****'

/** Shorter values would mask ordinary words; they are not guarded (documented). */
const MIN_GUARDED_LENGTH = 4

const forms = new Set<string>()
let pattern: RegExp | undefined

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

const formsOf = (value: unknown): string[] => {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value)
    return [
      value,
      JSON.stringify(value).slice(1, -1),
      bytes.toString('base64'),
      bytes.toString('base64url'),
    ]
  }
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    return [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')]
  }
  // A JSON secret: guard its text and every string inside it.
  if (typeof value === 'object' && value !== null) {
    return [...formsOf(JSON.stringify(value)), ...Object.values(value).flatMap(formsOf)]
  }
  return []
}

export const mask = (text: string): string =>
  pattern === undefined ? text : text.replace(pattern, MASK)

const wrapWrite = (stream: NodeJS.WriteStream) => {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
  stream.write = ((chunk: unknown, ...rest: unknown[]) =>
    write(
      typeof chunk === 'string'
        ? mask(chunk)
        : chunk instanceof Uint8Array
          ? mask(Buffer.from(chunk).toString())
          : chunk,
      ...rest,
    )) as typeof stream.write
}

const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const

const install = () => {
  // The Lambda runtime may send console output straight to its log socket, past
  // process.stdout: guard both layers.
  wrapWrite(process.stdout)
  wrapWrite(process.stderr)
  for (const method of consoleMethods) {
    const original = console[method].bind(console)
    console[method] = (...args: unknown[]) => original(mask(format(...args)))
  }
}

/** Adds values to the guard (installing it on first use). */
export const guardSecrets = (values: Iterable<unknown>): void => {
  const before = forms.size
  for (const value of values) {
    for (const form of formsOf(value)) if (form.length >= MIN_GUARDED_LENGTH) forms.add(form)
  }
  if (forms.size === before) return
  if (pattern === undefined) install()
  // Longest first, so a secret's base64 is not half-masked by a shorter secret.
  const alternatives = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp)
  pattern = new RegExp(alternatives.join('|'), 'g')
}
