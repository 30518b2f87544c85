import { parseEnv } from 'node:util'
import { ErrorCode, KmsSecretsError } from 'middy-kms-secrets/format'

// Bundles: a dotenv-style file of KEY=value lines -> a JSON object of strings.

const dotenvKey = /^[A-Za-z_][A-Za-z0-9_.-]*$/
// `[^\r]*`, not `.*`: a value may hold U+2028/U+2029 (Node reads them), never a lone CR
// (Node's parser drops it from the value).
const entryStart = /^(?:export +)?([^=\s]*)[ \t]*=[ \t]*([^\r]*)$/

/**
 * Reads `KEY=value` lines with Node's own dotenv parser (`node:util` parseEnv), after a
 * strict pass that refuses what that parser would silently get wrong with secrets: a
 * `#` in an unquoted value (cut there as a comment), `\"` inside double quotes (cut
 * there), text after a closing quote, unclosed quotes, lines that are not `KEY=value`
 * (dropped), names set twice (last wins). Errors name the line and the key, never a
 * value. Quoting: '…' literal; "…" turns `\n` into a newline; both may span lines.
 */
export const parseDotenv = (text: string, origin = 'input'): Record<string, string> => {
  const lines = text.split('\n')
  const fields: Record<string, string> = {}
  function fail(line: number, why: string): never {
    throw new KmsSecretsError(ErrorCode.InvalidOptions, `line ${line}: ${why}`, {
      variable: origin,
    })
  }
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1
    const line = (lines[i] as string).trim()
    if (line === '' || line.startsWith('#')) continue
    const match = entryStart.exec(line)
    if (!match) fail(lineNumber, 'not a KEY=value line')
    const key = match[1] as string
    const rest = match[2] as string
    if (!dotenvKey.test(key)) {
      fail(
        lineNumber,
        'the name before "=" is not valid (letters, digits, _ . - and not starting with a digit)',
      )
    }
    if (Object.hasOwn(fields, key)) fail(lineNumber, `${key} is set twice`)
    let last = i
    const quote = rest[0]
    if (quote === '"' || quote === "'" || quote === '`') {
      let quoted = rest.slice(1)
      let end = quoted.indexOf(quote)
      while (end === -1) {
        last += 1
        if (last === lines.length) fail(lineNumber, `${key}: the ${quote} quote is never closed`)
        quoted += `\n${lines[last]}`
        end = quoted.indexOf(quote)
      }
      if (quote === '"' && quoted[end - 1] === '\\') {
        fail(lineNumber, `${key}: \\" inside double quotes is not supported: use single quotes`)
      }
      const after = quoted.slice(end + 1).trim()
      if (after !== '' && !after.startsWith('#')) {
        fail(lineNumber, `${key}: unexpected text after the closing quote`)
      }
    } else if (rest.includes('#')) {
      fail(
        lineNumber,
        `${key}: "#" in an unquoted value starts a comment in dotenv files: quote the value ('…'), or put the comment on its own line`,
      )
    }
    // Stryker disable next-line MethodExpression: the whole text reads the same for this key (every line before was checked); the slice keeps it linear
    const entry = parseEnv(lines.slice(i, last + 1).join('\n'))
    if (!Object.hasOwn(entry, key)) fail(lineNumber, `${key} cannot be read by the dotenv parser`)
    fields[key] = entry[key] as string
    i = last
  }
  if (Object.keys(fields).length === 0) {
    throw new KmsSecretsError(ErrorCode.InvalidOptions, 'no KEY=value line found', {
      variable: origin,
    })
  }
  return fields
}

/** A bundle's plaintext: the UTF-8 JSON object of strings that decrypt.ts reads. */
export const bundlePlaintext = (fields: Readonly<Record<string, string>>): Buffer =>
  // Stryker disable next-line StringLiteral: Buffer.from(text, '') reads UTF-8 too
  Buffer.from(JSON.stringify(fields), 'utf8')
