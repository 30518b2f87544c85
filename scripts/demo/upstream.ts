// The HTTPS upstream secure-fetch calls in the demo: a CA generated for this run, a server
// certificate for 127.0.0.1 / localhost, mutual TLS required (a client certificate signed
// by that CA, or no handshake), and a bearer-token check; answers JSON. Dev tooling.

import { createHash, timingSafeEqual } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type RunningHttpsServer, startHttpsServer } from '../local/https-server.ts'
import { spkiPin, type TestPki } from '../local/tls.ts'

export interface DemoUpstream {
  /** UPSTREAM_URL: https://127.0.0.1:<port>/v1 */
  url: string
  /** PEM file of the generated CA (UPSTREAM_CA_FILE). */
  caFile: string
  /** SPKI pin of the server certificate (UPSTREAM_SPKI_PINS). */
  pin: string
  server: RunningHttpsServer
  /** Requests whose bearer token matched. */
  accepted(): number
  rejected(): number
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()

export async function startUpstream(
  pki: TestPki,
  token: string,
  workDir: string,
): Promise<DemoUpstream> {
  const expected = digest(`Bearer ${token}`)
  let accepted = 0
  let rejected = 0
  const server = await startHttpsServer({
    ...pki.server,
    ca: pki.ca.cert,
    requestCert: true, // with `ca`: no verified client certificate, no handshake
    minVersion: 'TLSv1.2',
    handler: (request) => {
      const given = request.headers.authorization
      // Compared as digests: constant time whatever the length.
      if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) {
        rejected++
        return { status: 401, json: { error: 'missing or wrong bearer token' } }
      }
      accepted++
      return {
        json: {
          ok: true,
          path: request.path,
          tls: request.tlsVersion,
          client: request.clientCertSubject ?? null,
        },
      }
    },
  })
  const caFile = join(workDir, 'upstream-ca.pem')
  await writeFile(caFile, pki.ca.cert)
  return {
    url: `${server.url}/v1`,
    caFile,
    pin: spkiPin(pki.server.cert),
    server,
    accepted: () => accepted,
    rejected: () => rejected,
  }
}
