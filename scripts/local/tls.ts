// Test PKI made at run time, in memory (ECDSA P-256 keys: fast), certificates built with
// @peculiar/x509, PEM for `tls` / `https`. Dev tooling, never bundled. @peculiar/x509 needs the
// Reflect metadata polyfill first (ES modules evaluate their imports in order).
import 'reflect-metadata'
import * as crypto from 'node:crypto'
import * as x509 from '@peculiar/x509'
/** A certificate and its private key (PKCS#8), both PEM. */
export interface CertKey {
  cert: string
  key: string
}

/** Defaults: a server certificate (CN: the first DNS name) for localhost and 127.0.0.1, signed
 * by the trusted `ca`, with a new ECDSA P-256 key; a client one has no SAN, CN 'test client'. */
interface IssueOptions {
  commonName?: string
  dnsNames?: readonly string[]
  ipAddresses?: readonly string[]
  usage?: 'server' | 'client'
  keyType?: 'ec' | 'rsa'
  /** A CA made here; none: a self-signed CA. */
  issuer?: CertKey
  /** A fixed ECDSA P-256 key (PKCS#8 PEM). */
  key?: string
  /** notBefore and notAfter, in ms from now. */
  validity?: [number, number]
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } // the CAs made here use it
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
const DAY = 24 * 60 * 60 * 1000
const { keyCertSign, cRLSign, digitalSignature } = x509.KeyUsageFlags

x509.cryptoProvider.set(crypto.webcrypto as typeof globalThis.crypto)

/** RFC 7469's pin-sha256, computed by node's X509Certificate, apart from the code above. */
export function spkiPin(certPem: string): string {
  const spki = new crypto.X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })
  return crypto.createHash('sha256').update(spki).digest('base64')
}

/** The fixed key given, or a new ECDSA P-256 (default) or RSA 2048 one. */
function privateKey({ key, keyType }: IssueOptions): crypto.KeyObject {
  if (key !== undefined) return crypto.createPrivateKey(key)
  if (keyType === 'rsa')
    return crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
}

/** An end-entity certificate its issuer signs, or a self-signed CA without one. */
async function certificate(options: IssueOptions): Promise<CertKey> {
  const { issuer, usage = 'server' } = options
  const key = privateKey(options)
  const algorithm = key.asymmetricKeyType === 'rsa' ? RSA : EC
  const publicKey = crypto.createPublicKey(key).toCryptoKey(algorithm, true, ['verify'])
  const signer = issuer && new x509.X509Certificate(issuer.cert)
  const dnsNames = options.dnsNames ?? (signer && usage === 'server' ? ['localhost'] : [])
  const ipAddresses = options.ipAddresses ?? (signer && usage === 'server' ? ['127.0.0.1'] : [])
  const altNames = [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ]
  const eku =
    usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth
  const subject = `CN=${options.commonName ?? dnsNames[0] ?? 'test client'}, O=middy-kms-secrets tests`
  const [notBefore, notAfter] =
    options.validity ?? (signer ? [-DAY / 24, 30 * DAY] : [-30 * DAY, 365 * DAY])
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `01${crypto.randomBytes(15).toString('hex')}`,
    subject,
    issuer: signer?.subject ?? subject,
    notBefore: new Date(Date.now() + notBefore),
    notAfter: new Date(Date.now() + notAfter),
    publicKey,
    signingKey: (issuer ? crypto.createPrivateKey(issuer.key) : key).toCryptoKey(EC, false, [
      'sign',
    ]),
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(!signer, signer ? undefined : 0, true),
      new x509.KeyUsagesExtension(signer ? digitalSignature : keyCertSign | cRLSign, true),
      ...(signer ? [new x509.ExtendedKeyUsageExtension([eku], false)] : []),
      ...(altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ...(signer ? [await x509.AuthorityKeyIdentifierExtension.create(signer)] : []),
    ],
  })
  return { cert: cert.toString('pem'), key: String(key.export({ type: 'pkcs8', format: 'pem' })) }
}

/** The test PKI: `ca` (trusted), `untrustedCa`, and what `issue()` makes: by `ca` unless named,
 * `server`, `expiredServer`, `wrongHostServer` (wrong.example.test), `untrustedServer`, `client`. */
export async function createTestPki() {
  const [ca, untrustedCa] = await Promise.all([
    certificate({ commonName: 'middy-kms-secrets test CA' }),
    certificate({ commonName: 'unrelated untrusted CA' }),
  ])
  const issue = (options: IssueOptions = {}) => certificate({ issuer: ca, ...options })
  const [server, expiredServer, wrongHostServer, untrustedServer, client] = await Promise.all([
    issue(),
    issue({ validity: [-10 * DAY, -DAY] }),
    issue({ dnsNames: ['wrong.example.test'], ipAddresses: [] }),
    issue({ issuer: untrustedCa }),
    issue({ usage: 'client', commonName: 'secure-fetch test client' }),
  ])
  return { ca, untrustedCa, server, expiredServer, wrongHostServer, untrustedServer, client, issue }
}

export type TestPki = Awaited<ReturnType<typeof createTestPki>>
