/**
 * The `runbooks` command. Each subcommand lives in its own module, imported only when it runs, so
 * that `runbooks check` does not load the AWS SDK or Fastify and starts in well under a second.
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
// Types only: erased from the output, so each subcommand's module is still loaded only when it runs.
import type { AuditKeyOptions, AuditVerifyOptions } from './audit.js';
import type { PolicyOptions } from './policy.js';
import type { RunOptions } from './run.js';
import type { SandboxCommandOptions } from './sandbox.js';
import type { ServeOptions } from './serve.js';
import type { StoreInitOptions } from './store.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('runbooks')
  .description('Markdown runbooks for DynamoDB, each step run with its own least-privilege STS session.')
  .version(pkg.version)
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander exits 1 on usage errors; bad input is exit 2 throughout this command.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

const shared = {
  aws: () => new Option('--aws', 'use real AWS (credentials, region and AWS_ENDPOINT_URL_* from the standard chain)').env('RUNBOOKS_AWS'),
  role: () => new Option('--role <arn>', "role to assume for each step (default: the runbook's, else the sandbox's first role)").env('RUNBOOKS_ROLE'),
  data: () => new Option('--data <dir>', 'folder for runs and the audit log').env('RUNBOOKS_DATA').default('./.runbooks'),
  port: (dflt?: number) => {
    const o = new Option('--port <n>', 'port to listen on').env('RUNBOOKS_PORT').argParser(parsePort);
    return dflt === undefined ? o : o.default(dflt);
  },
  host: () => new Option('--host <host>', 'address to listen on').env('RUNBOOKS_HOST').default('127.0.0.1'),
  token: () => new Option('--token <token>', 'access token instead of a random one').env('RUNBOOKS_TOKEN'),
  sandboxFile: () => new Option('--sandbox-file <path>', 'sandbox file (default: sandbox.yaml in the runbooks folder)').env('RUNBOOKS_SANDBOX_FILE'),
  param: () => new Option('-p, --param <k=v>', 'parameter value (repeatable)').argParser(collect).default([] as string[]),
  json: () => new Option('--json', 'machine-readable output'),
  auditKey: () =>
    new Option(
      '--audit-key <path>',
      "the audit log's signing key, created on first use (default: $XDG_CONFIG_HOME/runbooks/audit-key.pem, else ~/.config/runbooks/audit-key.pem)",
    ).env('RUNBOOKS_AUDIT_KEY'),
  iamRevocation: () =>
    new Option('--iam-revocation', "at completion, also deny the run's sessions with an inline IAM role policy (always on in the sandbox and with --store dynamodb)").env(
      'RUNBOOKS_IAM_REVOCATION',
    ),
  store: () =>
    new Option('--store <kind>', 'where runs and the audit chain live: file (the data folder) or dynamodb (tables that server replicas share, docs/deploy.md)')
      .env('RUNBOOKS_STORE')
      .default('file'),
  storePrefix: () => new Option('--store-prefix <prefix>', "prefix of the store's DynamoDB table names").env('RUNBOOKS_STORE_PREFIX').default('runbooks-'),
  redact: () =>
    new Option(
      '--redact <names>',
      "mask these attributes (names or dotted paths into maps, comma-separated, repeatable) in every result, record and output, besides each runbook's own `redact`",
    )
      .env('RUNBOOKS_REDACT')
      .argParser(collect)
      .default([] as string[]),
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`runbooks: --port must be an integer between 0 and 65535, not ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

async function exitWith(code: Promise<number>): Promise<void> {
  process.exitCode = await code;
}

program
  .command('check')
  .description('validate runbooks; errors as file:line:col: error: message; exit 1 on any error')
  .argument('<path...>', 'runbook files or folders (searched recursively for .md)')
  .addOption(shared.json())
  .action(async (paths: string[], opts: { json?: boolean }) => exitWith((await import('./check.js')).checkCommand(paths, opts)));

program
  .command('sandbox')
  .description('run the local stack (DynamoDB Local + STS/IAM/DynamoDB gateway) alone and print its endpoint and base credentials')
  .argument('[dir]', 'folder holding sandbox.yaml', 'runbooks')
  .addOption(shared.port(0))
  .addOption(new Option('--data <dir>', "keep DynamoDB Local's data in this folder instead of memory").env('RUNBOOKS_SANDBOX_DATA'))
  .addOption(shared.sandboxFile())
  .addOption(shared.json())
  .action(async (dir: string, opts: SandboxCommandOptions) => exitWith((await import('./sandbox.js')).sandboxCommand(dir, opts)));

program
  .command('run')
  .description('run a runbook headless; exit 0 only if every step it ran succeeded (1: a step failed, 2: bad input)')
  .argument('<file>', 'the runbook')
  .addOption(shared.param())
  .addOption(new Option('-s, --step <name>', 'run only this step (repeatable, in the order given)').argParser(collect).default([] as string[]))
  .addOption(new Option('-y, --yes', 'confirm write steps without a prompt'))
  .addOption(
    new Option(
      '--wait-approval <duration>',
      'request the approval a step needs and wait this long (30s, 10m, 1h) for an approver to decide it in the notebook of a server on the same data folder',
    ).env('RUNBOOKS_WAIT_APPROVAL'),
  )
  .addOption(new Option('--notebook-url <url>', 'the notebook where approvers decide, printed with the run to approve').env('RUNBOOKS_NOTEBOOK_URL'))
  .addOption(shared.json())
  .addOption(new Option('--transcript <out>', 'write the transcript (.md, .json or .html by extension)'))
  .addOption(new Option('--user <name>', 'who runs it (recorded as SourceIdentity)').env('RUNBOOKS_USER'))
  .addOption(shared.aws())
  .addOption(shared.role())
  .addOption(shared.iamRevocation())
  .addOption(shared.data())
  .addOption(shared.store())
  .addOption(shared.storePrefix())
  .addOption(shared.auditKey())
  .addOption(shared.sandboxFile())
  .addOption(shared.redact())
  .action(async (file: string, opts: RunOptions) => exitWith((await import('./run.js')).runCommand(file, opts)));

program
  .command('policy')
  .description(
    "print the minimal role policy for the runbooks in the files and folders given (no parameter values needed); with -p values for one file, each step's session policy too",
  )
  .argument('<paths...>', 'runbook files or folders')
  .addOption(shared.param())
  .addOption(new Option('--trust <arn>', "also print the role's trust policy for this principal (the server's role or user)"))
  .addOption(shared.aws())
  .addOption(shared.role())
  .addOption(shared.sandboxFile())
  .action(async (paths: string[], opts: PolicyOptions) => exitWith((await import('./policy.js')).policyCommand(paths, opts)));

program
  .command('serve')
  .description('serve the runbooks in DIR with the browser notebook; prints the URL with its access token')
  .argument('[dir]', 'the runbooks folder', 'runbooks')
  .addOption(shared.port(4680))
  .addOption(shared.host())
  .addOption(shared.token())
  .addOption(shared.aws())
  .addOption(shared.role())
  .addOption(shared.data())
  .addOption(shared.store())
  .addOption(shared.storePrefix())
  .addOption(shared.auditKey())
  .addOption(shared.sandboxFile())
  .addOption(new Option('--users <file>', 'users file (YAML: name, token, roles)').env('RUNBOOKS_USERS'))
  .addOption(new Option('--trusted-proxy-header <name>', 'take the user from this header set by a trusted reverse proxy').env('RUNBOOKS_TRUSTED_PROXY_HEADER'))
  .addOption(shared.iamRevocation())
  .addOption(new Option('--idle-timeout <seconds>', 'complete runs idle this long').env('RUNBOOKS_IDLE_TIMEOUT').default('3600'))
  .addOption(new Option('--webhooks <file>', 'webhooks file (YAML: url, events, secret, format) announcing approvals, failed steps and completed runs').env('RUNBOOKS_WEBHOOKS'))
  .addOption(new Option('--public-url <url>', "the notebook's address as people open it, for links in webhook bodies").env('RUNBOOKS_PUBLIC_URL'))
  .addOption(shared.redact())
  .action(async (dir: string, opts: ServeOptions) => exitWith((await import('./serve.js')).serveCommand(dir, opts)));

const audit = program.command('audit').description('the audit log');
audit
  .command('verify')
  .description(
    "verify the audit log's hash chain and signed digests (the data folder's, or with --store dynamodb the chain replicas share); exit 0 OK, 1 the first bad record and its kind, 2 nothing to check",
  )
  .addOption(shared.data())
  .addOption(shared.store())
  .addOption(shared.storePrefix())
  .addOption(new Option('--key <pub>', 'the public key (PEM) the digests must be signed with (default: that of --audit-key)'))
  .addOption(shared.auditKey())
  .addOption(new Option('--transcript <file>', "also check that this transcript's audit hash is in the log"))
  .addOption(shared.json())
  .action(async (opts: AuditVerifyOptions) => exitWith((await import('./audit.js')).auditVerifyCommand(opts)));
audit
  .command('key')
  .description("print the audit signing key's public key (PEM) and fingerprint, creating the key pair if missing")
  .addOption(shared.auditKey())
  .addOption(shared.json())
  .action(async (opts: AuditKeyOptions) => exitWith((await import('./audit.js')).auditKeyCommand(opts)));

const store = program.command('store').description('the run store shared by server replicas, in DynamoDB');
store
  .command('init')
  .description("create the run store's DynamoDB tables (<prefix>runs, <prefix>journal, <prefix>items with TTL, <prefix>audit) where missing; existing ones are kept")
  .addOption(shared.storePrefix())
  .addOption(shared.aws())
  .addOption(shared.sandboxFile())
  .addOption(shared.json())
  .action(async (opts: StoreInitOptions) => exitWith((await import('./store.js')).storeInitCommand(opts)));

await program.parseAsync(process.argv);
