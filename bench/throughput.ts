/**
 * One server under concurrent runs:
 * `npm run bench:throughput [-- --rounds 5 --concurrency 1,50,200 --profile DIR --server CHECKOUT]`
 * (`--profile` writes the server's CPU profile there; `--server` runs another checkout's built server).
 *
 * The bench starts the sandbox in its own process (DynamoDB Local is a JVM of its own; the gateway,
 * STS/IAM/DynamoDB, runs here) and spawns the built server (`runbooks serve --aws`, pointed at the
 * gateway through AWS_ENDPOINT_URL, IAM revocation on as `runbooks serve` has it with the sandbox).
 * So the server's process holds the server's work and nothing else, and its CPU time, RSS and open
 * sockets are read from /proc/<pid> without subtracting anything.
 *
 * At each concurrency c (1, 50, 200), two paths run in alternating batches, direct first, so that
 * the machine's load drifts alike for both:
 *   direct  c workers, each doing 5 steps with the SDK alone: AssumeRole with the step's session
 *           policy, tags and SourceIdentity, then the Query (3 items) with those credentials
 *           (one STS client; a DynamoDB client per session on one shared connection pool)
 *   http    c runs started at once, then their 5 steps (POST …/execute, one after another within a
 *           run, the c runs concurrently), then completed at once
 * steps/s is over the execute phase only (every worker busy); a run's start and completion are timed
 * apart. Server CPU per step is the server process's user + system time over the execute phase
 * divided by its steps (and, separately, over start + execute + complete).
 *
 * First of all, on the fresh server, one run executes a step 300 times in a row; the server's open sockets are
 * counted from /proc/<pid>/fd then, and classified from /proc/net/tcp (listening, connections from
 * the bench, connections to the gateway).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { deriveSessionPolicy } from '../server/access/derive-policy.js';
import { parseRunbook } from '../server/runbook/parse.js';
import { renderStep } from '../server/runbook/render.js';
import { startSandbox, type Sandbox } from '../server/cli/local-sandbox.js';
import {
  checkBuilt,
  cpuOf,
  cpuPartsOf,
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
  type ServerProcess,
} from './common.js';

const ROUNDS = numberOption('rounds', 5);
const LEVELS = (option('concurrency') ?? '1,50,200').split(',').map(Number);
const PROFILE = option('profile');
// Another checkout's built server (its bin/runbooks.js), to compare with this one's.
const SERVER = option('server');
const STEPS = 5;
const REPEATS = 300;
// At c = 1 one run is 5 samples: each batch runs this many runs one after another instead.
const RUNS_AT_ONE = 10;

const { text: RUNBOOK, names: NAMES } = ordersRunbook('Throughput bench', STEPS);

// -- measuring ------------------------------------------------------------------------------------

/** The process's open sockets, by what they connect: from its fds and /proc/net/tcp{,6}. */
function socketsOf(pid: number, ports: { server: number; gateway: number }): Record<string, number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const out: Record<string, number> = { total: inodes.size, listening: 0, 'from the bench': 0, 'to the gateway': 0, other: 0 };
  const seen = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]) || seen.has(f[9])) continue;
      seen.add(f[9]);
      const local = parseInt(f[1].split(':')[1], 16);
      const remote = parseInt(f[2].split(':')[1], 16);
      if (f[3] === '0A') out.listening++;
      else if (local === ports.server) out['from the bench']++;
      else if (remote === ports.gateway) out['to the gateway']++;
      else out.other++;
    }
  }
  out.other += inodes.size - seen.size; // unix sockets and the like
  return out;
}

// -- the server, over HTTP ------------------------------------------------------------------------

interface Server extends ServerProcess {
  call(method: string, path: string, body?: unknown, agent?: Agent): Promise<{ status: number; body: any }>;
}

async function startServer(opts: { root: string; data: string; sandbox: Sandbox; roleArn: string; agent: Agent }): Promise<Server> {
  const token = randomBytes(24).toString('hex');
  const server = await spawnServer(measuredServeArgs({ ...opts, port: 0, token }), {
    env: sandboxEnv(opts.sandbox),
    checkout: SERVER,
    nodeFlags: PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : [],
  });
  const call = async (method: string, path: string, body?: unknown, agent = opts.agent) => {
    const res = await serverRequest({ port: server.port, agent, method, path, token, body });
    return { status: res.status, body: JSON.parse(res.text || 'null') };
  };
  return { ...server, call };
}

// -- the two paths --------------------------------------------------------------------------------

interface Batch {
  steps: number;
  /** execute phase (ms) */
  wall: number;
  /** each step's latency: one POST …/execute, or one AssumeRole + Query (ms) */
  latencies: number[];
  /** the server's CPU over the execute phase, and over start + execute + complete (ms) */
  serverCpu: number;
  /** the kernel's part of serverCpu (system time: syscalls, the file system, loopback TCP) */
  serverSystem: number;
  serverCpuWhole: number;
  /** this process's CPU (gateway, clients) over the execute phase (ms) */
  benchCpu: number;
  start?: number[];
  complete?: number[];
}

async function timed<T>(fn: () => Promise<T>, into: number[]): Promise<T> {
  const t = performance.now();
  const out = await fn();
  into.push(performance.now() - t);
  return out;
}

async function httpBatch(server: Server, c: number, runsPerWorker: number): Promise<Batch> {
  const latencies: number[] = [];
  const start: number[] = [];
  const complete: number[] = [];
  let wall = 0;
  let serverCpu = 0;
  let serverSystem = 0;
  let benchCpu = 0;
  const cpu0 = cpuOf(server.pid);
  for (let r = 0; r < runsPerWorker; r++) {
    const runs = await Promise.all(
      Array.from({ length: c }, () =>
        timed(async () => {
          const res = await server.call('POST', '/api/runs', { runbook: 'bench', params: { customerId: 'C1001' } });
          if (res.status !== 201) throw new Error(`start: ${res.status} ${JSON.stringify(res.body)}`);
          return res.body.run.id as string;
        }, start),
      ),
    );
    const c0 = cpuOf(server.pid);
    const s0 = cpuPartsOf(server.pid).system;
    const b0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      runs.map(async (id) => {
        for (const name of NAMES) {
          const res = await timed(() => server.call('POST', `/api/runs/${id}/steps/${name}/execute`, {}), latencies);
          if (res.status !== 200 || res.body.execution.status !== 'succeeded' || res.body.execution.count !== 3)
            throw new Error(`execute: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        }
      }),
    );
    wall += performance.now() - t0;
    const b = process.cpuUsage(b0);
    benchCpu += (b.user + b.system) / 1000;
    serverCpu += cpuOf(server.pid) - c0;
    serverSystem += cpuPartsOf(server.pid).system - s0;
    await Promise.all(
      runs.map((id) =>
        timed(async () => {
          const res = await server.call('POST', `/api/runs/${id}/complete`, {});
          if (res.status !== 200) throw new Error(`complete: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        }, complete),
      ),
    );
  }
  return { steps: c * runsPerWorker * STEPS, wall, latencies, serverCpu, serverSystem, serverCpuWhole: cpuOf(server.pid) - cpu0, benchCpu, start, complete };
}

interface Direct {
  sts: STSClient;
  pool: NodeHttpHandler;
  step(): Promise<void>;
}

function directPath(sandbox: Sandbox, roleArn: string): Direct {
  const { runbook } = parseRunbook(RUNBOOK, 'bench.md');
  const request = renderStep(runbook!.steps[0], { customerId: 'C1001' });
  const policy = JSON.stringify(deriveSessionPolicy(request, { region: sandbox.region, account: sandbox.account, partitionKeys: { Orders: 'pk' } }));
  const target = { region: sandbox.region, endpoint: sandbox.endpoint };
  const sts = new STSClient({ ...target, credentials: sandbox.baseCredentials });
  const pool = new NodeHttpHandler();
  let n = 0;
  return {
    sts,
    pool,
    async step() {
      const assumed = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          // Outside `rb-*`: the server's revocation cutoffs on the role deny every session so named.
          RoleSessionName: `bench-direct-${++n}`,
          Policy: policy,
          DurationSeconds: 900,
          SourceIdentity: 'bench',
          Tags: Object.entries({ runbook: 'bench', run: 'direct', step: 'orders', user: 'bench' }).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      const c = assumed.Credentials!;
      const doc = DynamoDBDocumentClient.from(
        new DynamoDBClient({ ...target, requestHandler: pool, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } }),
      );
      const out = await doc.send(new QueryCommand(request.input as never));
      if (out.Count !== 3) throw new Error(`direct: ${out.Count} items`);
    },
  };
}

async function directBatch(server: Server, direct: Direct, c: number, runsPerWorker: number): Promise<Batch> {
  const latencies: number[] = [];
  const c0 = cpuOf(server.pid);
  const b0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      for (let i = 0; i < runsPerWorker * STEPS; i++) await timed(() => direct.step(), latencies);
    }),
  );
  const wall = performance.now() - t0;
  const b = process.cpuUsage(b0);
  const serverCpu = cpuOf(server.pid) - c0;
  return { steps: c * runsPerWorker * STEPS, wall, latencies, serverCpu, serverSystem: 0, serverCpuWhole: serverCpu, benchCpu: (b.user + b.system) / 1000 };
}

// -- the bench ------------------------------------------------------------------------------------

if (!SERVER) checkBuilt();
const began = performance.now();
const sandbox = await startSandbox({ sandboxFile: 'runbooks/sandbox.yaml' });
const dir = await mkdtemp(join(tmpdir(), 'rb-bench-throughput-'));
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
let server: Server | undefined;
let direct: Direct | undefined;
try {
  const root = join(dir, 'runbooks');
  await mkdir(root);
  await writeFile(join(root, 'bench.md'), RUNBOOK);
  const roleArn = sandbox.roles.find((r) => r.name === 'runbook-runner')!.arn;
  server = await startServer({ root, data: join(dir, 'data'), sandbox, roleArn, agent });
  direct = directPath(sandbox, roleArn);
  const ports = { server: server.port, gateway: Number(new URL(sandbox.endpoint).port) };
  const memory0 = memoryOf(server.pid);

  // First, on the fresh server: 300 executions of one step in one run, over one connection.
  const single = new Agent({ keepAlive: true, maxSockets: 1 });
  const socketsBefore = socketsOf(server.pid, ports);
  const long = (await server.call('POST', '/api/runs', { runbook: 'bench', params: { customerId: 'C1001' } }, single)).body.run.id as string;
  const repeat: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const res = await timed(() => server!.call('POST', `/api/runs/${long}/steps/orders-1/execute`, {}, single), repeat);
    if (res.status !== 200) throw new Error(`execute ${i + 1}: ${res.status}`);
  }
  const socketsAfter = socketsOf(server.pid, ports);
  const completeLong: number[] = [];
  await timed(() => server!.call('POST', `/api/runs/${long}/complete`, {}, single), completeLong);
  single.destroy();

  // Warm-up: connections, JIT, on both paths.
  await directBatch(server, direct, 5, 2);
  await httpBatch(server, 5, 2);

  const results: Array<{ c: number; direct: Batch[]; http: Batch[] }> = [];
  for (const c of LEVELS) {
    const runsPerWorker = c === 1 ? RUNS_AT_ONE : 1;
    const level = { c, direct: [] as Batch[], http: [] as Batch[] };
    for (let r = 0; r < ROUNDS; r++) {
      level.direct.push(await directBatch(server, direct, c, runsPerWorker));
      level.http.push(await httpBatch(server, c, runsPerWorker));
    }
    results.push(level);
    process.stderr.write(`  c = ${c} done, ${((performance.now() - began) / 1000).toFixed(0)} s\n`);
  }
  const memory1 = memoryOf(server.pid);
  // Idle pools: the gateway closes keep-alive connections after 5 s of silence.
  agent.destroy();
  await sleep(6000);
  const socketsIdle = socketsOf(server.pid, ports);

  // -- report -------------------------------------------------------------------------------------
  const f = (x: number, d = 1) => x.toFixed(d).padStart(8);
  console.log(`\n${STEPS}-step runs of a Query (3 items); ${ROUNDS} rounds per level, direct and http alternating; medians over rounds`);
  console.log(`   c  path     steps/s   p50 ms   p99 ms  http/direct p50  throughput http/direct  server CPU ms/step (execute | whole run)  bench CPU ms/step`);
  const summary: Record<string, unknown>[] = [];
  for (const { c, direct: d, http: h } of results) {
    const rate = (b: Batch) => (b.steps / b.wall) * 1000;
    const row = (bs: Batch[]) => ({
      rate: median(bs.map(rate)),
      p50: quantile(
        bs.flatMap((b) => b.latencies),
        0.5,
      ),
      p99: quantile(
        bs.flatMap((b) => b.latencies),
        0.99,
      ),
      cpu: median(bs.map((b) => b.serverCpu / b.steps)),
      system: median(bs.map((b) => b.serverSystem / b.steps)),
      cpuWhole: median(bs.map((b) => b.serverCpuWhole / b.steps)),
      bench: median(bs.map((b) => b.benchCpu / b.steps)),
    });
    const dr = row(d);
    const hr = row(h);
    // Per round, http against the direct batch just before it: the ratios the targets are about.
    const p50Ratio = median(h.map((b, i) => median(b.latencies) / median(d[i].latencies)));
    const rateRatio = median(h.map((b, i) => rate(b) / rate(d[i])));
    console.log(
      `${String(c).padStart(4)}  direct ${f(dr.rate)} ${f(dr.p50, 2)} ${f(dr.p99, 2)}                                                  ${f(dr.cpu, 2)} (server idle)                   ${f(dr.bench, 2)}`,
    );
    console.log(
      `${String(c).padStart(4)}  http   ${f(hr.rate)} ${f(hr.p50, 2)} ${f(hr.p99, 2)}  ${f(p50Ratio, 2)}×        ${f(rateRatio, 2)}×                ${f(hr.cpu, 2)} | ${f(hr.cpuWhole, 2)}              ${f(hr.bench, 2)}`,
    );
    const starts = h.flatMap((b) => b.start ?? []);
    const completes = h.flatMap((b) => b.complete ?? []);
    console.log(
      `        server CPU per step, of which system ${hr.system.toFixed(2)} ms; start p50 ${median(starts).toFixed(1)} ms, p99 ${quantile(starts, 0.99).toFixed(1)} ms; complete p50 ${median(completes).toFixed(1)} ms, p99 ${quantile(completes, 0.99).toFixed(1)} ms`,
    );
    summary.push({ c, direct: dr, http: hr, p50Ratio, rateRatio, startP50: median(starts), completeP50: median(completes) });
  }
  console.log(
    `\n${REPEATS} executions of one step in one run: p50 ${median(repeat).toFixed(2)} ms, p99 ${quantile(repeat, 0.99).toFixed(2)} ms; complete ${completeLong[0].toFixed(1)} ms`,
  );
  console.log(`server sockets before: ${JSON.stringify(socketsBefore)}`);
  console.log(`server sockets after ${REPEATS} executions: ${JSON.stringify(socketsAfter)}`);
  console.log(`server sockets after every level, bench disconnected, 6 s idle: ${JSON.stringify(socketsIdle)}`);
  console.log(`server RSS: ${memory0.rssMb.toFixed(0)} MB at start, ${memory1.rssMb.toFixed(0)} MB after every level (peak ${memory1.peakMb.toFixed(0)} MB)`);
  const at = (c: number) => summary.find((s) => s.c === c) as { p50Ratio: number; rateRatio: number; http: { cpu: number } } | undefined;
  const one = at(1);
  const fifty = at(50);
  const worstCpu = Math.max(...summary.map((s) => (s as { http: { cpu: number } }).http.cpu));
  console.log('\ntargets');
  if (one) console.log(`  HTTP execute p50 ≤ 1.5× AssumeRole + Query (c = 1): ${one.p50Ratio.toFixed(2)}× ${one.p50Ratio <= 1.5 ? 'met' : 'NOT met'}`);
  console.log(`  server CPU per step ≤ 10 ms (worst level, execute phase): ${worstCpu.toFixed(2)} ms ${worstCpu <= 10 ? 'met' : 'NOT met'}`);
  if (fifty) console.log(`  throughput at c = 50 ≥ 0.8× direct: ${fifty.rateRatio.toFixed(2)}× ${fifty.rateRatio >= 0.8 ? 'met' : 'NOT met'}`);
  console.log(`  sockets after ${REPEATS} executions of one run ≤ 10: ${socketsAfter.total} ${socketsAfter.total <= 10 ? 'met' : 'NOT met'}`);
  console.log(`\nwhole bench: ${((performance.now() - began) / 1000).toFixed(0)} s`);
  console.log(
    JSON.stringify({ rounds: ROUNDS, levels: summary, repeat: { p50: median(repeat), p99: quantile(repeat, 0.99) }, socketsBefore, socketsAfter, socketsIdle, memory0, memory1 }),
  );
} finally {
  await server?.stop();
  direct?.sts.destroy();
  direct?.pool.destroy();
  agent.destroy();
  await sandbox.stop();
  await rm(dir, { recursive: true, force: true });
}
