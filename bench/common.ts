/**
 * What the benches share: their options, the steps of their runbooks, the built server spawned on
 * the sandbox, its CPU and memory from /proc, quantiles, the check that dist/ is current (the
 * benches that spawn the server run the build, not the sources), and a WebSocket opener and a
 * headless Chromium (the tests use them too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest, type Agent } from 'node:http';
import { join, relative } from 'node:path';
import type { Browser } from 'playwright-core';
import { WebSocket } from 'ws';
import type { Sandbox } from '../server/cli/local-sandbox.js';

const ARGS = process.argv.slice(2);

/** The value after `--name` on the command line, if it is there. */
export function option(name: string): string | undefined {
  const i = ARGS.indexOf(`--${name}`);
  return i === -1 ? undefined : ARGS[i + 1];
}

/** The number after `--name`, or `fallback` without it; anything but a number is refused. */
export function numberOption(name: string, fallback: number): number {
  const v = Number(option(name) ?? fallback);
  if (!Number.isFinite(v)) throw new Error(`--${name}: a number`);
  return v;
}

/** A step that queries the orders of `{{customerId}}` (C1001 has 3 in runbooks/sandbox.yaml); `options` join the name in its fence. */
export function ordersStep(name: string, options: Record<string, unknown> = {}): string {
  return `\`\`\`dynamodb ${JSON.stringify({ name, ...options })}
operation: Query
TableName: Orders
KeyConditionExpression: "pk = :pk"
ExpressionAttributeValues:
  ":pk": "CUSTOMER#{{customerId}}"
\`\`\`
`;
}

/** A runbook of `steps` such steps, orders-1…orders-N, with the parameter customerId: its text and its step names. */
export function ordersRunbook(title: string, steps: number): { text: string; names: string[] } {
  const names = Array.from({ length: steps }, (_, i) => `orders-${i + 1}`);
  const text = `---
title: ${title}
params:
  customerId: { type: string }
---
# Orders of a customer, ${steps} times
${names.map((name) => ordersStep(name)).join('\n')}`;
  return { text, names };
}

/** A step that reads the customer `{{customerId}}`. */
export function customerStep(name: string): string {
  return `\`\`\`dynamodb ${JSON.stringify({ name })}
operation: GetItem
TableName: Customers
Key:
  customerId: "{{customerId}}"
\`\`\`
`;
}

export const TICK_MS = 1000 / 100; // USER_HZ: /proc reports CPU time in clock ticks of 10 ms

/** user and system CPU of a process, ms (from /proc/<pid>/stat: fields 14 and 15). */
export function cpuPartsOf(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * TICK_MS, system: Number(fields[12]) * TICK_MS };
}

/** user + system CPU of a process, ms. */
export function cpuOf(pid: number): number {
  const { user, system } = cpuPartsOf(pid);
  return user + system;
}

/** A process's resident memory now and at its peak, MB (from /proc/<pid>/status). */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** The sample at quantile `p` (nearest rank); NaN for none. */
export function quantile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

export const median = (xs: number[]) => quantile(xs, 0.5);

/** The built server must be current: the bench runs dist/, not the sources. */
export function checkBuilt(): void {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const built = join('dist', relative('.', path)).replace(/\.ts$/, '.js');
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(path).mtimeMs) stale.push(path);
      }
    }
  };
  walk('server');
  if (stale.length > 0) throw new Error(`dist/ is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}: run \`npm run build\` first`);
}

/**
 * The environment of a server spawned on the sandbox: this process's without its AWS_ and RUNBOOKS_
 * settings, the sandbox's endpoint, region and base credentials as the standard AWS variables, and
 * `extra`.
 */
export function sandboxEnv(sandbox: Sandbox, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_') || k.startsWith('RUNBOOKS_')) delete env[k];
  return {
    ...env,
    AWS_REGION: sandbox.region,
    AWS_ACCESS_KEY_ID: sandbox.baseCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: sandbox.baseCredentials.secretAccessKey,
    AWS_ENDPOINT_URL: sandbox.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** the port of the URL it printed */
  port: number;
  /** its exit code once it exited; -1 when a signal ended it */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`: its exit code, and whether it had to be killed */
  stop(graceMs?: number): Promise<{ code: number | null; forced: boolean }>;
}

/**
 * The arguments of `runbooks serve` for the one server a bench measures on the sandbox: `root` on
 * AWS as `roleArn` with IAM revocation on, its data folder `data` holding an audit key of its own,
 * `port` and `token`, and no idle timeout.
 */
export function measuredServeArgs(opts: { root: string; roleArn: string; data: string; port: number; token: string }): string[] {
  return [
    opts.root,
    '--aws',
    '--role',
    opts.roleArn,
    '--iam-revocation',
    '--data',
    opts.data,
    '--audit-key',
    join(opts.data, 'bench-audit-key.pem'),
    '--port',
    String(opts.port),
    '--token',
    opts.token,
    '--idle-timeout',
    '0',
  ];
}

/** Every server spawnServer started that has not exited yet: what a bench's watchdog ends. */
export const liveServers = new Set<ChildProcess>();

/**
 * Spawns the built server, `node [nodeFlags] BIN serve ARGS…` (BIN: bin/runbooks.js of this checkout
 * or of `checkout`), and resolves once it printed its URL. Both pipes are drained as long as it
 * lives (a full pipe would block it): stderr goes to `onStderr` as it comes, and its end is in the
 * error when the server exits before printing its URL, or prints none within `timeoutMs` (then it
 * is killed).
 */
export async function spawnServer(
  args: string[],
  opts: { env: NodeJS.ProcessEnv; checkout?: string; nodeFlags?: string[]; onStderr?: (text: string) => void; timeoutMs?: number; name?: string },
): Promise<ServerProcess> {
  const name = opts.name ?? 'the server';
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), join(opts.checkout ?? '.', 'bin/runbooks.js'), 'serve', ...args], {
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveServers.add(child);
  let errors = '';
  child.stderr.on('data', (d: Buffer) => {
    errors = (errors + d.toString()).slice(-4000);
    opts.onStderr?.(d.toString());
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      liveServers.delete(child);
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    let listening = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} printed no URL within ${timeoutMs / 1000} s: ${errors}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      if (listening) return;
      out += d.toString();
      const m = /^\s+http:\/\/127\.0\.0\.1:(\d+)\/\?token=/m.exec(out);
      if (m) {
        listening = true;
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening: ${errors}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    port,
    exited,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return { code: await exited, forced: false };
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
      const code = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (code !== 'late') return { code, forced: false };
      child.kill('SIGKILL');
      return { code: await exited, forced: true };
    },
  };
}

export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet headless Chromium on a closed network: no background requests at all. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless Chromium (CHROMIUM), each launch with a fresh temporary profile. */
export async function launchBrowser(): Promise<Browser> {
  // Imported when needed: most benches, and the tests that take wsOpen from here, use no browser.
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A WebSocket upgrade: opened (with its socket), or refused with the HTTP status it got, or failed with its error. */
export function wsOpen(url: string | URL, headers: Record<string, string>): Promise<{ opened: boolean; status?: number; error?: string; socket?: WebSocket }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.on('open', () => resolve({ opened: true, socket }));
    socket.on('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode });
      res.resume();
      socket.terminate();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ opened: false, error: err.code ?? err.message }));
  });
}

/**
 * One request to a server on 127.0.0.1 over `agent`, with a bearer `token` and a JSON `body` (or a
 * `raw` one of `contentType`): its status, content type and text. It fails with the connection's
 * error (its code: ECONNREFUSED, ECONNRESET…), or TIMEOUT when the socket is idle for `timeoutMs`.
 */
export function serverRequest(opts: {
  port: number;
  agent: Agent;
  method: string;
  path: string;
  token?: string;
  body?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  timeoutMs?: number;
}): Promise<{ status: number; contentType: string; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = opts.raw !== undefined ? Buffer.from(opts.raw) : opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: opts.port,
        method: opts.method,
        path: opts.path,
        agent: opts.agent,
        ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(payload ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}
