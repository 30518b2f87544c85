// Command line of the demo (npm start). Pure: no side effect.

import { parseArgs } from 'node:util'

export const HELP = `Usage: npm start [-- options]        (node scripts/demo.ts [options])

The whole product on this machine: a local AWS (moto on 127.0.0.1, behind a fault proxy
that counts the KMS calls) with the key, alias and table of template.yaml; the demo secrets
encrypted with this project's CLI; an HTTPS upstream (mutual TLS, bearer token); both
functions built and invoked through the local invoke (a cold start, then warm); a report
(names only, values masked; each call; KMS calls per cold start; timings) on stdout.
Progress on stderr. Everything it started is stopped at the end, on Ctrl-C and on failure.

Options:
      --aws           real AWS instead, with your credentials (AWS_PROFILE, AWS_REGION...): a
                      throwaway KMS key (billed while it exists, scheduled for deletion at the
                      end), its alias and a DynamoDB table; prints what it costs, then asks
  -y, --yes           with --aws: do not ask
      --warm N        warm invocations after each cold start (default 3, 1-20)
      --built DIR     run the functions as \`sam build\` built them (e.g. .aws-sam/build)
      --drill         the key's life instead (npm run drill; local AWS only): rotate, re-encrypt,
                      disable, enable, schedule and cancel deletion; both functions after each
      --cache-expiry MS  with --drill: the functions' SecretsCacheExpiry (default 5000)
  -v, --verbose       also print the functions' logs and the CLI output (stderr)
  -h, --help          this text

DEMO_SECRETS_OUT=FILE (tests only) also writes the throwaway secret values to FILE (mode 600).
Exit status: 0 all went as expected; 1 otherwise, the reason on stderr; 2 bad command line;
130 / 143 / 129 interrupted (SIGINT / SIGTERM / SIGHUP), after stopping everything.
`

export type DemoOptions = ReturnType<typeof parseDemoArgs>

/** A whole number within [min, max], else a usage error. */
function whole(text: string, min: number, max: number, error: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < min || value > max) throw new Error(error)
  return value
}

/** Parses argv (without node and the script); any error is a usage error. */
export function parseDemoArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
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
  })
  const { aws = false, yes = false, drill, built, 'cache-expiry': expiry = '5000' } = values
  if (yes && !aws) throw new Error('--yes applies to --aws only')
  if (drill && aws) throw new Error('--drill runs on the local AWS only')
  if (values['cache-expiry'] && !drill) throw new Error('--cache-expiry applies to --drill')
  const ms = drill
    ? whole(expiry, 500, 60_000, '--cache-expiry is a whole number of ms from 500 to 60000')
    : undefined
  return {
    mode: aws ? ('aws' as const) : ('local' as const),
    yes,
    warm: whole(values.warm, 1, 20, '--warm is a whole number from 1 to 20'),
    verbose: values.verbose === true,
    help: values.help === true,
    ...(built !== undefined && { built }),
    ...(ms !== undefined && { drill: ms }),
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
