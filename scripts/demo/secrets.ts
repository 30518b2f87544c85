// The demo's secrets: random for each run, encrypted with this project's own CLI (run in
// process through main(argv, io), exactly as on a command line) against whatever AWS the
// environment points the SDK at. Values go only to the CLI's stdin / --in file.

import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'

export interface DemoSecrets {
  apiToken: string
  /** secure-items' AES-256 data key. */
  dataKey: Buffer
  clientTls: { cert: string; key: string }
  /** The `secret` attributes of the items the demo stores. */
  items: string[]
}

export function generateSecrets(clientTls: { cert: string; key: string }): DemoSecrets {
  const random = () => randomBytes(12).toString('base64url')
  return {
    apiToken: `demo-token-${random()}${random()}`,
    dataKey: randomBytes(32),
    clientTls,
    items: [`ünïcödé sécret ${random()}`, `second secret ${random()}`],
  }
}

/** For a test's leak check (DEMO_SECRETS_OUT): every value, readable by this user only. */
export function writeSecretsForTest(path: string, secrets: DemoSecrets): void {
  const { apiToken, clientTls, items, dataKey } = secrets
  const keyBody = clientTls.key.replace(/-----[^-]+-----|\s/g, '')
  const text = [apiToken, clientTls.key, keyBody, ...items]
  writeFileSync(path, JSON.stringify({ text, dataKey: dataKey.toString('base64') }), {
    mode: 0o600,
  })
}

export function readSecretsForTest(path: string): Array<string | Uint8Array> {
  const { text, dataKey } = JSON.parse(readFileSync(path, 'utf8'))
  return [...text, new Uint8Array(Buffer.from(dataKey, 'base64'))]
}

export interface EncryptTarget {
  keyId: string
  stackName: string
  /** Folder for the data key's --in file (removed at once) and the secrets file. */
  workDir: string
  /** Repository root: where template.yaml is. */
  root: string
  env: Readonly<Record<string, string | undefined>>
}

/** `kms-secrets` in process: its exit code and output (ciphertexts and reports, no value). */
export async function runCli(argv: string[], input: Uint8Array | undefined, target: EncryptTarget) {
  const out = { stdout: '', stderr: '' }
  const collect = (name: keyof typeof out) => ({
    write: (chunk: string | Uint8Array) => (out[name] += Buffer.from(chunk)),
  })
  // Loaded here, after the demo built dist/: the CLI imports the library by name.
  const { main } = await import('../../cli/src/main.ts')
  const code = await main(argv, {
    stdin: Readable.from(input === undefined ? [] : [Buffer.from(input)]),
    stdout: collect('stdout'),
    stderr: collect('stderr'),
    env: target.env,
    cwd: target.root,
  })
  return { code, ...out }
}

/** The key, template, function and stack options of every `kms-secrets` run here. */
export const cliTarget = (target: EncryptTarget, id: string) => [
  ...['--key-id', target.keyId, '--template', 'template.yaml'],
  ...['--function', id, '--stack-name', target.stackName],
]

/** Encrypts the secrets; the parameters, the command lines as a shell would run them, the log. */
export async function encryptSecrets(secrets: DemoSecrets, target: EncryptTarget) {
  const commands: string[] = []
  let log = ''
  const run = async (id: string, argv: string[], input: Uint8Array | undefined, note: string) => {
    const shown = argv.map((arg) => arg.replace(target.workDir, '$TMP'))
    commands.push(
      `kms-secrets ${argv[0]} ${cliTarget(target, id).join(' ')} ${shown.slice(1).join(' ')}  # ${note}`,
    )
    const { code, stdout, stderr } = await runCli(
      [argv[0] as string, ...cliTarget(target, id), ...argv.slice(1)],
      input,
      target,
    )
    log += `$ ${commands.at(-1)}\n${stderr}`
    if (code !== 0)
      throw new Error(`kms-secrets ${argv[0]} exited ${code}: ${stderr.trim().split('\n').at(-1)}`)
    return stdout.trim()
  }
  // `--format parameter-overrides --name NAME` prints `NAME=<ciphertext>`.
  const encrypt = async (id: string, name: string, more: string[], input?: Uint8Array, note = '') =>
    (
      await run(
        id,
        ['encrypt', ...more, '--format', 'parameter-overrides', '--name', name],
        input,
        note,
      )
    ).slice(name.length + 1)

  const apiToken = await encrypt(
    'SecureFetchFunction',
    'ApiTokenCiphertext',
    [],
    Buffer.from(secrets.apiToken),
    'stdin: the token',
  )
  const keyFile = join(target.workDir, 'data-key.bin')
  await writeFile(keyFile, secrets.dataKey, { mode: 0o600 })
  const dataKey = await encrypt(
    'SecureItemsFunction',
    'DataKeyCiphertext',
    ['--in', keyFile],
    undefined,
    '32 random bytes',
  ).finally(() => rm(keyFile, { force: true }))
  // A secrets file: the mTLS certificate and key, far past what an env var can hold.
  const clientTlsFile = join(target.workDir, 'client-tls.kse')
  const { cert, key } = secrets.clientTls
  await run(
    'SecureFetchFunction',
    ['bundle', '--out', clientTlsFile],
    Buffer.from(`cert='${cert}'\nkey='${key}'\n`),
    "stdin: cert='<PEM>' key='<PEM>' lines",
  )
  return { apiToken, dataKey, clientTlsFile, commands, log }
}
