// Environments for child processes that talk to the local AWS. Dev tooling, never bundled.

export const LOCAL_REGION = 'us-east-1'

/** Endpoint, region and dummy credentials; no AWS_MAX_ATTEMPTS, so the SDK's default retries run. */
export function awsEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  }
}

/** Variables through which a parent's AWS identity or configuration could reach a child. */
export const isAwsConfigVariable = (name: string): boolean => /^(AWS|AMAZON)_/i.test(name)

/** `base` (default: PATH, HOME) less AWS_*, AMAZON_*, NODE_OPTIONS, then `extra` (undefined
 * removes): a child gets an AWS identity only if passed in. */
export function childEnv(
  extra: Readonly<Record<string, string | undefined>> = {},
  base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
  },
): Record<string, string> {
  const kept = Object.entries({ ...base, ...extra }).filter(
    ([name, value]) =>
      value !== undefined &&
      (name in extra || (!isAwsConfigVariable(name) && name !== 'NODE_OPTIONS')),
  )
  return Object.fromEntries(kept) as Record<string, string>
}
