// The demo's secrets: random for each run, encrypted with this project's own CLI (main(argv,
// io) in process, as on a command line). Values go only to the CLI's stdin / --in file.

import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { ROOT } from '../local-stack.ts'
import type { Demo } from './functions.ts'

export function generateSecrets(clientTls: { cert: string; key: string }) {
  const random = () => randomBytes(12).toString('base64url')
  return {
    apiToken: `demo-token-${random()}${random()}`,
    dataKey: randomBytes(32), // secure-items' AES-256 key
    clientTls,
    items: [`ünïcödé sécret ${random()}`, `second secret ${random()}`], // stored items' `secret`
  }
}

/** For a test's leak check (DEMO_SECRETS_OUT): every value, readable by this user only. */
export function writeSecretsForTest(path: string, secrets: ReturnType<typeof generateSecrets>) {
  const { apiToken, clientTls, items, dataKey } = secrets
  const keyBody = clientTls.key.replace(/-----[^-]+-----|\s/g, '')
  const text = [apiToken, clientTls.key, keyBody, ...items]
  const json = JSON.stringify({ text, dataKey: dataKey.toString('base64') })
  writeFileSync(path, json, { mode: 0o600 })
}

export function readSecretsForTest(path: string): Array<string | Uint8Array> {
  const { text, dataKey } = JSON.parse(readFileSync(path, 'utf8'))
  return [...text, new Uint8Array(Buffer.from(dataKey, 'base64'))]
}

/** `kms-secrets COMMAND [key, function] --stack-name ... ARGS` in process (no value printed). */
export async function kmsSecrets(demo: Demo, argv: string[], id?: string, input?: string | Buffer) {
  const [command = '', ...args] = argv
  const key = id ? ['--key-id', demo.keyAlias] : []
  const target = [...key, '--template', 'template.yaml', ...(id ? ['--function', id] : [])]
  const full = [command, ...target, '--stack-name', demo.stackName, ...args]
  const out = { stdout: '', stderr: '' }
  const collect = (name: 'stdout' | 'stderr') => ({
    write: (chunk: string | Uint8Array) => (out[name] += Buffer.from(chunk)),
  })
  // Loaded here, after the demo built dist/: the CLI imports the library by name.
  const { main } = await import('../../cli/src/main.ts')
  const code = await main(full, {
    stdin: Readable.from(input === undefined ? [] : [Buffer.from(input)]),
    stdout: collect('stdout'),
    stderr: collect('stderr'),
    env: process.env,
    cwd: ROOT,
  })
  const last = out.stderr.trim().split('\n').at(-1)
  if (code !== 0 && command !== 'check')
    throw new Error(`kms-secrets ${command} exited ${code}: ${last}`)
  return { code, ...out, shown: `kms-secrets ${full.join(' ').replaceAll(demo.workDir, '$TMP')}` }
}

/** Encrypts the secrets: the parameters, the command lines as a shell would run them, the log. */
export async function encryptSecrets(secrets: ReturnType<typeof generateSecrets>, demo: Demo) {
  const keyFile = join(demo.workDir, 'data-key.bin')
  writeFileSync(keyFile, secrets.dataKey, { mode: 0o600 })
  const { cert, key } = secrets.clientTls
  const format = (name: string) => ['--format', 'parameter-overrides', '--name', name]
  // The token from stdin, the binary data key from a file, and a secrets file: the mTLS
  // certificate and key, far past what an env var can hold.
  const ClientTlsFile = join(demo.workDir, 'client-tls.kse')
  const runs = [
    ['SecureFetchFunction', ['encrypt', ...format('ApiTokenCiphertext')], secrets.apiToken],
    ['SecureItemsFunction', ['encrypt', '--in', keyFile, ...format('DataKeyCiphertext')]],
    ['SecureFetchFunction', ['bundle', '--out', ClientTlsFile], `cert='${cert}'\nkey='${key}'\n`],
  ] as const
  const notes = ['stdin: the token', '32 random bytes', "stdin: cert='<PEM>' key='<PEM>' lines"]
  const commands: string[] = []
  const parameters: Record<string, string> = { ClientTlsFile }
  let log = ''
  try {
    for (const [id, argv, input] of runs) {
      const { stdout, stderr, shown } = await kmsSecrets(demo, [...argv], id, input)
      commands.push(`${shown}  # ${notes[commands.length]}`)
      log += `$ ${shown}\n${stderr}`
      const [name, ciphertext] = stdout.trim().split(/=(.*)/s) // NAME=<ciphertext>
      if (name && ciphertext) parameters[name] = ciphertext
    }
  } finally {
    rmSync(keyFile, { force: true })
  }
  return { parameters, commands, log }
}
