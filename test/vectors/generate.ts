// Regenerates test/vectors/envelope-v1.json from docs/FORMAT.md, using WebCrypto
// (not src/core/envelope.ts): the vectors are an independent reading of the spec, and
// test/unit/envelope.vectors.test.ts checks the implementation against them.
//
//   node test/vectors/generate.ts > test/vectors/envelope-v1.json
//
// Never change a committed vector: add new ones.

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const seq = (length: number, f: (i: number) => number) =>
  Uint8Array.from({ length }, (_, i) => f(i) & 0xff)

export interface VectorInput {
  description: string
  kind: 1 | 2
  dataKey: Uint8Array
  encryptedKey: Uint8Array
  iv: Uint8Array
  context: Record<string, string>
  plaintext: Uint8Array
}

export const canonicalContext = (context: Record<string, string>): Uint8Array =>
  new TextEncoder().encode(
    JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  )

export const header = (kind: number, encryptedKey: Uint8Array): Uint8Array => {
  const out = new Uint8Array(3 + encryptedKey.length)
  out[0] = kind
  new DataView(out.buffer).setUint16(1, encryptedKey.length, false)
  out.set(encryptedKey, 3)
  return out
}

const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts))

export const aadOf = (kind: number, encryptedKey: Uint8Array, context: Record<string, string>) =>
  concat(new TextEncoder().encode('kse1:'), header(kind, encryptedKey), canonicalContext(context))

/** The spec, in WebCrypto: AES-256-GCM, 96-bit IV, 128-bit tag appended to the ciphertext. */
export const sealBySpec = async (input: Omit<VectorInput, 'description'>): Promise<string> => {
  const key = await crypto.subtle.importKey('raw', input.dataKey, 'AES-GCM', false, ['encrypt'])
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv: input.iv,
        additionalData: aadOf(input.kind, input.encryptedKey, input.context),
        tagLength: 128,
      },
      key,
      input.plaintext,
    ),
  )
  const body = concat(header(input.kind, input.encryptedKey), input.iv, sealed)
  return `kse1:${Buffer.from(body).toString('base64')}`
}

const utf8 = (text: string) => new TextEncoder().encode(text)
const key0 = seq(32, (i) => i)
const key1 = seq(32, (i) => 0xff - i * 3)
const kmsLikeBlob = seq(184, (i) => i * 7 + 3)
const ivA = seq(12, (i) => 0xa0 + i)
const ivB = seq(12, (i) => 0x11 * (i + 1))
const fn = { LambdaFunctionName: 'my-stack-secure-items' }

export const inputs: VectorInput[] = [
  {
    description: 'value, empty plaintext',
    kind: 1,
    dataKey: key0,
    encryptedKey: kmsLikeBlob,
    iv: ivA,
    context: fn,
    plaintext: new Uint8Array(0),
  },
  {
    description: 'value, UTF-8 text',
    kind: 1,
    dataKey: key0,
    encryptedKey: kmsLikeBlob,
    iv: ivA,
    context: fn,
    plaintext: utf8('pässwörd€'),
  },
  {
    description: 'value, bound variable name; context keys given unsorted',
    kind: 1,
    dataKey: key1,
    encryptedKey: kmsLikeBlob,
    iv: ivB,
    context: { LambdaFunctionName: 'my-stack-secure-fetch', EnvironmentVariableName: 'API_TOKEN' },
    plaintext: utf8('tok_live_0123456789'),
  },
  {
    description: 'value, empty context (encryptionContext: false), 1-byte encrypted key',
    kind: 1,
    dataKey: key1,
    encryptedKey: Uint8Array.of(0x2a),
    iv: ivB,
    context: {},
    plaintext: utf8('x'),
  },
  {
    description: 'value, binary plaintext (32 bytes)',
    kind: 1,
    dataKey: key0,
    encryptedKey: kmsLikeBlob,
    iv: ivB,
    context: fn,
    plaintext: seq(32, (i) => 0xff - i),
  },
  {
    description: 'bundle: JSON object of strings',
    kind: 2,
    dataKey: key0,
    encryptedKey: kmsLikeBlob,
    iv: ivA,
    context: fn,
    plaintext: utf8(JSON.stringify({ DB_PASSWORD: 's3cr3t', API_TOKEN: 'tok-123' })),
  },
  {
    description:
      'canonical JSON escaping and UTF-16 key order (keys not realistic for KMS: they pin canonical(C))',
    kind: 1,
    dataKey: key0,
    encryptedKey: kmsLikeBlob,
    iv: ivA,
    context: { é: 'accent', Z: 'quote " backslash \\ newline \n tab \t', a: '\u0001', B: '€' },
    plaintext: utf8('context test'),
  },
]

const main = async () => {
  const vectors = []
  for (const input of inputs) {
    vectors.push({
      description: input.description,
      kind: input.kind,
      dataKey: hex(input.dataKey),
      encryptedKey: hex(input.encryptedKey),
      iv: hex(input.iv),
      context: input.context,
      canonicalContext: new TextDecoder().decode(canonicalContext(input.context)),
      aad: hex(aadOf(input.kind, input.encryptedKey, input.context)),
      plaintext: hex(input.plaintext),
      text: await sealBySpec(input),
    })
  }
  const doc = {
    format: 'kse1',
    spec: 'docs/FORMAT.md',
    note: 'All byte fields are lower-case hex. `text` is the exact envelope for these inputs; dataKey and encryptedKey are made up (no KMS involved).',
    vectors,
  }
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
