// The demo's secrets: generated at random for each run, encrypted with this project's own
// CLI (`kms-secrets`, run in process through main(argv, io), exactly as on a command line),
// against whatever AWS the environment points the SDK at. Values never leave this module
// except to the CLI's stdin / --in file and to the callers that check round trips.

import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CliIo } from '../../cli/src/main.ts'

export interface DemoSecrets {
  /** secure-fetch's bearer token (API_TOKEN, a raw KMS value). */
  apiToken: string
  /** secure-items' AES-256 data key (DATA_KEY, a raw KMS value of 32 random bytes). */
  dataKey: Buffer
  /** secure-fetch's mutual-TLS client certificate and key (CLIENT_TLS_FILE, a secrets file). */
  clientTls: { cert: string; key: string }
  /** The `secret` attributes of the items the demo stores. */
  items: string[]
}

export function generateSecrets(clientTls: { cert: string; key: string }): DemoSecrets {
  const random = (bytes: number) => randomBytes(bytes).toString('base64url')
  return {
    apiToken: `demo-token-${random(24)}`,
    dataKey: randomBytes(32),
    clientTls,
    items: [`ünïcödé sécret ${random(12)}`, `second secret ${random(12)}`],
  }
}

/** Every secret value, for the test's leak check (DEMO_SECRETS_OUT). */
export function secretValues(secrets: DemoSecrets): { text: string[]; binaryBase64: string[] } {
  const keyBody = secrets.clientTls.key.replace(/-----[^-]+-----|\s/g, '')
  return {
    text: [secrets.apiToken, secrets.clientTls.key, keyBody, ...secrets.items],
    binaryBase64: [secrets.dataKey.toString('base64')],
  }
}

/** Writes the values for a test (DEMO_SECRETS_OUT=<file>), readable by this user only. */
export function writeSecretsForTest(path: string, secrets: DemoSecrets): void {
  writeFileSync(path, `${JSON.stringify(secretValues(secrets))}\n`, { mode: 0o600 })
}

/** What writeSecretsForTest wrote: every secret value, the binary ones as bytes. */
export function readSecretsForTest(path: string): Array<string | Uint8Array> {
  const written = JSON.parse(readFileSync(path, 'utf8')) as ReturnType<typeof secretValues>
  return [
    ...written.text,
    ...written.binaryBase64.map((b64) => new Uint8Array(Buffer.from(b64, 'base64'))),
  ]
}

export interface EncryptedSecrets {
  /** ApiTokenCiphertext parameter (API_TOKEN of SecureFetchFunction). */
  apiToken: string
  /** DataKeyCiphertext parameter (DATA_KEY of SecureItemsFunction). */
  dataKey: string
  /** Path of the envelope secrets file with the fields cert and key (CLIENT_TLS_FILE). */
  clientTlsFile: string
  /** The `kms-secrets` command lines run, as a shell would (secrets go by stdin / --in). */
  commands: string[]
  /** What the CLI wrote to stderr (contexts, warnings; never a value). */
  log: string
}

class Collect {
  text = ''
  write(chunk: string | Uint8Array) {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  }
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
export async function runCli(
  argv: string[],
  input: Uint8Array | undefined,
  target: EncryptTarget,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Collect()
  const stderr = new Collect()
  const io: CliIo = {
    stdin: Object.assign(
      (async function* () {
        if (input !== undefined) yield Buffer.from(input) // the CLI wipes what it read
      })(),
      { isTTY: false },
    ),
    stdout,
    stderr,
    env: target.env,
    cwd: target.root,
  }
  // Loaded here, after the demo's first step built dist/: the CLI imports the library by name.
  const { main } = await import('../../cli/src/main.ts')
  return { code: await main(argv, io), stdout: stdout.text, stderr: stderr.text }
}

/** `kms-secrets` in process; throws with its one-line error when it exits non-zero. */
async function kmsSecrets(
  argv: string[],
  input: Uint8Array | undefined,
  target: EncryptTarget,
  log: Collect,
): Promise<string> {
  const { code, stdout, stderr } = await runCli(argv, input, target)
  log.write(`$ kms-secrets ${argv.join(' ')}\n${stderr}`)
  if (code !== 0) {
    const reason = stderr.trim().split('\n').at(-1) ?? ''
    throw new Error(`kms-secrets ${argv[0]} exited ${code}: ${reason}`)
  }
  return stdout
}

/** dotenv text for `kms-secrets bundle`: single quotes keep values (PEM included) literal. */
function dotenv(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => {
      if (value.includes("'")) throw new Error(`${name}: no single quote allowed in demo values`)
      return `${name}='${value}'\n`
    })
    .join('')
}

export async function encryptSecrets(
  secrets: DemoSecrets,
  target: EncryptTarget,
): Promise<EncryptedSecrets> {
  const log = new Collect()
  const commands: string[] = []
  const run = async (argv: string[], input: Uint8Array | undefined, note: string) => {
    const shown = argv.map((arg) => arg.replace(target.workDir, '$TMP'))
    commands.push(`kms-secrets ${shown.join(' ')}  # ${note}`)
    return kmsSecrets(argv, input, target, log)
  }
  const forFunction = (id: string) =>
    `--key-id ${target.keyId} --template template.yaml --function ${id} --stack-name ${target.stackName}`.split(
      ' ',
    )
  /** `encrypt ... --format parameter-overrides --name NAME`: prints `NAME=<ciphertext>`. */
  const encrypt = async (
    id: string,
    name: string,
    more: string[],
    input: Uint8Array | undefined,
    note: string,
  ) => {
    const argv = [
      'encrypt',
      ...forFunction(id),
      ...more,
      '--format',
      'parameter-overrides',
      '--name',
      name,
    ]
    const line = (await run(argv, input, note)).trim()
    if (!line.startsWith(`${name}=`) || line.includes('\n')) {
      throw new Error(`kms-secrets printed no ${name}=... line`)
    }
    return line.slice(name.length + 1)
  }

  // 1. A raw value from stdin: the API token, bound to secure-fetch's name.
  const token = Buffer.from(secrets.apiToken, 'utf8')
  const apiToken = await encrypt(
    'SecureFetchFunction',
    'ApiTokenCiphertext',
    [],
    token,
    'stdin: the token',
  )

  // 2. Binary input from a file: secure-items' 32-byte data key.
  const keyFile = join(target.workDir, 'data-key.bin')
  await writeFile(keyFile, secrets.dataKey, { mode: 0o600 })
  let dataKey: string
  try {
    dataKey = await encrypt(
      'SecureItemsFunction',
      'DataKeyCiphertext',
      ['--in', keyFile],
      undefined,
      '32 random bytes',
    )
  } finally {
    await writeFile(keyFile, Buffer.alloc(secrets.dataKey.length))
    await rm(keyFile, { force: true })
  }

  // 3. A secrets file: the mTLS certificate and key, far past what an env var can hold.
  const clientTlsFile = join(target.workDir, 'client-tls.kse')
  await run(
    ['bundle', ...forFunction('SecureFetchFunction'), '--out', clientTlsFile],
    Buffer.from(dotenv({ cert: secrets.clientTls.cert, key: secrets.clientTls.key }), 'utf8'),
    "stdin: cert='<PEM>' key='<PEM>' lines",
  )

  return { apiToken, dataKey, clientTlsFile, commands, log: log.text }
}
