// Runs the installed command (bin/runbooks.js → dist/) as a user would: the one way the tests spawn it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sandboxInfo, type SandboxInfo } from './sandbox.js';

export const BIN = fileURLToPath(new URL('../../bin/runbooks.js', import.meta.url));
const COMPILED = fileURLToPath(new URL('../../dist/server/cli/main.js', import.meta.url));

export function requireBuild(): void {
  if (!existsSync(COMPILED)) throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
}

/** Environment without the caller's AWS settings or runbooks flags, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AWS_') && !k.startsWith('RUNBOOKS_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/** The standard AWS variables pointed at a sandbox (default: the suite's shared one), as for a real account. */
export function awsVars(info: SandboxInfo = sandboxInfo()): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: info.endpoint,
    AWS_REGION: info.region,
    AWS_ACCESS_KEY_ID: info.accessKeyId,
    AWS_SECRET_ACCESS_KEY: info.secretAccessKey,
  };
}

/**
 * A clean environment with the standard AWS variables pointed at a sandbox (default: the suite's
 * shared one); it keeps the suite's config folder (XDG_CONFIG_HOME), where the audit signing key lives.
 */
export function sandboxAwsEnv(info: SandboxInfo = sandboxInfo()): NodeJS.ProcessEnv {
  return cleanEnv(awsVars(info));
}

export interface CliOptions {
  /** default: cleanEnv() */
  env?: NodeJS.ProcessEnv;
  /** the working folder; default: this process's */
  cwd?: string;
  /** SIGKILLed after this long (its code is then null) */
  timeoutMs?: number;
}

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** its exit code, once it exited (null when a signal ended it) */
  exited: Promise<number | null>;
  /** its exit code, once it exited and its output was read to the end */
  closed: Promise<number | null>;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the command and returns at once; its output is gathered as it comes. */
export function spawnCli(args: string[], options: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: options.env ?? cleanEnv(), cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  const closed = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  // A failure to start is the caller's to see when it awaits `closed` (runCli does), not an unhandled rejection.
  closed.catch(() => undefined);
  return { child, stdout: () => stdout, stderr: () => stderr, exited, closed };
}

/** Runs the command to its end. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), options: Omit<CliOptions, 'env'> = {}): Promise<CliResult> {
  const cli = spawnCli(args, { ...options, env });
  const code = await cli.closed;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

export interface ServeProcess extends Omit<CliProcess, 'closed'> {
  url: URL;
  token: string;
}

/** Starts `runbooks serve …` and resolves once it printed its URL. */
export function startServe(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ServeProcess> {
  const { closed: _closed, ...serve } = spawnCli(['serve', ...args], { env });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      serve.child.kill('SIGKILL');
      reject(new Error(`serve printed no URL within ${timeoutMs} ms\nstdout: ${serve.stdout()}\nstderr: ${serve.stderr()}`));
    }, timeoutMs);
    serve.child.stdout!.on('data', () => {
      const m = /^ {2}(http:\/\/\S+\/\?token=([0-9a-zA-Z._~+=-]+))$/m.exec(serve.stdout());
      if (m) {
        clearTimeout(timer);
        resolve({ ...serve, url: new URL(m[1]), token: m[2] });
      }
    });
    void serve.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before printing its URL\nstdout: ${serve.stdout()}\nstderr: ${serve.stderr()}`));
    });
  });
}
