/**
 * `runbooks serve [DIR]`: the notebook server. Starts the local sandbox from DIR's sandbox.yaml
 * (unless `--aws`), opens the run engine on the data folder (ending runs a crash left active), and
 * listens on 127.0.0.1:4680 by default. Like Jupyter, it prints the URL with the access token; that
 * line is the only place the token is ever shown. With `--webhooks FILE` it announces approvals,
 * failed steps and completed runs (../notify/webhooks.ts). SIGINT/SIGTERM stop it cleanly: the server
 * stops taking requests, active runs end with their sessions revoked, the sandbox stops.
 */
import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRbError, RbError } from '../errors.js';
import type { RunEngine } from '../runs/engine.js';
import type { UserDecl } from '../http/users.js';
import { awsEngineOptions, redactOption, sandboxEngineOptions, storeOption } from './target.js';

export interface ServeOptions {
  port: number;
  host: string;
  token?: string;
  aws?: boolean;
  role?: string;
  data: string;
  sandboxFile?: string;
  users?: string;
  trustedProxyHeader?: string;
  iamRevocation?: boolean;
  auditKey?: string;
  /** seconds, as given on the command line */
  idleTimeout?: string;
  /** the webhooks file (YAML: url, events, secret, format) */
  webhooks?: string;
  /** the notebook's address as people reach it, for links in webhook bodies */
  publicUrl?: string;
  /** `file` (default) or `dynamodb`, with its table prefix */
  store?: string;
  storePrefix?: string;
  /** `--redact` flags as given */
  redact?: string[];
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** The folder of the installed package (holding package.json), from the sources or from dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return dirname(fileURLToPath(import.meta.url));
    dir = parent;
  }
}

function urlHost(host: string): string {
  const h = host === '0.0.0.0' || host === '::' ? hostname() : host;
  return h.includes(':') ? `[${h}]` : h;
}

interface Resources {
  engine?: RunEngine;
  app?: { close(): Promise<unknown> };
  sandbox?: { stop(): Promise<void>; health(): import('../sandbox/supervise.js').SandboxHealth };
}

async function release(r: Resources): Promise<void> {
  // Order matters: stop taking requests, then end runs (revocation needs the sandbox), then the sandbox.
  await r.app?.close().catch(() => undefined);
  await r.engine?.close().catch((err: unknown) => process.stderr.write(`runbooks: closing runs failed: ${isRbError(err) ? err.message : String(err)}\n`));
  await r.sandbox?.stop().catch(() => undefined);
}

/** Runs the server until SIGINT or SIGTERM; resolves with the exit code. */
export async function serveCommand(dir: string, opts: ServeOptions): Promise<number> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const note = (line: string) => process.stderr.write(`runbooks: ${line}\n`);
  const resources: Resources = {};
  try {
    const root = resolve(dir);
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      throw new RbError('RB_ERR_CLI_USAGE', `${dir} is not a folder: name the runbooks folder (default ./runbooks).`);
    }
    const { checkToken, loadUsersFile } = await import('../http/users.js');
    const { randomToken } = await import('../http/auth.js');
    const token = opts.token ?? randomToken();
    const tokenProblem = checkToken(token);
    if (tokenProblem) throw new RbError('RB_ERR_CLI_USAGE', `--token: ${tokenProblem}.`);
    const users: UserDecl[] = opts.users ? await loadUsersFile(opts.users) : [];
    // Read before anything starts, so that a mistake in the file costs no sandbox start-up.
    const hooks = opts.webhooks ? await (await import('../notify/webhooks-file.js')).loadWebhooksFile(opts.webhooks) : undefined;
    const publicUrl = opts.publicUrl === undefined ? undefined : checkPublicUrl(opts.publicUrl);
    if (opts.trustedProxyHeader && !isLoopback(opts.host)) {
      // Anyone who reaches the server directly could claim any user with the header.
      throw new RbError(
        'RB_ERR_CLI_USAGE',
        `--trusted-proxy-header needs --host on loopback (127.0.0.1), with the proxy on the same machine; ${opts.host} would let anyone set the header.`,
      );
    }
    const idleSeconds = Number(opts.idleTimeout ?? '3600');
    if (!Number.isInteger(idleSeconds) || idleSeconds < 0) {
      throw new RbError('RB_ERR_CLI_USAGE', `--idle-timeout ${JSON.stringify(opts.idleTimeout)}: a whole number of seconds (0 turns it off).`);
    }
    const dataDir = resolve(opts.data);
    const store = storeOption(opts);
    const redact = redactOption(opts.redact);

    const { RunEngine } = await import('../runs/engine.js');
    // The engine's options on AWS and on the sandbox alike; only the access differs.
    const engineOptions = {
      dataDir,
      ...(opts.auditKey ? { auditKeyPath: resolve(opts.auditKey) } : {}),
      idleTimeoutMs: idleSeconds * 1000,
      onInternalError: (err: unknown) => note(`internal error: ${err instanceof Error ? err.message : String(err)}`),
      store,
      redact,
    };
    if (opts.aws) {
      resources.engine = await RunEngine.create({ ...awsEngineOptions(opts.role, opts.iamRevocation), ...engineOptions });
    } else {
      const sandboxFile = resolve(opts.sandboxFile ?? join(root, 'sandbox.yaml'));
      if (!existsSync(sandboxFile)) {
        throw new RbError('RB_ERR_CLI_USAGE', `No sandbox file ${sandboxFile}: add sandbox.yaml to the runbooks folder, pass --sandbox-file PATH, or use --aws.`);
      }
      note('starting the local sandbox (DynamoDB Local and the STS/IAM/DynamoDB gateway)…');
      const { startSandbox, describeSupervisionEvent } = await import('./local-sandbox.js');
      const sandbox = await startSandbox({ sandboxFile, ...(store ? { storePrefix: store.prefix } : {}) });
      resources.sandbox = sandbox;
      sandbox.onDynamoLocalEvent((event) => note(describeSupervisionEvent(event)));
      resources.engine = await RunEngine.create({ ...sandboxEngineOptions(sandbox, opts.role), ...engineOptions });
      note(`sandbox at ${sandbox.endpoint} (region ${sandbox.region}, account ${sandbox.account})`);
    }

    const { buildApp } = await import('../http/app.js');
    const webhooks = hooks ? (await import('../notify/webhooks.js')).createWebhookDispatcher({ hooks, publicUrl }) : undefined;
    const app = await buildApp({
      engine: resources.engine,
      runbooksDir: root,
      clientDir: join(packageRoot(), 'client'),
      auth: {
        token,
        users,
        ...(opts.trustedProxyHeader ? { trustedProxy: { header: opts.trustedProxyHeader } } : {}),
        // Behind a proxy that terminates TLS the browser's Origin is the public https address.
        ...(publicUrl ? { allowedOrigins: [new URL(publicUrl).origin] } : {}),
      },
      logger: { level: process.env.RUNBOOKS_LOG_LEVEL ?? 'warn', stream: process.stderr },
      ...(webhooks ? { webhooks } : {}),
      ...(resources.sandbox ? { sandboxHealth: () => resources.sandbox!.health() } : {}),
    });
    resources.app = app;
    try {
      await app.listen({ host: opts.host, port: opts.port });
    } catch (err) {
      throw listenError(err, opts);
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port;

    const { listRunbooks } = await import('../runbook/load.js');
    const listed = await listRunbooks(root);
    const withProblems = listed.filter((r) => r.problems.length > 0).length;
    say(`runbooks: serving ${listed.length} runbook${listed.length === 1 ? '' : 's'} from ${dir}${withProblems ? ` (${withProblems} with problems: runbooks check ${dir})` : ''}`);
    say(`  http://${urlHost(opts.host)}:${port}/?token=${token}`);
    if (users.length > 0) say(`  users: ${users.map((u) => `${u.name} (${u.roles.join(', ')})`).join('; ')}`);
    if (hooks) note(`webhooks: ${hooks.length} (${[...new Set(hooks.map((h) => new URL(h.url).host))].join(', ')}); delivery counts in /api/health`);
    if (redact) note(`redacting ${redact.join(', ')} in every run's results (besides each runbook's own redact list)`);
    if (opts.trustedProxyHeader) say(`  trusted proxy header: ${opts.trustedProxyHeader} (users not in the users file get the runner role)`);
    if (!isLoopback(opts.host)) note(`listening on ${opts.host}: traffic is plain HTTP, so put a TLS proxy in front of it for use beyond this machine.`);
    if (store)
      note(`runs and the audit chain in the DynamoDB tables ${store.prefix}*, shared with every replica on them; Ctrl+C stops this replica (its runs stay active for the others)`);
    else note(`runs and the audit log in ${dataDir}; Ctrl+C stops the server and revokes the sessions of active runs`);

    const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
      const stop = (sig: NodeJS.Signals) => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        // A second signal while shutting down stops at once.
        process.once('SIGINT', () => process.exit(130));
        process.once('SIGTERM', () => process.exit(143));
        resolveSignal(sig);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    note(`${signal}: stopping (ending active runs and revoking their sessions)…`);
    await release(resources);
    note('stopped');
    return 0;
  } catch (err) {
    await release(resources);
    process.stderr.write(`runbooks: ${isRbError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    return isRbError(err) && ['RB_ERR_CLI_USAGE', 'RB_ERR_CONFIG_INVALID', 'RB_ERR_SANDBOX_FILE_INVALID'].includes(err.code) ? 2 : 1;
  }
}

/** The public URL without its trailing slash; a usage error unless it is a plain http(s) URL. */
function checkPublicUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password) {
    throw new RbError(
      'RB_ERR_CLI_USAGE',
      `--public-url ${JSON.stringify(text)}: the notebook's address as people open it, an http(s) URL without query, fragment or credentials (https://runbooks.example.com).`,
    );
  }
  return url.href.replace(/\/+$/, '');
}

function listenError(err: unknown, opts: ServeOptions): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${opts.host}:${opts.port}`;
  if (code === 'EADDRINUSE') {
    return new RbError('RB_ERR_CONFIG_INVALID', `${where} is already in use (another \`runbooks serve\`?): choose another port with --port N (or RUNBOOKS_PORT).`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new RbError('RB_ERR_CONFIG_INVALID', `Cannot listen on ${opts.host}: it is not an address of this machine (--host).`);
  }
  if (code === 'EACCES') {
    return new RbError('RB_ERR_CONFIG_INVALID', `Not allowed to listen on ${where}: ports below 1024 need privileges; choose --port 4680 or another above 1024.`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
