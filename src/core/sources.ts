import { readFile } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import { ErrorCode, KmsSecretsError } from './errors.ts'

/**
 * Where an encrypted value lives: `VAR`, `VAR#field`, `file:path` or `file:path#field`.
 * `origin` (the part before `#`) is what gets decrypted, once, whatever the number of
 * fields read from it.
 */
export interface Source {
  origin: string
  kind: 'env' | 'file'
  /** Env var name or file path as written. */
  name: string
  field: string | undefined
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/

export const parseSource = (text: string): Source => {
  const hash = text.indexOf('#')
  const origin = hash === -1 ? text : text.slice(0, hash)
  const field = hash === -1 ? undefined : text.slice(hash + 1)
  if (field === '') {
    throw new KmsSecretsError(ErrorCode.InvalidOptions, 'empty field name after "#"', {
      variable: text,
    })
  }
  if (origin.startsWith('file:')) {
    const name = origin.slice('file:'.length)
    if (name === '') {
      throw new KmsSecretsError(ErrorCode.InvalidOptions, 'empty file path', { variable: text })
    }
    return { origin, kind: 'file', name, field }
  }
  if (!envName.test(origin)) {
    throw new KmsSecretsError(
      ErrorCode.InvalidOptions,
      'not an environment variable name (use VAR, VAR#field, file:path or file:path#field)',
      { variable: text },
    )
  }
  return { origin, kind: 'env', name: origin, field }
}

export type Env = Readonly<Record<string, string | undefined>>

/** Reads the encrypted text of a source: an env var's value, or a secrets file. */
export const readEncrypted = async (source: Source, env: Env): Promise<string> => {
  if (source.kind === 'env') {
    const value = env[source.name]
    if (value === undefined) {
      throw new KmsSecretsError(ErrorCode.MissingVariable, 'environment variable is not set', {
        variable: source.origin,
      })
    }
    return value
  }
  // Secrets files ship inside the function package, found from LAMBDA_TASK_ROOT.
  const root = env.LAMBDA_TASK_ROOT ?? process.cwd()
  const path = isAbsolute(source.name) ? source.name : resolve(root, source.name)
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new KmsSecretsError(
      ErrorCode.MissingVariable,
      `secrets file ${path} cannot be read (${code})`,
      { variable: source.origin },
    )
  }
}
