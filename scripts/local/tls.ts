/**
 * Test PKI generated at run time, in memory (dev tooling, never bundled).
 *
 * ECDSA P-256 keys (fast to generate), certificates built with @peculiar/x509 on top of
 * node's WebCrypto. Everything comes back as PEM strings, ready for `tls` / `https` options.
 */
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata
// polyfill loaded first (ES modules evaluate their imports in order).
import 'reflect-metadata'
import {
  createHash,
  createPublicKey,
  X509Certificate as NodeX509,
  randomBytes,
  webcrypto,
} from 'node:crypto'
import * as x509 from '@peculiar/x509'

type CryptoKey = webcrypto.CryptoKey
type CryptoKeyPair = webcrypto.CryptoKeyPair

/** A certificate and its private key (PKCS#8), both PEM. */
export interface CertKey {
  cert: string
  key: string
}

export interface IssueOptions {
  /** Subject CN. Default: the first DNS name, else 'test client'. */
  commonName?: string
  /** SAN DNS names. Default for a server: ['localhost']; for a client: none. */
  dnsNames?: readonly string[]
  /** SAN IP addresses. Default for a server: ['127.0.0.1']; for a client: none. */
  ipAddresses?: readonly string[]
  /** Extended key usage. Default 'server'. */
  usage?: 'server' | 'client'
  /** Key of the new certificate: ECDSA P-256 (default, fast) or RSA 2048. */
  keyType?: 'ec' | 'rsa'
  /** Default: one hour ago. */
  notBefore?: Date
  /** Default: 30 days from now. */
  notAfter?: Date
  /** The signing CA (its key must be ECDSA P-256, as made here). Default: the trusted `ca`. */
  issuer?: CertKey
  /** A fixed ECDSA P-256 key (PKCS#8 PEM) for the new certificate. Default: a new key. */
  key?: string
}

export interface TestPki {
  /** The CA tests trust (pass `ca.cert` as the `ca` option). */
  ca: CertKey
  /** A second, unrelated CA nobody trusts. */
  untrustedCa: CertKey
  /** Server certificate for `localhost` and IP 127.0.0.1, signed by `ca`. */
  server: CertKey
  /** Same names, signed by `ca`, expired yesterday. */
  expiredServer: CertKey
  /** Signed by `ca`, but for `wrong.example.test` only (no IP SAN). */
  wrongHostServer: CertKey
  /** `localhost` + 127.0.0.1, but signed by `untrustedCa`. */
  untrustedServer: CertKey
  /** Client certificate (EKU clientAuth, CN 'secure-fetch test client') signed by `ca`, for mTLS. */
  client: CertKey
  /** Issues another end-entity certificate. */
  issue(options?: IssueOptions): Promise<CertKey>
  /** Same as the module-level {@link spkiPin}. */
  spkiPin(certPem: string): string
}

const subtle = webcrypto.subtle
const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' }
const RSA_KEY_ALGORITHM: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
}
const DAY_MS = 24 * 60 * 60 * 1000

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

/**
 * SPKI pin of a certificate: base64 of the SHA-256 of its DER SubjectPublicKeyInfo
 * (the `pin-sha256` of RFC 7469, the `sha256//` of curl's --pinnedpubkey).
 * Computed with node's own X509Certificate, independently of the code that made the cert.
 */
export function spkiPin(certPem: string): string {
  const spki = new NodeX509(certPem).publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(spki).digest('base64')
}

/** Positive, random 128-bit serial number (hex). */
function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01
  return bytes.toString('hex')
}

async function generateKeys(keyType: 'ec' | 'rsa' = 'ec'): Promise<CryptoKeyPair> {
  const algorithm = keyType === 'rsa' ? RSA_KEY_ALGORITHM : KEY_ALGORITHM
  return (await subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await subtle.exportKey('pkcs8', key)
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const [der] = x509.PemConverter.decode(pem)
  if (!der) throw new Error('tls.ts: no PEM block in the issuer key')
  return subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, ['sign'])
}

/** The key pair of a fixed ECDSA P-256 private key (PKCS#8 PEM). */
async function importKeyPair(pem: string): Promise<CryptoKeyPair> {
  const spki = createPublicKey(pem).export({ type: 'spki', format: 'der' })
  const [privateKey, publicKey] = await Promise.all([
    importPrivateKey(pem),
    subtle.importKey('spki', spki, KEY_ALGORITHM, true, ['verify']),
  ])
  return { privateKey, publicKey }
}

async function createCa(commonName: string): Promise<CertKey> {
  const keys = await generateKeys()
  const now = Date.now()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}, O=middy-kms-secrets tests`,
    notBefore: new Date(now - 30 * DAY_MS),
    notAfter: new Date(now + 365 * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) }
}

async function issueCert(defaultIssuer: CertKey, options: IssueOptions = {}): Promise<CertKey> {
  const usage = options.usage ?? 'server'
  const dnsNames = options.dnsNames ?? (usage === 'server' ? ['localhost'] : [])
  const ipAddresses = options.ipAddresses ?? (usage === 'server' ? ['127.0.0.1'] : [])
  const commonName = options.commonName ?? dnsNames[0] ?? 'test client'
  const issuer = options.issuer ?? defaultIssuer
  const issuerCert = new x509.X509Certificate(issuer.cert)
  const keys = options.key ? await importKeyPair(options.key) : await generateKeys(options.keyType)
  const now = Date.now()

  const altNames: import('@peculiar/x509').JsonGeneralNames = [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ]
  const extensions: import('@peculiar/x509').Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      [usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuerCert),
  ]
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames))

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${commonName}, O=middy-kms-secrets tests`,
    issuer: issuerCert.subject,
    notBefore: options.notBefore ?? new Date(now - 60 * 60 * 1000),
    notAfter: options.notAfter ?? new Date(now + 30 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: await importPrivateKey(issuer.key),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  })
  return { cert: cert.toString('pem'), key: options.key ?? (await privateKeyPem(keys.privateKey)) }
}

/** Builds the whole test PKI (two CAs, five end-entity certificates) in a few milliseconds. */
export async function createTestPki(): Promise<TestPki> {
  const [ca, untrustedCa] = await Promise.all([
    createCa('middy-kms-secrets test CA'),
    createCa('unrelated untrusted CA'),
  ])
  const now = Date.now()
  const [server, expiredServer, wrongHostServer, untrustedServer, client] = await Promise.all([
    issueCert(ca),
    issueCert(ca, {
      notBefore: new Date(now - 10 * DAY_MS),
      notAfter: new Date(now - DAY_MS),
    }),
    issueCert(ca, { dnsNames: ['wrong.example.test'], ipAddresses: [] }),
    issueCert(ca, { issuer: untrustedCa }),
    issueCert(ca, { usage: 'client', commonName: 'secure-fetch test client' }),
  ])
  return {
    ca,
    untrustedCa,
    server,
    expiredServer,
    wrongHostServer,
    untrustedServer,
    client,
    issue: (options) => issueCert(ca, options),
    spkiPin,
  }
}
