import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CliUsageError } from './errors.ts'

export interface Output {
  write(chunk: string | Uint8Array): unknown
  isTTY?: boolean
}

/** What the CLI touches of its process: tests pass their own. */
export interface CliIo {
  stdin: AsyncIterable<string | Uint8Array> & { isTTY?: boolean }
  stdout: Output
  stderr: Output
  env: Readonly<Record<string, string | undefined>>
  cwd: string
}

export const processIo = (): CliIo => ({
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
})

/** The input bytes, from `--in FILE` or stdin: never from the command line. */
export const readInput = async (io: CliIo, path: string | undefined, what: string) => {
  if (path !== undefined) {
    try {
      return await readFile(resolve(io.cwd, path))
    } catch (error) {
      throw new CliUsageError(`cannot read --in ${path} (${(error as NodeJS.ErrnoException).code})`)
    }
  }
  if (io.stdin.isTTY) io.stderr.write(`reading ${what} from stdin (end with Ctrl-D)\n`)
  const chunks: Uint8Array[] = []
  for await (const chunk of io.stdin) {
    chunks.push(
      typeof chunk === 'string'
        ? // Stryker disable next-line StringLiteral: Buffer.from(text, '') reads UTF-8 too
          Buffer.from(chunk, 'utf8')
        : chunk,
    )
  }
  const bytes = Buffer.concat(chunks)
  for (const chunk of chunks) chunk.fill(0)
  return bytes
}

/** Writes the result to stdout, or to `--out FILE` (never over an existing file unless --force). */
export const writeOutput = async (
  io: CliIo,
  text: string,
  out: string | undefined,
  force: boolean,
): Promise<void> => {
  if (out === undefined) {
    io.stdout.write(text)
    return
  }
  try {
    const flag = force
      ? // Stryker disable next-line StringLiteral: an empty flag is the default, 'w'
        'w'
      : 'wx'
    await writeFile(resolve(io.cwd, out), text, { flag, mode: 0o644 })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // EEXIST here: created after the check made before the KMS call.
    throw new CliUsageError(`cannot write --out ${out} (${code})`)
  }
  io.stderr.write(`wrote ${out}\n`)
}
