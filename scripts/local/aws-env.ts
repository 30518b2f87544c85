// Environment variables that point an AWS SDK (or the AWS CLI) in a child
// process at a local endpoint. Dev tooling only: never imported by src/ or functions/.

/** Region used everywhere in the local stack. */
export const LOCAL_REGION = 'us-east-1'

/**
 * Env vars a child process needs to talk to a local AWS endpoint (moto, or a
 * fault proxy in front of it): endpoint, region and dummy credentials.
 * `AWS_MAX_ATTEMPTS` is deliberately left unset so the SDK's default retry
 * behaviour is what gets exercised.
 */
export function awsEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  }
}

/**
 * Names of variables through which a parent's AWS identity or configuration
 * could leak into a child process (credentials, profile, config files,
 * endpoints, retry settings, container/IMDS credential sources).
 */
export function isAwsConfigVariable(name: string): boolean {
  return /^AWS_/i.test(name) || /^AMAZON_/i.test(name)
}

/**
 * The one environment builder for child processes: `base` (by default only the parent's PATH
 * and HOME) without any AWS_* / AMAZON_* variable or NODE_OPTIONS, then `extra` on top
 * (`undefined` removes a variable). A child gets the parent's AWS identity only if passed in.
 */
export function childEnv(
  extra: Readonly<Record<string, string | undefined>> = {},
  base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
  },
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !isAwsConfigVariable(name) && name !== 'NODE_OPTIONS') {
      env[name] = value
    }
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  return env
}
