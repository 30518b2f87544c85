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

/** Whether a text holds a guarded form. */
const leaks = (text: string): boolean => mask(text) !== text

/** Own properties a log line shows: an Error's message, stack and cause too. */
const ownKeys = (value: object): string[] =>
  value instanceof Error ? Object.getOwnPropertyNames(value) : Object.keys(value)

/**
 * A logged value with every secret masked, keeping its shape so the runtime formats it as
 * before (an Error stays an Error of the same class, an object an object): the value itself
 * where no secret occurs, else a masked copy with the same prototype.
 */
const maskValue = (value: unknown, seen: Map<object, unknown>): unknown => {
  if (typeof value === 'string') return mask(value)
  if (typeof value !== 'object' || value === null) return value
  if (seen.has(value)) return seen.get(value)
  // A cycle back to a value being copied meets the value itself: `guard`'s check sees a leak there.
  seen.set(value, value)
  const copy = maskedCopy(value, seen)
  seen.set(value, copy)
  return copy
}

const maskedCopy = (value: object, seen: Map<object, unknown>): unknown => {
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    return leaks(bytes.toString('hex')) || leaks(bytes.toString()) ? MASK : value
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => maskValue(item, seen))
    return items.some((item, i) => item !== value[i]) ? items : value
  }
  if (value instanceof Map || value instanceof Set) {
    const items = [...value]
    const entries = items.map((item) => maskValue(item, seen))
    if (entries.every((entry, i) => entry === items[i])) return value
    return value instanceof Map ? new Map(entries as [unknown, unknown][]) : new Set(entries)
  }
  const record = value as Record<string, unknown>
  const keys = ownKeys(value)
  const items = keys.map((key) => record[key])
  const masked = items.map((item) => maskValue(item, seen))
  const names = keys.map(mask)
  if (masked.every((item, i) => item === items[i]) && names.every((name, i) => name === keys[i])) {
    return value
  }
  const copy = Object.create(Object.getPrototypeOf(value)) as object
  const descriptors = Object.getOwnPropertyDescriptors(value)
  keys.forEach((key, i) => {
    const { enumerable } = descriptors[key] as PropertyDescriptor
    const property = { value: masked[i], enumerable, writable: true, configurable: true }
    Object.defineProperty(copy, names[i] as string, property)
  })
  return copy
}

let util: typeof import('node:util') | undefined
/** util.format, loaded on first use: an ESM import of node:util costs cold starts that never log (~5 ms). */
const format = (...args: unknown[]): string => {
  util ??= process.getBuiltinModule('node:util')
  return util.format(...args)
}

/**
 * The console method, masking what it is given. The runtime's own console (aws-lambda-ric's,
 * patched before the handler loads) still formats the record: under the JSON log format an
 * Error keeps errorType, errorMessage and stackTrace. Fail closed: where the formatted line
 * would still show a secret (split across arguments, behind a cycle) or masking throws, the
 * method gets the whole line as one masked string instead.
 */
const guard =
  (original: (...args: unknown[]) => void) =>
  (...args: unknown[]): void => {
    let masked: unknown[]
    try {
      const seen = new Map<object, unknown>()
      masked = args.map((arg) => maskValue(arg, seen))
      // One string is masked whole already: nothing to check.
      // Stryker disable next-line ConditionalExpression,StringLiteral: a masked string shows no secret, so the check would find none
      const single = args.length === 1 && typeof args[0] === 'string'
      if (!single && leaks(format(...masked))) masked = [mask(format(...args))]
    } catch {
      masked = [mask(format(...args))]
    }
    original(...masked)
  }

/** Lambda's runtime client adds `console.fatal`. */
const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'fatal'] as const

const install = () => {
  // Lambda's runtime client sends console output straight to its log socket, past
  // process.stdout; Powertools Logger writes to process.stdout: guard both layers.
  wrapWrite(process.stdout)
  wrapWrite(process.stderr)
  const methods = console as unknown as Record<string, unknown>
  for (const method of consoleMethods) {
    const original = methods[method]
    if (typeof original === 'function') methods[method] = guard(original.bind(console))
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
