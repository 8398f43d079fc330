/**
 * Server replicas on one DynamoDB store, one of them killed under load:
 * `npm run bench:replicas [-- --replicas 3 --runs 50 --steps 5 --kill 1 --kill-at 0.5 --restart-after 500
 *   --overhead 200 --batch 20 --timeout 540 --server CHECKOUT --keep]` (`--kill -1`: no replica killed;
 * `--overhead 0`: no store comparison; `--server`: another checkout's built server; `--keep`: keep
 * the temporary folder)
 *
 * The bench starts the sandbox in its own process (DynamoDB Local is a JVM of its own; the gateway,
 * STS/IAM/DynamoDB, runs here) with the run store's tables under a prefix of its own, and spawns the
 * built server (`runbooks serve DIR --aws --store dynamodb --store-prefix P`) as `--replicas`
 * processes, pointed at the gateway through AWS_ENDPOINT_URL and the base credentials, all with one
 * XDG_CONFIG_HOME (the audit signing key is there, and every replica must sign with the same one).
 *
 * 1. Replicas under load. `--runs` runs are started at once, then their `--steps` steps executed
 *    (one after another within a run, the runs concurrently), then completed and read back once
 *    each; every request goes to a replica picked at random. When `--kill-at` of the executes have
 *    been answered, replica `--kill` is SIGKILLed and, `--restart-after` ms later, started again with
 *    the same arguments (a new port: the bench's balancer follows it). A request that fails at
 *    connection level (refused, reset: the replica died) is sent again to another replica, as a load
 *    balancer would; those are counted apart from errors, which are the non-2xx answers (by route
 *    and code) and executes answered 200 whose execution did not succeed. A route's latency is
 *    the client's: from the first attempt to the answer.
 *    One WebSocket viewer per replica (`WS /api/events`), reconnected after the restart. For each
 *    `step.succeeded`, the delay from the execute's HTTP answer to the event's arrival at each viewer
 *    of another replica that was connected at the answer (the contract: within 1 s); a viewer
 *    connected from the answer through the second after it that never gets the event is a miss.
 *    The latest deliveries are listed with the run's executes that were sent again.
 * 2. Once every run is completed: lost records — executes answered 200 whose execution is not in
 *    the run as each replica serves it (GET /api/runs/:id), or whose `step.executed` audit record is
 *    not in the `<P>audit` table; expected 0. The replicas' CPU and RSS are read from /proc, then
 *    they are stopped with SIGTERM (so the chain's last digest is signed) and
 *    `runbooks audit verify --store dynamodb --store-prefix P --json` gives its verdict.
 * 3. The per-execution overhead of the DynamoDB store against the file store, in the same run: one
 *    replica on the store and one server with the default file store (`--data DIR`, IAM revocation
 *    on too, so that the store is the only difference), the same runbook; executes one at a time
 *    (c = 1), `--overhead` on each, in alternating batches of `--batch` (the first of each pair
 *    alternating too) so that the machine's drift hits both alike. Then the chain is verified again.
 *
 * Besides: the CPU of the replicas, of this process (gateway and clients), of DynamoDB Local and of
 * the whole machine (/proc/stat) over the execute phase and over the comparison, so that what other
 * processes took meanwhile is reported; and the gateway's answers over the execute phase by
 * operation (its `request` events watched, nothing changed), per execute answered 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { Agent, Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startSandbox, type Sandbox } from '../server/cli/local-sandbox.js';
import { readAuditChain } from '../server/runs/dynamo-audit.js';
import {
  checkBuilt,
  cpuOf,
  liveServers,
  measuredServeArgs,
  median,
  memoryOf,
  numberOption,
  option,
  ordersRunbook,
  quantile,
  sandboxEnv,
  serverRequest,
  spawnServer,
  TICK_MS,
  wsOpen,
  type ServerProcess,
} from './common.js';

// The SDK clients of the gateway and the bench run on Node 20 as the server does: no notice each time.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const REPLICAS = numberOption('replicas', 3);
const RUNS = numberOption('runs', 50);
const STEPS = numberOption('steps', 5);
/** the replica SIGKILLed (index from 0); -1: none */
const KILL = numberOption('kill', 1);
const KILL_AT = numberOption('kill-at', 0.5);
const RESTART_AFTER_MS = numberOption('restart-after', 500);
const OVERHEAD = numberOption('overhead', 200);
const BATCH = numberOption('batch', 20);
const TIMEOUT_S = numberOption('timeout', 540);
const KEEP = process.argv.includes('--keep');
// Another checkout's built server (its bin/runbooks.js and dist/), e.g. HEAD's built in a temporary
// folder while the working tree is being edited; the sandbox is this checkout's either way.
const SERVER = option('server');
/** how long, after the last execute's answer, the viewers get to receive their events */
const EVENT_GRACE_MS = 5000;
/** a request with no answer after this is an error (`timeout`) */
const REQUEST_TIMEOUT_MS = 60_000;
const TOKEN = `bench-${randomBytes(20).toString('hex')}`;
if (KILL >= REPLICAS) throw new Error(`--kill ${KILL}: there are ${REPLICAS} replicas (0…${REPLICAS - 1}), or -1 for none`);
if (BATCH % STEPS !== 0) throw new Error(`--batch ${BATCH}: a multiple of --steps ${STEPS} (a batch is whole runs)`);

const { text: RUNBOOK, names: NAMES } = ordersRunbook('Replicas bench', STEPS);
const START_BODY = { runbook: 'bench', params: { customerId: 'C1001' } };

// -- measuring ------------------------------------------------------------------------------------

/** The machine's busy and total CPU time so far, ms over all cores (from /proc/stat). */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0) * TICK_MS;
  const idle = (f[3] + f[4]) * TICK_MS;
  return { busy: total - idle, total };
}

/** This process's CPU (the gateway and the bench), ms. */
const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (x: number, d = 1) => (Number.isFinite(x) ? `${x.toFixed(d)} ms` : '–');

// -- what the gateway (in this process) answered ------------------------------------------------

/**
 * Every request the sandbox's gateway answers, tallied by operation: DynamoDB's from X-Amz-Target,
 * STS and IAM together. The gateway is an http.Server of this process; its 'request' events are
 * watched (status, error type from the answer's first bytes, time to the answer's end), nothing
 * changed. Tallied between `tally.on()` and `tally.off()`.
 */
interface OpTally {
  n: number;
  ms: number[];
  errors: Map<string, number>;
}
const tally = {
  active: false,
  ops: new Map<string, OpTally>(),
  on() {
    this.ops.clear();
    this.active = true;
  },
  off() {
    this.active = false;
    return new Map(this.ops);
  },
};
const emit = HttpServer.prototype.emit;
HttpServer.prototype.emit = function (this: HttpServer, event: string | symbol, ...rest: unknown[]): boolean {
  if (event === 'request' && tally.active) watch(rest[0] as IncomingMessage, rest[1] as ServerResponse);
  return (emit as (this: HttpServer, event: string | symbol, ...args: unknown[]) => boolean).call(this, event, ...rest);
} as typeof emit;

function watch(req: IncomingMessage, res: ServerResponse): void {
  const t = performance.now();
  const target = req.headers['x-amz-target'];
  const op = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : 'STS/IAM';
  let head = '';
  const capture = (chunk: unknown) => {
    if (res.statusCode >= 400 && head.length < 300 && chunk) head += Buffer.isBuffer(chunk) ? chunk.toString('utf8', 0, 300) : typeof chunk === 'string' ? chunk.slice(0, 300) : '';
  };
  const write = res.write;
  res.write = function (this: ServerResponse, chunk: unknown, ...more: unknown[]) {
    capture(chunk);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...more);
  } as typeof res.write;
  const end = res.end;
  res.end = function (this: ServerResponse, chunk?: unknown, ...more: unknown[]) {
    if (typeof chunk !== 'function') capture(chunk);
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...more);
  } as typeof res.end;
  res.once('finish', () => {
    if (!tally.active) return;
    let entry = tally.ops.get(op);
    if (!entry) tally.ops.set(op, (entry = { n: 0, ms: [], errors: new Map() }));
    entry.n++;
    entry.ms.push(performance.now() - t);
    if (res.statusCode >= 400) {
      const type = /"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(head)?.[1] ?? /<Code>([^<]+)<\/Code>/.exec(head)?.[1] ?? 'unknown';
      const key = `${res.statusCode} ${type}`;
      entry.errors.set(key, (entry.errors.get(key) ?? 0) + 1);
    }
  });
}

// -- server processes -----------------------------------------------------------------------------

/** Every other process the bench started and has not seen exit: the watchdog ends them with the servers. */
const children = new Set<ChildProcess>();

interface Proc extends ServerProcess {
  name: string;
  /** its arguments after `serve` */
  args: string[];
  agent: Agent;
  /** its stderr, line by line, with the bench's clock (s since start) */
  stderr: string[];
  alive: boolean;
  /** SIGKILLed by the bench (its connections fail from that moment, before its exit is seen) */
  killed?: boolean;
}

const began = performance.now();
const clock = () => ((performance.now() - began) / 1000).toFixed(1);

async function spawnRunbooks(name: string, serveArgs: string[], env: NodeJS.ProcessEnv): Promise<Proc> {
  const stderr: string[] = [];
  let partial = '';
  const onStderr = (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) stderr.push(`[${clock()} s] ${line}`);
  };
  const server = await spawnServer(serveArgs, { env, checkout: SERVER, onStderr, name });
  const proc: Proc = { ...server, name, args: serveArgs, agent: new Agent({ keepAlive: true, maxSockets: Infinity }), stderr, alive: true };
  void server.exited.then(() => (proc.alive = false));
  return proc;
}

async function stopProc(p: Proc, graceMs = 30_000): Promise<{ code: number | null; forced: boolean }> {
  p.agent.destroy();
  return p.stop(graceMs);
}

// -- HTTP -----------------------------------------------------------------------------------------

class ConnectionError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}
/** Failures that mean the server was not there (or went away mid-request): a balancer tries another. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

async function send(p: Proc, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  let res: { status: number; text: string };
  try {
    res = await serverRequest({ port: p.port, agent: p.agent, method, path, token: TOKEN, body, timeoutMs: REQUEST_TIMEOUT_MS });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw CONNECTION_CODES.has(code) ? new ConnectionError(code) : err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text || 'null');
  } catch {
    parsed = { unparsed: res.text.slice(0, 200) };
  }
  return { status: res.status, body: parsed };
}

// -- the bench ------------------------------------------------------------------------------------

if (!SERVER) checkBuilt();
const host = {
  cores: cpus().length,
  model: cpus()[0]?.model ?? '?',
  load: loadavg()
    .map((l) => l.toFixed(2))
    .join(' '),
};
const prefix = `rb-bench-${randomBytes(4).toString('hex')}-`;
const dir = await mkdtemp(join(tmpdir(), 'rb-bench-replicas-'));
const root = join(dir, 'runbooks');
await mkdir(root);
await copyFile('runbooks/sandbox.yaml', join(root, 'sandbox.yaml'));
await writeFile(join(root, 'bench.md'), RUNBOOK);
const config = join(dir, 'config');
await mkdir(config);

let sandbox: Sandbox | undefined;
const watchdog = setTimeout(() => {
  process.stderr.write(`\nbench: over --timeout ${TIMEOUT_S} s; stopping what it started\n`);
  for (const c of [...children, ...liveServers]) c.kill('SIGKILL');
  void sandbox?.stop().finally(() => process.exit(3));
}, TIMEOUT_S * 1000);

const replicas: Proc[] = [];
const others: Proc[] = [];
const viewers: Viewer[] = [];
let failed: unknown;
try {
  sandbox = await startSandbox({ sandboxFile: join(root, 'sandbox.yaml'), storePrefix: prefix });
  const sb = sandbox;
  const roleArn = sb.roles[0].arn;
  const env = sandboxEnv(sb, { XDG_CONFIG_HOME: config });
  const replicaArgs = (i: number) => [
    root,
    '--aws',
    '--store',
    'dynamodb',
    '--store-prefix',
    prefix,
    '--role',
    roleArn,
    '--data',
    join(dir, `data-${i}`),
    '--port',
    '0',
    '--token',
    TOKEN,
    '--idle-timeout',
    '0',
  ];
  const startedAt = performance.now();
  for (let i = 0; i < REPLICAS; i++) replicas.push(await spawnRunbooks(`replica ${i}`, replicaArgs(i), env));
  process.stderr.write(`bench: sandbox and ${REPLICAS} replicas up (${clock()} s; replicas ${((performance.now() - startedAt) / 1000).toFixed(1)} s), store prefix ${prefix}\n`);

  // -- viewers ------------------------------------------------------------------------------------
  /** arrival time at each replica's viewer of each step.succeeded, by `run/step/n` */
  const arrivals = new Map<string, Map<number, number>>();
  for (let i = 0; i < REPLICAS; i++) viewers.push(await connectViewer(i, replicas[i], arrivals));

  // -- the balancer -------------------------------------------------------------------------------
  const retries: Array<{ route: string; replica: number; code: string; dead: boolean }> = [];
  const errors = new Map<string, number>();
  /** the same routes' latencies of the requests that needed a connection retry, and of those that did not */
  const retried: Record<string, number[]> = { start: [], execute: [], complete: [], 'GET run': [] };
  const firstTry: Record<string, number[]> = { start: [], execute: [], complete: [], 'GET run': [] };
  const error = (route: string, what: string) => errors.set(`${route} ${what}`, (errors.get(`${route} ${what}`) ?? 0) + 1);

  /** A request to a random replica; another one when the connection fails. Latency into `route`. */
  async function balanced(
    route: string,
    method: string,
    path: string,
    body?: unknown,
    record = true,
  ): Promise<{ status: number; body: any; replica: number; at: number; retried: boolean } | undefined> {
    const t0 = performance.now();
    const tried = new Set<number>();
    let attempts = 0;
    for (;;) {
      let pool = replicas.map((_, i) => i).filter((i) => !tried.has(i));
      if (pool.length === 0) {
        tried.clear();
        pool = replicas.map((_, i) => i);
        await sleep(100);
      }
      const i = pool[Math.floor(Math.random() * pool.length)];
      const p = replicas[i];
      try {
        const res = await send(p, method, path, body);
        const at = performance.now();
        if (record) (attempts > 0 ? retried : firstTry)[route].push(at - t0);
        return { ...res, replica: i, at, retried: attempts > 0 };
      } catch (err) {
        if (!(err instanceof ConnectionError)) {
          error(route, (err as NodeJS.ErrnoException).code ?? String(err));
          return undefined;
        }
        retries.push({ route, replica: i, code: err.code, dead: !!p.killed || !p.alive });
        tried.add(i);
        if (++attempts > 30) {
          error(route, `gave up after ${attempts} connection failures`);
          return undefined;
        }
      }
    }
  }

  const describe = (res: { status: number; body: any }) => `${res.status} ${res.body?.error?.code ?? ''}`.trim();

  // -- 1. load, with a replica killed and restarted -----------------------------------------------
  const totalExecutes = RUNS * STEPS;
  let answered = 0;
  let kill: Promise<void> | undefined;
  const killInfo: { atExecute?: number; at?: number; restartMs?: number; restartError?: string; code?: number | null; viewerBackMs?: number } = {};
  /** the killed replica's CPU over the execute phase, up to the kill */
  let killedCpu = 0;
  const killReplica = async (i: number) => {
    const p = replicas[i];
    killInfo.atExecute = answered;
    killInfo.at = performance.now();
    p.killed = true;
    try {
      killedCpu = cpuOf(p.pid) - (cpu0.get(p.pid) ?? 0);
    } catch {
      // gone already
    }
    p.child.kill('SIGKILL');
    killInfo.code = await p.exited;
    p.agent.destroy();
    process.stderr.write(`bench: replica ${i} SIGKILLed after ${killInfo.atExecute} executes (${clock()} s)\n`);
    await sleep(RESTART_AFTER_MS);
    const t = performance.now();
    try {
      replicas[i] = await spawnRunbooks(`replica ${i}`, p.args, env);
      replicas[i].stderr.unshift(...p.stderr, `[${clock()} s] --- bench: SIGKILLed and restarted ---`);
      killInfo.restartMs = performance.now() - t;
      process.stderr.write(`bench: replica ${i} restarted in ${(killInfo.restartMs / 1000).toFixed(1)} s (${clock()} s)\n`);
      viewers[i] = await connectViewer(i, replicas[i], arrivals, viewers[i]);
      killInfo.viewerBackMs = performance.now() - killInfo.at;
    } catch (err) {
      killInfo.restartError = err instanceof Error ? err.message : String(err);
      process.stderr.write(`bench: replica ${i} did not restart: ${killInfo.restartError}\n`);
    }
  };

  const runIds: string[] = [];
  await Promise.all(
    Array.from({ length: RUNS }, async () => {
      const res = await balanced('start', 'POST', '/api/runs', START_BODY);
      if (!res) return;
      if (res.status !== 201) return error('start', describe(res));
      runIds.push(res.body.run.id as string);
    }),
  );
  process.stderr.write(`bench: ${runIds.length} runs started (${clock()} s)\n`);

  interface Answer {
    runId: string;
    step: string;
    n: number;
    replica: number;
    at: number;
    /** sent again after a connection failure */
    retried: boolean;
  }
  const executed: Answer[] = [];
  const cpu0 = new Map(replicas.map((p) => [p.pid, cpuOf(p.pid)]));
  const jvm = sb.dynamoLocalPid();
  const phase0 = { machine: machineCpu(), own: ownCpu(), jvm: jvm ? cpuOf(jvm) : NaN };
  tally.on();
  const t0 = performance.now();
  let lastAnswer = t0;
  await Promise.all(
    runIds.map(async (id) => {
      for (const name of NAMES) {
        const res = await balanced('execute', 'POST', `/api/runs/${id}/steps/${name}/execute`, {});
        answered++;
        if (KILL >= 0 && !kill && answered >= totalExecutes * KILL_AT) kill = killReplica(KILL);
        if (!res) continue;
        lastAnswer = res.at;
        if (res.status !== 200) error('execute', describe(res));
        else if (res.body.execution?.status !== 'succeeded') error('execute', `200 execution ${res.body.execution?.status} ${res.body.execution?.error?.code ?? ''}`.trim());
        else executed.push({ runId: id, step: name, n: res.body.execution.n, replica: res.replica, at: res.at, retried: res.retried });
      }
    }),
  );
  const executeWall = lastAnswer - t0;
  const phaseWall = performance.now() - t0;
  const ops = tally.off();
  const m1 = machineCpu();
  const phase = {
    replicas: killedCpu + replicas.reduce((sum, p) => sum + (p.alive ? cpuOf(p.pid) - (cpu0.get(p.pid) ?? 0) : 0), 0),
    own: ownCpu() - phase0.own,
    jvm: jvm && jvm === sb.dynamoLocalPid() ? cpuOf(jvm) - phase0.jvm : NaN,
    machineBusy: m1.busy - phase0.machine.busy,
    machineTotal: m1.total - phase0.machine.total,
  };
  await kill;
  process.stderr.write(`bench: ${executed.length} executes answered 200 (${clock()} s)\n`);

  await Promise.all(
    runIds.map(async (id) => {
      const res = await balanced('complete', 'POST', `/api/runs/${id}/complete`, {});
      if (res && res.status !== 200) error('complete', describe(res));
      const got = await balanced('GET run', 'GET', `/api/runs/${id}`);
      if (got && got.status !== 200) error('GET run', describe(got));
    }),
  );

  // The viewers' events: until every expected one is in, or the grace is over. A viewer of another
  // replica owes the event when it was connected from the answer to 1 s after it (the contract);
  // one connected at the answer that got it anyway counts in the delays too.
  const viewerSpans = (v: number) => viewers[v]?.spans ?? [];
  const connected = (v: number, from: number, to: number) => viewerSpans(v).some((s) => s.from <= from && (s.to ?? Infinity) >= to);
  const expected = (a: Answer, v: number) => v !== a.replica && connected(v, a.at, a.at + 1000);
  const pending = () => executed.filter((a) => replicas.some((_, v) => expected(a, v) && !arrivals.get(`${a.runId}/${a.step}/${a.n}`)?.has(v))).length;
  const graceEnd = performance.now() + EVENT_GRACE_MS;
  while (pending() > 0 && performance.now() < graceEnd) await sleep(100);

  const delays: number[] = [];
  const ownDelays: number[] = [];
  let missed = 0;
  let away = 0;
  let late = 0;
  const missedSamples: string[] = [];
  const lateSamples: Array<{ a: Answer; viewer: number; delay: number }> = [];
  for (const a of executed) {
    const got = arrivals.get(`${a.runId}/${a.step}/${a.n}`);
    for (let v = 0; v < REPLICAS; v++) {
      const t = got?.get(v);
      if (v === a.replica) {
        if (t !== undefined) ownDelays.push(t - a.at);
        continue;
      }
      if (t !== undefined && connected(v, a.at, a.at)) {
        delays.push(t - a.at);
        if (t - a.at > 1000) {
          late++;
          lateSamples.push({ a, viewer: v, delay: t - a.at });
        }
      } else if (!expected(a, v)) {
        away++;
      } else {
        missed++;
        if (missedSamples.length < 5)
          missedSamples.push(`${a.runId}/${a.step}/${a.n} answered by replica ${a.replica} at ${((a.at - began) / 1000).toFixed(1)} s, not at viewer ${v}`);
      }
    }
  }

  // -- 2. lost records ------------------------------------------------------------------------------
  // Runs that a start the dead replica made but never answered: still active, not ours.
  const listed = await balanced('list', 'GET', '/api/runs', undefined, false);
  const orphans: string[] = (listed?.body?.runs ?? [])
    .filter((r: { id: string; status: string }) => r.status === 'active' && !runIds.includes(r.id))
    .map((r: { id: string }) => r.id);
  for (const id of orphans) await balanced('complete', 'POST', `/api/runs/${id}/complete`, {}, false);

  const verifyGets: number[] = [];
  const views = new Map<string, Map<number, any>>();
  const queue = [...runIds];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        const seen = new Map<number, any>();
        for (let i = 0; i < replicas.length; i++) {
          const t = performance.now();
          try {
            const res = await send(replicas[i], 'GET', `/api/runs/${id}`);
            verifyGets.push(performance.now() - t);
            if (res.status === 200) seen.set(i, res.body.run);
            else error('GET run (check)', describe(res));
          } catch (err) {
            error('GET run (check)', (err as NodeJS.ErrnoException).code ?? String(err));
          }
        }
        views.set(id, seen);
      }
    }),
  );
  const audited = await auditedExecutions(sb, prefix);
  let lostInRun = 0;
  let lostInAudit = 0;
  const lostSamples: string[] = [];
  for (const a of executed) {
    const seen = views.get(a.runId) ?? new Map();
    for (let i = 0; i < replicas.length; i++) {
      const run = seen.get(i);
      const has = run?.executions?.some((e: { step: string; n: number; status: string }) => e.step === a.step && e.n === a.n && e.status === 'succeeded');
      if (!has) {
        lostInRun++;
        if (lostSamples.length < 5) lostSamples.push(`${a.runId}/${a.step}/${a.n} (answered by replica ${a.replica}) not in the run as replica ${i} serves it`);
      }
    }
    if (!audited.has(`${a.runId}/${a.step}/${a.n}`)) {
      lostInAudit++;
      if (lostSamples.length < 10) lostSamples.push(`${a.runId}/${a.step}/${a.n} (answered by replica ${a.replica}): no step.executed audit record`);
    }
  }
  // Executions recorded that no 200 answered: the dead replica's, whose answer never arrived.
  let unanswered = 0;
  const notCompleted: string[] = [];
  for (const id of runIds) {
    const run = views.get(id)?.get(0);
    if (!run) continue;
    if (run.status !== 'completed') notCompleted.push(`${id} ${run.status}`);
    for (const e of run.executions ?? []) if (!executed.some((a) => a.runId === id && a.step === e.step && a.n === e.n)) unanswered++;
  }

  const cpu = replicas.map((p) => (p.alive ? cpuOf(p.pid) - (cpu0.get(p.pid) ?? 0) : NaN));
  const memory = replicas.map((p) => (p.alive ? memoryOf(p.pid) : { rssMb: NaN, peakMb: NaN }));
  for (const v of viewers) v.close();
  const stops = await Promise.all(replicas.map((p) => stopProc(p)));
  const verify1 = await auditVerify(env, prefix, dir);

  // -- 3. DynamoDB store against the file store ---------------------------------------------------
  const measureOverhead = async () => {
    process.stderr.write(`bench: overhead, ${OVERHEAD} executes on each store (${clock()} s)\n`);
    const dynamo = await spawnRunbooks('dynamodb store', replicaArgs(REPLICAS), env);
    others.push(dynamo);
    const file = await spawnRunbooks('file store', measuredServeArgs({ root, roleArn, data: join(dir, 'file-data'), port: 0, token: TOKEN }), env);
    others.push(file);
    const m0 = machineCpu();
    const ours0 = ownCpu() + cpuOf(dynamo.pid) + cpuOf(file.pid) + (sb.dynamoLocalPid() ? cpuOf(sb.dynamoLocalPid()!) : 0);
    const w0 = performance.now();
    const overheadErrors = new Map<string, number>();
    const batch = async (p: Proc, runs: number, into: number[]) => {
      for (let r = 0; r < runs; r++) {
        const started = await send(p, 'POST', '/api/runs', START_BODY);
        if (started.status !== 201) throw new Error(`${p.name}: start ${describe(started)}`);
        const id = started.body.run.id as string;
        for (const name of NAMES) {
          const t = performance.now();
          const res = await send(p, 'POST', `/api/runs/${id}/steps/${name}/execute`, {});
          into.push(performance.now() - t);
          if (res.status !== 200 || res.body.execution?.status !== 'succeeded') {
            const k = `${p.name} ${describe(res)} ${res.body.execution?.status ?? ''}`.trim();
            overheadErrors.set(k, (overheadErrors.get(k) ?? 0) + 1);
          }
        }
        const done = await send(p, 'POST', `/api/runs/${id}/complete`, {});
        if (done.status !== 200) throw new Error(`${p.name}: complete ${describe(done)}`);
      }
    };
    await batch(dynamo, 2, []);
    await batch(file, 2, []);
    const onDynamo: number[] = [];
    const onFile: number[] = [];
    const batchMedians: Array<{ dynamo: number; file: number }> = [];
    const rounds = Math.ceil(OVERHEAD / BATCH);
    for (let r = 0; r < rounds; r++) {
      const d: number[] = [];
      const f: number[] = [];
      if (r % 2 === 0) {
        await batch(dynamo, BATCH / STEPS, d);
        await batch(file, BATCH / STEPS, f);
      } else {
        await batch(file, BATCH / STEPS, f);
        await batch(dynamo, BATCH / STEPS, d);
      }
      onDynamo.push(...d);
      onFile.push(...f);
      batchMedians.push({ dynamo: median(d), file: median(f) });
    }
    const m1 = machineCpu();
    const ours = ownCpu() + cpuOf(dynamo.pid) + cpuOf(file.pid) + (sb.dynamoLocalPid() ? cpuOf(sb.dynamoLocalPid()!) : 0) - ours0;
    const othersCores = (m1.busy - m0.busy - ours) / (performance.now() - w0);
    await stopProc(dynamo);
    await stopProc(file);
    const verify2 = await auditVerify(env, prefix, dir);
    return { onDynamo, onFile, batchMedians, rounds, overheadErrors, verify2, othersCores };
  };
  const overhead = OVERHEAD > 0 ? await measureOverhead() : undefined;

  // -- report -------------------------------------------------------------------------------------
  const totalRetries = retries.length;
  const retriesDead = retries.filter((r) => r.dead).length;
  const retryRoutes = Object.entries(retries.reduce<Record<string, number>>((acc, r) => ((acc[r.route] = (acc[r.route] ?? 0) + 1), acc), {}))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const retryCodes = Object.entries(retries.reduce<Record<string, number>>((acc, r) => ((acc[r.code] = (acc[r.code] ?? 0) + 1), acc), {}))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  const rate = (executed.length / executeWall) * 1000;
  console.log(`\nmachine: ${host.cores} cores (${host.model}), load average at start ${host.load}`);
  console.log(`${REPLICAS} replicas on one DynamoDB store (prefix ${prefix}); ${RUNS} concurrent runs × ${STEPS} steps (a Query of 3 items); every request to a random replica`);
  if (KILL >= 0) {
    console.log(
      `replica ${KILL} SIGKILLed after ${killInfo.atExecute} of ${totalExecutes} executes answered, at ${(((killInfo.at ?? began) - began) / 1000).toFixed(1)} s; ` +
        (killInfo.restartError
          ? `did NOT restart: ${killInfo.restartError}`
          : `restarted ${RESTART_AFTER_MS} ms later, listening after ${ms(killInfo.restartMs ?? NaN, 0)}; its viewer back ${ms(killInfo.viewerBackMs ?? NaN, 0)} after the kill`),
    );
  }
  console.log(`\nthroughput: ${rate.toFixed(1)} executes/s (${executed.length} executes answered 200 in ${(executeWall / 1000).toFixed(2)} s, the execute phase)`);
  console.log('\nroute        n     p50 ms   p99 ms   max ms  p99/p50  p99 ≤ 10× p50   (of which after a connection retry: n, p50, max)');
  const routeRows: Record<string, unknown> = {};
  for (const [route, first] of Object.entries(firstTry)) {
    const r = retried[route];
    const xs = [...first, ...r];
    const p50 = median(xs);
    const p99 = quantile(xs, 0.99);
    const max = Math.max(...xs);
    routeRows[route] = { n: xs.length, p50, p99, max, retried: r.length };
    console.log(
      `${route.padEnd(10)} ${String(xs.length).padStart(4)} ${p50.toFixed(1).padStart(9)} ${p99.toFixed(1).padStart(8)} ${max.toFixed(1).padStart(8)} ${(p99 / p50).toFixed(1).padStart(7)}×  ${p99 <= 10 * p50 ? 'yes' : 'NO '}             ${r.length ? `${r.length}, ${median(r).toFixed(0)} ms, ${Math.max(...r).toFixed(0)} ms` : '0'}`,
    );
  }
  const notRetried = firstTry.execute;
  console.log(`execute without the retried ones: n ${notRetried.length}, p50 ${ms(median(notRetried))}, p99 ${ms(quantile(notRetried, 0.99))}, max ${ms(Math.max(...notRetried))}`);
  console.log(
    `GET run, the check after the load (each run from each replica, 8 at once): n ${verifyGets.length}, p50 ${ms(median(verifyGets))}, p99 ${ms(quantile(verifyGets, 0.99))}`,
  );
  console.log(`\nerrors (non-2xx answers, failed executions): ${errorCount}${errorCount ? ` — ${[...errors].map(([k, v]) => `${k}: ${v}`).join('; ')}` : ''}`);
  console.log(
    `connection-level retries: ${totalRetries} (${retriesDead} to the dead replica, ${totalRetries - retriesDead} to a live one)${totalRetries ? ` — by route: ${retryRoutes}; by code: ${retryCodes}` : ''}`,
  );
  console.log(
    `runs: ${runIds.length} started, ${runIds.length - notCompleted.length} completed${notCompleted.length ? ` (NOT: ${notCompleted.slice(0, 5).join(', ')})` : ''}; runs started but never answered (completed by the bench): ${orphans.length}; executions recorded without a 200 answer: ${unanswered}`,
  );
  console.log(
    `lost records: ${lostInRun + lostInAudit} (not in the run as a replica serves it: ${lostInRun}; no audit record: ${lostInAudit}) of ${executed.length} executes answered 200`,
  );
  for (const s of lostSamples) console.log(`  ${s}`);
  console.log(
    `\nevent delays, execute's answer → step.succeeded at the other replicas' viewers: n ${delays.length}, p50 ${ms(median(delays))}, p99 ${ms(quantile(delays, 0.99))}, max ${ms(Math.max(...delays))}, min ${ms(Math.min(...delays))}; over 1 s: ${late}; missed: ${missed}; not owed (viewer away in the second after the answer): ${away}`,
  );
  for (const s of missedSamples) console.log(`  ${s}`);
  const sinceKill = (t: number) => (killInfo.at === undefined ? '' : `, ${((t - killInfo.at) / 1000).toFixed(1)} s after the kill`);
  for (const { a, viewer, delay } of lateSamples.sort((x, y) => y.delay - x.delay).slice(0, 8)) {
    const retriedHere = executed
      .filter((e) => e.runId === a.runId && e.retried)
      .map((e) => `${e.step} (answered by replica ${e.replica} at ${((e.at - began) / 1000).toFixed(1)} s)`);
    console.log(
      `  late: ${a.runId}/${a.step}/${a.n} answered by replica ${a.replica} at ${((a.at - began) / 1000).toFixed(1)} s${sinceKill(a.at)}, at viewer ${viewer} after ${delay.toFixed(0)} ms; ` +
        `the run's executes sent again after a connection failure: ${retriedHere.length ? retriedHere.join(', ') : 'none'}`,
    );
  }
  console.log(`  (at the answering replica's own viewer: n ${ownDelays.length}, p50 ${ms(median(ownDelays))}, p99 ${ms(quantile(ownDelays, 0.99))})`);
  const cores = (x: number) => `${(x / 1000).toFixed(1)} s (${(x / phaseWall).toFixed(2)} cores)`;
  console.log(
    `\nCPU over the execute phase (${(phaseWall / 1000).toFixed(1)} s): replicas ${cores(phase.replicas)}; ` +
      `this process (gateway, bench) ${cores(phase.own)}; DynamoDB Local ${cores(phase.jvm)}; whole machine ${cores(phase.machineBusy)} busy of ${(phase.machineTotal / phaseWall).toFixed(1)} cores, ` +
      `of which other processes than these ${cores(phase.machineBusy - phase.replicas - phase.own - (Number.isFinite(phase.jvm) ? phase.jvm : 0))}`,
  );
  console.log(`gateway calls over the execute phase, per execute answered 200 (p50 / p99 of the gateway's time to answer; errors by type):`);
  for (const [op, t] of [...ops].sort((a, b) => b[1].n - a[1].n)) {
    console.log(
      `  ${op.padEnd(16)} ${String(t.n).padStart(6)}  ${(t.n / executed.length).toFixed(2).padStart(6)}/execute  ${median(t.ms).toFixed(1).padStart(7)} / ${quantile(t.ms, 0.99).toFixed(1).padStart(7)} ms` +
        (t.errors.size ? `  ${[...t.errors].map(([k, v]) => `${k} ${v}`).join(', ')}` : ''),
    );
  }
  console.log(
    `replicas over the whole load (CPU since the execute phase began; the restarted one since its restart): ${replicas.map((p, i) => `${i}: CPU ${(cpu[i] / 1000).toFixed(1)} s, RSS ${memory[i].rssMb.toFixed(0)} MB (peak ${memory[i].peakMb.toFixed(0)})`).join('; ')}`,
  );
  console.log(`stopped with SIGTERM: ${stops.map((s, i) => `${i}: exit ${s.code}${s.forced ? ' (SIGKILLed after 30 s)' : ''}`).join(', ')}`);
  console.log(`audit verify --store dynamodb: exit ${verify1.code} ${verify1.out.trim()}\n  (by runbooks audit verify --store dynamodb)`);

  let overheadJson: Record<string, unknown> | null = null;
  if (overhead) {
    const { onDynamo, onFile, batchMedians, rounds, overheadErrors, verify2, othersCores } = overhead;
    const p50d = median(onDynamo);
    const p50f = median(onFile);
    console.log(
      `\nstore overhead, sequential executes (c = 1), ${rounds} alternating batches of ${BATCH} (other processes than these meanwhile: ${othersCores.toFixed(2)} cores):`,
    );
    console.log(`  dynamodb store  n ${onDynamo.length}  p50 ${ms(p50d, 2)}  p99 ${ms(quantile(onDynamo, 0.99), 2)}  mean ${ms(mean(onDynamo), 2)}`);
    console.log(`  file store      n ${onFile.length}  p50 ${ms(p50f, 2)}  p99 ${ms(quantile(onFile, 0.99), 2)}  mean ${ms(mean(onFile), 2)}`);
    console.log(
      `  difference per execution: p50 ${ms(p50d - p50f, 2)}, mean ${ms(mean(onDynamo) - mean(onFile), 2)}, median of the batch pairs' p50 differences ${ms(median(batchMedians.map((b) => b.dynamo - b.file)), 2)}`,
    );
    if (overheadErrors.size) console.log(`  errors: ${[...overheadErrors].map(([k, v]) => `${k}: ${v}`).join('; ')}`);
    console.log(`audit verify --store dynamodb after the overhead runs too: exit ${verify2.code} ${verify2.out.trim()}`);
    overheadJson = { dynamo: { p50: p50d, p99: quantile(onDynamo, 0.99) }, file: { p50: p50f, p99: quantile(onFile, 0.99) }, p50Difference: p50d - p50f, othersCores };
  }

  const notes = [...replicas, ...others].flatMap((p) =>
    p.stderr
      .filter((l) => !/runs and the audit chain in the DynamoDB tables|runs and the audit log in|SIGTERM: stopping|\] runbooks: stopped$|\] $/.test(l))
      .map((l) => `${p.name}: ${l}`),
  );
  if (notes.length) {
    console.log(`\nserver stderr (${notes.length} lines besides start and stop):`);
    for (const l of notes.slice(0, 40)) console.log(`  ${l.slice(0, 400)}`);
    if (notes.length > 40) console.log(`  … ${notes.length - 40} more`);
  }
  console.log(
    `\nwhole bench: ${((performance.now() - began) / 1000).toFixed(0)} s; load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    JSON.stringify({
      host,
      replicas: REPLICAS,
      runs: RUNS,
      steps: STEPS,
      kill: killInfo.at ? { ...killInfo, at: (killInfo.at - began) / 1000 } : null,
      rate,
      cpu: { ...phase, wall: phaseWall },
      gateway: Object.fromEntries([...ops].map(([op, t]) => [op, { n: t.n, p50: median(t.ms), p99: quantile(t.ms, 0.99), errors: Object.fromEntries(t.errors) }])),
      routes: routeRows,
      errors: Object.fromEntries(errors),
      retries: { total: totalRetries, dead: retriesDead },
      lost: { run: lostInRun, audit: lostInAudit },
      orphans: orphans.length,
      unanswered,
      events: { n: delays.length, p50: median(delays), p99: quantile(delays, 0.99), max: Math.max(...delays), late, missed, away },
      verify: verify1.code,
      overhead: overheadJson,
    }),
  );
} catch (err) {
  failed = err;
} finally {
  clearTimeout(watchdog);
  for (const v of viewers) v?.close();
  for (const p of [...replicas, ...others]) await stopProc(p, 10_000).catch(() => undefined);
  await sandbox?.stop();
  if (KEEP) process.stderr.write(`bench: kept ${dir}\n`);
  else await rm(dir, { recursive: true, force: true });
}
if (failed) {
  console.error(failed);
  process.exit(1);
}

// -- helpers that use the world -------------------------------------------------------------------

interface Viewer {
  spans: Array<{ from: number; to?: number }>;
  close(): void;
}

/** A viewer of replica `i`'s events; `previous`: the viewer it replaces (its spans are kept). */
async function connectViewer(i: number, p: Proc, arrivals: Map<string, Map<number, number>>, previous?: Viewer): Promise<Viewer> {
  const { socket, status, error } = await wsOpen(`ws://127.0.0.1:${p.port}/api/events`, { authorization: `Bearer ${TOKEN}` });
  if (!socket) throw new Error(`${p.name}: WS /api/events ${status ?? error}`);
  const spans = previous?.spans ?? [];
  const span: { from: number; to?: number } = { from: performance.now() };
  socket.on('message', (data) => {
    const t = performance.now();
    const event = JSON.parse(String(data)) as { type: string; runId?: string; step?: string; execution?: { n: number } };
    if (event.type !== 'step.succeeded' || !event.runId || !event.step || !event.execution) return;
    const key = `${event.runId}/${event.step}/${event.execution.n}`;
    let at = arrivals.get(key);
    if (!at) arrivals.set(key, (at = new Map()));
    if (!at.has(i)) at.set(i, t);
  });
  socket.on('close', () => {
    span.to ??= performance.now();
  });
  spans.push(span);
  return { spans, close: () => socket.close() };
}

/** `run/step/n` of every step.executed record in the store's audit chain. */
async function auditedExecutions(sb: Sandbox, storePrefix: string): Promise<Set<string>> {
  const client = new DynamoDBClient({ region: sb.region, endpoint: sb.endpoint, credentials: sb.baseCredentials });
  const out = new Set<string>();
  try {
    for (const line of (await readAuditChain(client, storePrefix)).lines) {
      const record = JSON.parse(line) as { type: string; runId?: string; data?: { step?: string; n?: number } };
      if (record.type === 'step.executed') out.add(`${record.runId}/${record.data?.step}/${record.data?.n}`);
    }
  } finally {
    client.destroy();
  }
  return out;
}

/** `runbooks audit verify --store dynamodb --json`, with the replicas' environment. */
async function auditVerify(env: NodeJS.ProcessEnv, storePrefix: string, base: string): Promise<{ code: number | null; out: string }> {
  const argv = [join(SERVER ?? '.', 'bin/runbooks.js'), 'audit', 'verify', '--store', 'dynamodb', '--store-prefix', storePrefix, '--data', join(base, 'verify'), '--json'];
  const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  children.delete(child);
  return { code, out };
}
