// Runs the installed command (bin/runbooks.js → dist/) as a user would, for the serve and audit tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

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

/**
 * The standard AWS environment pointed at the suite's shared sandbox, as for a real account (and the
 * suite's config folder, where the audit signing key lives).
 */
export function sandboxAwsEnv(): NodeJS.ProcessEnv {
  const info = inject('sandbox');
  return cleanEnv({
    AWS_ENDPOINT_URL: info.endpoint,
    AWS_REGION: info.region,
    AWS_ACCESS_KEY_ID: info.accessKeyId,
    AWS_SECRET_ACCESS_KEY: info.secretAccessKey,
    ...(process.env.XDG_CONFIG_HOME ? { XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME } : {}),
  });
}

/** Runs the command to its end. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServeProcess {
  child: ChildProcess;
  url: URL;
  token: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `runbooks serve …` and resolves once it printed its URL. */
export function startServe(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve printed no URL within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.stdout!.on('data', (d) => {
      stdout += d;
      const m = /^ {2}(http:\/\/\S+\/\?token=([0-9a-zA-Z._~+=-]+))$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: new URL(m[1]), token: m[2], stdout: () => stdout, stderr: () => stderr, exited });
      }
    });
    child.stderr!.on('data', (d) => (stderr += d));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before printing its URL\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}
