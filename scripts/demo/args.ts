// Command line of the demo (npm start). Pure: no side effect, tested on its own.

import { parseArgs } from 'node:util'

export const HELP = `Usage: npm start [-- options]        (node scripts/demo.ts [options])

The whole product, end to end, on this machine: starts a local AWS (moto on a free
127.0.0.1 port, behind a fault proxy that counts the KMS calls), creates the KMS key,
its alias and the DynamoDB table of template.yaml, encrypts the demo secrets with this
project's CLI (kms-secrets encrypt / bundle: a raw value, a binary data key and a secrets
file), starts an HTTPS upstream (generated CA, mutual TLS, bearer token),
builds both functions of template.yaml and invokes each through the local invoke (a cold
start, then warm invocations in the same process), and prints a report: what was
decrypted (names only, values masked), each call's result, KMS calls per cold start, cold
and warm timings. Progress goes to stderr, the report to stdout. Everything it started is
stopped at the end, on Ctrl-C and on failure.

Options:
      --local         local AWS (moto): the default, whatever AWS_PROFILE or other AWS_*
                      variables say
      --aws           real AWS instead, only when asked for, with your credentials
                      (AWS_PROFILE, AWS_REGION...): creates a throwaway KMS key (billed
                      while it exists; scheduled for deletion at the end, which takes 7
                      days), its alias and a DynamoDB table named kms-secrets-demo-<random>;
                      prints what it creates and what that costs, then asks (or --yes).
                      KMS calls are then counted inside the function's process
  -y, --yes           with --aws: do not ask
      --region NAME   AWS region with --aws (default: your SDK configuration)
      --stack-name N  the \${AWS::StackName} of the demo (encryption contexts, table name);
                      default kms-secrets-demo (local), kms-secrets-demo-<random> (--aws)
      --warm N        warm invocations after each cold start (default 3, 1-20)
      --skip-build    use dist/ as it is (default: npm run build when missing or stale)
      --built DIR     run the functions as \`sam build\` built them: DIR/template.yaml's Handlers
                      and DIR/<LogicalId>/ (e.g. .aws-sam/build), instead of building them
      --drill         the key's life instead (npm run drill): rotate, re-encrypt, disable,
                      enable, schedule and cancel deletion, with both functions cold and
                      warm after each step, and a table (local AWS only)
      --cache-expiry MS  with --drill: the functions' SecretsCacheExpiry (default 5000)
  -v, --verbose       also print the functions' logs and the build / CLI output (stderr)
  -h, --help          this text

Environment:
  DEMO_SECRETS_OUT=FILE  for tests only: also writes the generated (throwaway) secret values
                         to FILE (mode 600), so a test can check that no output holds them

Exit status: 0 when every step and call succeeded; 1 otherwise, with a one-line reason
on stderr; 2 for a bad command line; 130 / 143 / 129 when interrupted (SIGINT / SIGTERM /
SIGHUP), after stopping everything.
`

export type Mode = 'local' | 'aws'

export interface DemoOptions {
  mode: Mode
  /** Why this mode: only --aws ever selects real AWS. */
  modeReason: 'default' | '--local' | '--aws'
  /** --aws without the question (--yes). */
  yes: boolean
  region?: string
  stackName?: string
  warm: number
  skipBuild: boolean
  /** A \`sam build\` output folder to run the functions from (else they are built). */
  built?: string
  verbose: boolean
  help: boolean
  /** --drill: the functions' cacheExpiry (ms); undefined: the demo. */
  drill?: number
}

export class DemoUsageError extends Error {
  override name = 'DemoUsageError'
}

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,40}$/

/** Parses argv (without node and the script); `env` never selects real AWS. */
export function parseDemoArgs(
  argv: readonly string[],
  _env: Readonly<Record<string, string | undefined>>,
): DemoOptions {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        local: { type: 'boolean' },
        aws: { type: 'boolean' },
        yes: { type: 'boolean', short: 'y' },
        region: { type: 'string' },
        'stack-name': { type: 'string' },
        warm: { type: 'string' },
        'skip-build': { type: 'boolean' },
        built: { type: 'string' },
        drill: { type: 'boolean' },
        'cache-expiry': { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (error) {
    throw new DemoUsageError(`${(error as Error).message} (see npm start -- --help)`)
  }
  if (values.local === true && values.aws === true) {
    throw new DemoUsageError('--local and --aws exclude each other')
  }
  let mode: Mode = 'local'
  let modeReason: DemoOptions['modeReason'] = 'default'
  if (values.local === true) modeReason = '--local'
  else if (values.aws === true) {
    mode = 'aws'
    modeReason = '--aws'
  }
  if (values.yes === true && mode !== 'aws') {
    throw new DemoUsageError('--yes applies to --aws only (the local demo asks nothing)')
  }
  const region = values.region as string | undefined
  if (region !== undefined && mode === 'local') {
    throw new DemoUsageError('--region applies to --aws only (the local AWS runs in us-east-1)')
  }
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new DemoUsageError(`--region ${region} is not an AWS region name`)
  }
  const stackName = values['stack-name'] as string | undefined
  if (stackName !== undefined && !STACK_NAME.test(stackName)) {
    throw new DemoUsageError(
      '--stack-name must start with a letter, then letters, digits or -, 41 characters at most',
    )
  }
  const warmText = (values.warm as string | undefined) ?? '3'
  const warm = Number(warmText)
  if (!/^\d+$/.test(warmText) || warm < 1 || warm > 20) {
    throw new DemoUsageError('--warm is a whole number from 1 to 20')
  }
  const options: DemoOptions = {
    mode,
    modeReason,
    yes: values.yes === true,
    warm,
    skipBuild: values['skip-build'] === true,
    verbose: values.verbose === true,
    help: values.help === true,
  }
  const expiry = values['cache-expiry'] as string | undefined
  if (values.drill === true) {
    if (mode === 'aws') throw new DemoUsageError('--drill runs on the local AWS only')
    options.drill = Number(expiry ?? '5000')
    if (!/^\d+$/.test(expiry ?? '5000') || options.drill < 500 || options.drill > 60_000) {
      throw new DemoUsageError('--cache-expiry is a whole number of ms from 500 to 60000')
    }
  } else if (expiry !== undefined) throw new DemoUsageError('--cache-expiry applies to --drill')
  if (region !== undefined) options.region = region
  if (typeof values.built === 'string') options.built = values.built
  if (stackName !== undefined) options.stackName = stackName
  return options
}

/** What `--aws` creates and what it costs, printed before anything is created. */
export function awsNotice(region: string | undefined): string {
  return `npm start -- --aws creates in your AWS account (region ${region ?? 'from your AWS configuration'}):
  - a KMS customer managed key: US$1/month prorated hourly while it exists, plus requests
    (20,000 a month free, then US$0.03 per 10,000). At the end it is scheduled for
    deletion: KMS waits 7 days before deleting it and does not bill a key pending deletion
  - its alias (free)
  - a DynamoDB table, on-demand: a few requests (fractions of a cent); deleted at the end
Everything runs on this machine (no Lambda function is deployed). A run that completes
costs well under US$0.01; if it is killed before its cleanup, delete the key and the table
named kms-secrets-demo-<random> yourself.
`
}

/** The answer to "Create them?": only an explicit yes goes on. */
export const isYes = (answer: string): boolean => /^\s*y(es)?\s*$/i.test(answer)
