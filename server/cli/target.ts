/**
 * What `run` and `policy` share: loading a lone runbook file, `--param k=v` flags, finding the
 * sandbox file, and opening the engine against the local sandbox (default) or AWS (`--aws`).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { isRbError, RbError } from '../errors.js';
import { loadRunbookFile } from '../runbook/load.js';
import { checkRedactList, splitRedactFlags } from '../runbook/redact.js';
import type { Runbook } from '../runbook/types.js';
import type { EngineOptions, RunEngine } from '../runs/engine.js';
import type { Sandbox } from '../sandbox/index.js';
import { DEFAULT_STORE_PREFIX } from '../runs/dynamo-tables.js';

export interface TargetOptions {
  aws?: boolean;
  role?: string;
  data?: string;
  sandboxFile?: string;
  iamRevocation?: boolean;
  auditKey?: string;
  /** `file` (default) or `dynamodb` */
  store?: string;
  storePrefix?: string;
  /** `--redact` flags as given (each a name, a path, or a comma list) */
  redact?: string[];
}

/** The engine's `redact` list from `--redact` flags (and RUNBOOKS_REDACT); a usage error for a bad entry. */
export function redactOption(flags: readonly string[] | undefined): string[] | undefined {
  const { paths, problems } = checkRedactList(splitRedactFlags(flags ?? []));
  if (problems.length > 0) throw new RbError('RB_ERR_CLI_USAGE', `--redact: ${problems.map((p) => p.message).join('; ')}.`);
  return paths.length > 0 ? paths : undefined;
}

/** The engine's store from `--store` and `--store-prefix`: undefined for the data folder. */
export function storeOption(opts: { store?: string; storePrefix?: string }): EngineOptions['store'] {
  const kind = opts.store ?? 'file';
  if (kind === 'file') return undefined;
  if (kind !== 'dynamodb') {
    throw new RbError('RB_ERR_CLI_USAGE', `--store ${JSON.stringify(kind)}: file (the data folder, the default) or dynamodb (tables that server replicas share, docs/deploy.md).`);
  }
  return { kind: 'dynamodb', prefix: opts.storePrefix ?? DEFAULT_STORE_PREFIX };
}

/** Loads FILE; any problem is bad input, reported as `file:line:col: error: message` lines. */
export async function prepareRunbook(file: string, opts: TargetOptions): Promise<{ runbook: Runbook; runbookId: string; source: string }> {
  const { runbook, problems, text } = await loadRunbookFile(file);
  if (!runbook || problems.length > 0) {
    const lines = problems.map((p) => `${p.file}:${p.line}:${p.column}: error: ${p.message}`);
    throw new RbError('RB_ERR_RUNBOOK_INVALID', `${lines.join('\n')}\n${file}: ${problems.length} error${problems.length === 1 ? '' : 's'}; fix them (runbooks check ${file}).`);
  }
  // The id is the path relative to the runbooks folder (where sandbox.yaml lives), as the server names it.
  const sandboxFile = findSandboxFile(file, opts);
  const root = sandboxFile && !opts.sandboxFile ? dirname(sandboxFile) : dirname(resolve(file));
  const rel = relative(root, resolve(file));
  const runbookId = (rel.startsWith('..') ? basename(file) : rel).replace(/\.md$/, '').split(sep).join('/');
  return { runbook, runbookId, source: text ?? '' };
}

/** `k=v` flags to a record of raw strings; the engine validates and coerces them. */
export function parseParamFlags(flags: string[]): Record<string, string> {
  const params = Object.create(null) as Record<string, string>;
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new RbError('RB_ERR_CLI_USAGE', `--param ${JSON.stringify(flag)}: write it as name=value.`);
    params[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return { ...params };
}

/** `--sandbox-file`, else the nearest sandbox.yaml in FILE's folder or above it. */
export function findSandboxFile(file: string, opts: TargetOptions): string | undefined {
  if (opts.sandboxFile) return resolve(opts.sandboxFile);
  let dir = dirname(resolve(file));
  for (;;) {
    const candidate = join(dir, 'sandbox.yaml');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Engine options for real AWS: region and credentials from the standard chain. */
export function awsEngineOptions(role: string | undefined, iamRevocation: boolean | undefined): Omit<EngineOptions, 'dataDir'> {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new RbError('RB_ERR_CLI_USAGE', 'With --aws, set the region: AWS_REGION=eu-west-1 (or AWS_DEFAULT_REGION).');
  if (!role) throw new RbError('RB_ERR_CLI_USAGE', 'With --aws, name the role each step assumes: --role arn:aws:iam::<account>:role/<name> (or access.role in the runbook).');
  return { region, defaultRoleArn: role, iamRevocation: Boolean(iamRevocation) };
}

/** Engine options for the local sandbox: its endpoint, base principal and first role; IAM revocation on. */
export function sandboxEngineOptions(sandbox: Sandbox, role: string | undefined): Omit<EngineOptions, 'dataDir'> {
  return {
    region: sandbox.region,
    account: sandbox.account,
    endpoint: sandbox.endpoint,
    credentials: sandbox.baseCredentials,
    defaultRoleArn: role ?? sandbox.roles[0].arn,
    iamRevocation: true,
  };
}

export interface Target {
  engine: RunEngine;
  /** closes the engine (revoking active runs) and stops the sandbox it started, if any */
  close(): Promise<void>;
}

/** Opens the engine: against the sandbox by default, against AWS (standard chain) with `--aws`. */
export async function openTarget(file: string, opts: TargetOptions, progress: (line: string) => void): Promise<Target> {
  const { RunEngine } = await import('../runs/engine.js');
  const dataDir = resolve(opts.data ?? './.runbooks');
  const auditKeyPath = opts.auditKey ? resolve(opts.auditKey) : undefined;
  const store = storeOption(opts);
  const redact = redactOption(opts.redact);
  if (opts.aws) {
    const role = opts.role ?? (await loadRunbookFile(file)).runbook?.access.role;
    const engine = await RunEngine.create({ ...awsEngineOptions(role, opts.iamRevocation), dataDir, auditKeyPath, idleTimeoutMs: 0, store, redact });
    return { engine, close: () => engine.close() };
  }
  const sandboxFile = findSandboxFile(file, opts);
  if (!sandboxFile) {
    throw new RbError('RB_ERR_CONFIG_INVALID', `No sandbox.yaml in ${dirname(file)} or above it: pass --sandbox-file PATH, or --aws to use AWS.`);
  }
  progress(`starting the local sandbox (${relative(process.cwd(), sandboxFile) || sandboxFile})…`);
  const { startSandbox } = await import('./local-sandbox.js');
  const sandbox = await startSandbox({ sandboxFile, ...(store ? { storePrefix: store.prefix } : {}) });
  try {
    const engine = await RunEngine.create({ ...sandboxEngineOptions(sandbox, opts.role), dataDir, auditKeyPath, idleTimeoutMs: 0, store, redact });
    return {
      engine,
      close: async () => {
        await engine.close();
        await sandbox.stop();
      },
    };
  } catch (err) {
    await sandbox.stop();
    throw err;
  }
}

/** Prints a bad-input error (no stack) and returns exit code 2. */
export function reportBadInput(err: unknown): number {
  if (isRbError(err)) {
    process.stderr.write(`runbooks: ${err.message}\n`);
    const details = err.details as { params?: Array<{ param: string; message: string }> } | undefined;
    for (const p of details?.params ?? []) process.stderr.write(`  --param ${p.param}: ${p.message}\n`);
  } else {
    process.stderr.write(`runbooks: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  return 2;
}
