// Command line of the demo (npm start). Pure: no side effect.

import { parseArgs } from 'node:util'

export const HELP = `Usage: npm start [-- options]        (node scripts/demo.ts [options])

The whole product, end to end, on this machine: a local AWS (moto on a free 127.0.0.1
port, behind a fault proxy that counts the KMS calls), the KMS key, alias and DynamoDB
table of template.yaml, the demo secrets encrypted with this project's CLI, an HTTPS
upstream (generated CA, mutual TLS, bearer token), both functions of template.yaml built
and invoked through the local invoke (a cold start, then warm), and a report: what was
decrypted (names only, values masked), each call's result, KMS calls per cold start,
cold and warm timings. Progress on stderr, the report on stdout. Everything it started
is stopped at the end, on Ctrl-C and on failure.

Options:
      --aws           real AWS instead, with your credentials (AWS_PROFILE, AWS_REGION...):
                      a throwaway KMS key (billed while it exists; scheduled for deletion
                      at the end, which takes 7 days), its alias and a DynamoDB table named
                      kms-secrets-demo-<random>; prints what it creates and what that
                      costs, then asks. KMS calls are counted inside the function's process
  -y, --yes           with --aws: do not ask
      --warm N        warm invocations after each cold start (default 3, 1-20)
      --built DIR     run the functions as \`sam build\` built them (DIR/template.yaml,
                      DIR/<LogicalId>/, e.g. .aws-sam/build) instead of building them
      --drill         the key's life instead (npm run drill): rotate, re-encrypt, disable,
                      enable, schedule and cancel deletion, both functions cold and warm
                      after each step, and a table (local AWS only)
      --cache-expiry MS  with --drill: the functions' SecretsCacheExpiry (default 5000)
  -v, --verbose       also print the functions' logs and the CLI output (stderr)
  -h, --help          this text

Environment:
  DEMO_SECRETS_OUT=FILE  for tests only: also writes the generated (throwaway) secret values
                         to FILE (mode 600), so a test can check that no output holds them

Exit status: 0 when every step and call succeeded; 1 otherwise, with a one-line reason
on stderr; 2 for a bad command line; 130 / 143 / 129 when interrupted (SIGINT / SIGTERM /
SIGHUP), after stopping everything.
`

export interface DemoOptions {
  mode: 'local' | 'aws'
  yes: boolean
  warm: number
  /** A \`sam build\` output folder to run the functions from (else they are built). */
  built?: string
  verbose: boolean
  help: boolean
  /** --drill: the functions' cacheExpiry (ms); undefined: the demo. */
  drill?: number
}

export class DemoUsageError extends Error {}

/** A whole number within [min, max], else a usage error. */
function whole(text: string, min: number, max: number, error: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < min || value > max) throw new DemoUsageError(error)
  return value
}

/** Parses argv (without node and the script); nothing in the environment selects real AWS. */
export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        aws: { type: 'boolean' },
        yes: { type: 'boolean', short: 'y' },
        warm: { type: 'string', default: '3' },
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
  const aws = values.aws === true
  if (values.yes && !aws) throw new DemoUsageError('--yes applies to --aws only')
  if (values.drill && aws) throw new DemoUsageError('--drill runs on the local AWS only')
  const expiry = values['cache-expiry'] as string | undefined
  if (expiry !== undefined && !values.drill) {
    throw new DemoUsageError('--cache-expiry applies to --drill')
  }
  return {
    mode: aws ? 'aws' : 'local',
    yes: values.yes === true,
    warm: whole(values.warm as string, 1, 20, '--warm is a whole number from 1 to 20'),
    verbose: values.verbose === true,
    help: values.help === true,
    ...(typeof values.built === 'string' && { built: values.built }),
    ...(values.drill && {
      drill: whole(
        expiry ?? '5000',
        500,
        60_000,
        '--cache-expiry is a whole number of ms from 500 to 60000',
      ),
    }),
  }
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
