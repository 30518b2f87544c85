const KEY_ID = '  --key-id ID                 KMS key id, key ARN, alias/NAME or alias ARN'

/** The key and context options; `keyId` is the command's own line for --key-id. */
const target = (keyId: string) => `Key and encryption context:
${keyId}
  --function-name NAME        context {"LambdaFunctionName": NAME}: what the middleware
                              expects by default (AWS_LAMBDA_FUNCTION_NAME, or
                              KMS_SECRETS_FUNCTION_NAME when set)
  --template FILE --function LOGICAL_ID
                              take that name from a SAM template (FunctionName, or the
                              function's KMS_SECRETS_FUNCTION_NAME); \${AWS::StackName}
                              comes from --stack-name or samconfig.toml's stack_name
  --stack-name NAME           stack name for the template's \${AWS::StackName}
  --samconfig FILE            default: samconfig.toml beside the template
  --config-env NAME           samconfig environment (default "default")
  --region REGION             the KMS region (default: AWS_REGION, AWS_DEFAULT_REGION, then
                              samconfig.toml's region when --template is given, then the
                              AWS profile's)
  --context KEY=VALUE         add a context pair (repeatable); alone, the whole context
  --no-context                no encryption context (the middleware's encryptionContext: false)
  --bind-variable NAME        add {"EnvironmentVariableName": NAME}, for bindVariableName: true
                              (for a secrets file: the path as written after file:)`

const OUTPUT = `Output:
  --format value              the bare value (default)
  --format env-json           {"LOGICAL_ID": {"NAME": value}} for sam local invoke --env-vars
                              ("Parameters", i.e. every function, without --function)
  --format parameter-overrides
                              NAME=value for sam deploy --parameter-overrides
  --name NAME                 the variable (env-json) or template parameter
                              (parameter-overrides) the value is for
  --out FILE                  write to FILE instead of stdout (--force to replace it)`

const ENV = `Environment:
  The AWS SDK's own: AWS_REGION, AWS_PROFILE, credentials, and AWS_ENDPOINT_URL for a
  local KMS.`

const EXIT = `Exit codes: 0 ok, 1 KMS refused or failed, 2 bad command line or input (found before
any KMS call).`

export const TOP_HELP = `kms-secrets: encrypt values for middy-kms-secrets (KMS-encrypted Lambda env vars)

Usage: kms-secrets <command> [options]

Commands:
  encrypt     encrypt one secret: a raw KMS blob, or an envelope with --envelope
  decrypt     check that a value decrypts (prints "ok, N bytes"; --show prints it)
  bundle      encrypt a dotenv file of KEY=value lines as one envelope (a bundle):
              one env var, or a secrets file with --out, and one KMS call per cold start
  reencrypt   move a value to another key and/or another function's context
  check       before deploying: prove every encrypted value of a template decrypts for
              its function (KMS ReEncrypt, no plaintext anywhere), key state, 4 KB budget

Secrets are read from stdin or --in FILE, never from the command line.
Run kms-secrets <command> --help for its options.

Example:
  printf %s "$TOKEN" | kms-secrets encrypt --key-id alias/app \\
    --template template.yaml --function SecureFetchFunction \\
    --format parameter-overrides --name ApiTokenCiphertext
`

export const COMMAND_HELP: Record<string, string> = {
  check: `Usage: kms-secrets check --template FILE [--parameter-overrides K=V ...] [--stack-name NAME] [options]

For every function of the template and every encrypted value it will receive (env vars:
raw KMS blobs, envelopes and bundles, secrets files in the function's code), proves the
value decrypts for that function WITHOUT anyone seeing the plaintext: KMS ReEncrypt from
the function's encryption context {"LambdaFunctionName": <its name>} (or with its
EnvironmentVariableName, for bindVariableName) onto the same key and context. The
plaintext never leaves KMS: the caller needs kms:ReEncryptFrom and kms:ReEncryptTo with
the condition kms:ReEncryptOnSameKey, never kms:Decrypt.
For an envelope, bundle or secrets file that proves its encrypted data key; the AES-GCM
tag of the body needs the plaintext data key, so an altered body is only found by
'kms-secrets decrypt' (kms:Decrypt) or at the cold start.
Also: the key is enabled and not pending deletion (DescribeKey), its rotation is on
(GetKeyRotationStatus; off is a warning), and each function's environment variables fit
Lambda's 4 KB.

Encrypted values are the variables set from a NoEcho parameter, values starting with
kse1:, base64 of 64 bytes or more, and relative paths to a kse1: file in the CodeUri.

  --template FILE             the SAM / CloudFormation template (required)
  --parameter-overrides K=V ...
                              parameter values, as sam deploy takes them: every argument
                              up to the next option, each "K=V K2=V2" or
                              ParameterKey=K,ParameterValue=V; after samconfig.toml's
                              parameter_overrides; file://PATH reads a JSON object
                              {"Name": "value"} (CodePipeline's form)
  --stack-name NAME           stack name for \${AWS::StackName} (default: samconfig.toml)
  --samconfig FILE            default: samconfig.toml beside the template
  --config-env NAME           samconfig environment (default "default")
  --region REGION             the KMS region (default: AWS_REGION, AWS_DEFAULT_REGION, then
                              samconfig.toml's region, then the AWS profile's)
  --key-id ID                 the key (default: the template's AWS::KMS::Alias)
  --format text|json          one line per value: function, variable, verdict, reason
                              (default text); json: {"ok", "lines": [...]}

${ENV}
Exit codes: 0 every value decrypts (warnings allowed), 1 a failure, 2 bad command line.
`,
  encrypt: `Usage: kms-secrets encrypt --key-id ID (--function-name NAME | --template FILE --function ID | --context K=V | --no-context) [options]

Encrypts the bytes of stdin (or --in FILE), exactly as given: a trailing newline is
part of the secret (use printf, not echo, or --trim).

  --in FILE                   read the secret from FILE instead of stdin
  --trim                      drop one trailing newline (\\n or \\r\\n) from the input
  --envelope                  envelope encryption (GenerateDataKey + AES-256-GCM):
                              any size; needed over KMS Encrypt's 4096 bytes

${target(KEY_ID)}

${OUTPUT}

${ENV}
${EXIT}
`,
  decrypt: `Usage: kms-secrets decrypt (--function-name NAME | --template FILE --function ID | --context K=V | --no-context) [options]

Reads an encrypted value (raw KMS blob, envelope or secrets file) from stdin or --in FILE
and decrypts it exactly as the middleware would. Prints "ok, N bytes (...)" only.

  --in FILE                   read the value from FILE (e.g. a secrets file)
  --field NAME                check (or show) one field of a bundle
  --show                      print the plaintext to stdout (mind your terminal history)
${target('  --key-id ID                 optional pin: refuse values under any other key')}

${ENV}
${EXIT}
`,
  bundle: `Usage: kms-secrets bundle --key-id ID (--function-name NAME | --template FILE --function ID | --context K=V | --no-context) [options]

Reads KEY=value lines (dotenv style) from stdin or --in FILE and encrypts them as one
envelope holding a JSON object of strings. Read its fields with fetchData sources
VAR#KEY (env var) or file:PATH#KEY (secrets file, written with --out).

Dotenv rules: '...' is literal; "..." turns \\n into a newline; both may span lines;
# starts a comment line. Refused (instead of silently misread): # inside an unquoted
value, \\" inside double quotes, text after a closing quote, a name set twice.

  --in FILE                   read the KEY=value lines from FILE

${target(KEY_ID)}

${OUTPUT}

${ENV}
${EXIT}
`,
  reencrypt: `Usage: kms-secrets reencrypt (source context options) (--to-... options) [options]

Moves an encrypted value (stdin or --in FILE) to another key and/or context:
  raw KMS blob: KMS ReEncrypt, the plaintext never leaves KMS (needs kms:ReEncrypt*);
  envelope:     the context and the encrypted data key are bound into the AES-GCM tag,
                so it is opened and sealed again under a fresh data key HERE: the
                plaintext is briefly in this process's memory (needs kms:Decrypt on the
                source key and kms:GenerateDataKey on the destination key).

Source: the key and context options below (--key-id pins the source key).
Destination:
  --to-key-id ID              destination key (default: --key-id)
  --to-function-name NAME     destination {"LambdaFunctionName": NAME}
  --to-function LOGICAL_ID    destination function from --template
  --to-context KEY=VALUE      destination context pair (repeatable)
  --to-no-context             no destination context
  --to-bind-variable NAME     destination EnvironmentVariableName (default: --bind-variable)
  Without any --to- context option, the source context is kept.

  --in FILE                   read the value from FILE

${target(KEY_ID)}

${OUTPUT}

${ENV}
${EXIT}
`,
}
