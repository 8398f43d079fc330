/**
 * A soak of one server: `npm run bench:load` (2 minutes of load by default, at most 10 minutes in all).
 *
 * The sandbox runs in this process (DynamoDB Local is its own JVM; the gateway runs here) and the
 * built server is spawned as `runbooks serve --aws` against it, IAM revocation on, so that the
 * server's process holds nothing but the server and its RSS and open file descriptors are read from
 * /proc/<pid> as they are.
 *
 * Under load, at once:
 *   runners   each starts a run of a five-step runbook and goes through it: a paged Query and its
 *             more pages (past the last: 409), a GetItem, an UpdateItem first without and then with
 *             confirm, a PutItem with confirm, the run, its items and its transcript, completion, and
 *             an execute on the ended run (409);
 *   viewers   WebSocket viewers connect, read events for a while and leave, some closing cleanly,
 *             some dropping the connection; now and then one from another origin (403);
 *   pests     bad requests: wrong tokens (401, then 429 once the limit is reached), bad parameters,
 *             malformed JSON, the wrong content type, a body over 64 KiB, unknown runs, steps and
 *             runbooks.
 * Every answer is classified: served as asked, an expected refusal (what docs/api.md promises for
 * that request), or unexpected (anything else: a 5xx, a refusal of a valid request, a failed step,
 * a dropped connection). The server's RSS and descriptors are read at start — after a warm-up of
 * the same mix and a settle period with nothing connected — and at the end after the same settle;
 * each time also after full garbage collections (bench/load-probe.mjs, loaded into the server with
 * `--expose-gc`), which is what tells memory held from garbage not yet collected.
 *
 * Environment: BENCH_LOAD_SECONDS (load, default 120), BENCH_LOAD_WARMUP_SECONDS (default 15),
 * BENCH_LOAD_SETTLE_SECONDS (default 15), BENCH_LOAD_RUNNERS (default 6), BENCH_LOAD_VIEWERS
 * (default 4), BENCH_LOAD_HEAPSNAPSHOTS=DIR (the server writes a heap snapshot there at start and
 * at end, after the collections, for finding what a growth is made of). The whole bench, sandbox
 * start included, stops within 10 minutes.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { startSandbox, type Sandbox } from '../server/cli/local-sandbox.js';
import { checkBuilt, customerStep, liveServers, measuredServeArgs, ordersStep, sandboxEnv, serverRequest, spawnServer, wsOpen, type ServerProcess } from './common.js';

// As in bin/runbooks.js: the SDK's notice about its future Node support is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const BUDGET_MS = 10 * 60_000;
const began = Date.now();
const envSeconds = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number of seconds`);
  return v;
};
const WARMUP_S = envSeconds('BENCH_LOAD_WARMUP_SECONDS', 15);
const SETTLE_S = envSeconds('BENCH_LOAD_SETTLE_SECONDS', 15);
// The load is cut so that start-up, warm-up, both settles and shutdown fit in the 10 minutes.
const LOAD_S = Math.min(envSeconds('BENCH_LOAD_SECONDS', 120), 600 - WARMUP_S - 2 * SETTLE_S - 60);
const RUNNERS = Math.max(1, Math.floor(envSeconds('BENCH_LOAD_RUNNERS', 6)));
const VIEWERS = Math.floor(envSeconds('BENCH_LOAD_VIEWERS', 4));
if (LOAD_S <= 0) throw new Error('the warm-up and settle periods leave no time for load within 10 minutes');

// Whatever happens, the bench ends within its budget, and takes the server and DynamoDB Local with it.
let cleanUp: () => Promise<void> = async () => undefined;
const watchdog = setTimeout(() => {
  console.error('bench:load: 10 minutes passed; stopping');
  const stopped = Promise.race([cleanUp(), sleep(15_000)]);
  void stopped.finally(() => process.exit(1));
}, BUDGET_MS - 20_000);
watchdog.unref();

const RUNBOOK = `---
title: Load bench
params:
  customerId:
    type: string
    pattern: "^C[0-9]{4}$"
  note:
    type: string
---
# A customer, their orders, a note and a payment

Two orders a page, so that a customer with three needs "more".

${ordersStep('orders', { maxItems: 2 })}
${customerStep('customer')}
\`\`\`dynamodb {"name":"note"}
operation: UpdateItem
TableName: Customers
Key:
  customerId: "{{customerId}}"
UpdateExpression: "SET #n = :n"
ExpressionAttributeNames:
  "#n": loadNote
ExpressionAttributeValues:
  ":n": "{{note}}"
ReturnValues: ALL_NEW
\`\`\`

\`\`\`dynamodb {"name":"payment"}
operation: PutItem
TableName: Payments
Item:
  orderId: "LOAD-{{customerId}}"
  paymentId: "{{note}}"
  state: TEST
\`\`\`
`;
const CUSTOMERS = ['C1001', 'C1002', 'C1003', 'C1004'];

// -- the server's process -------------------------------------------------------------------------

interface ProcStats {
  rssMb: number;
  /**
   * pages freed with MADV_FREE that the kernel has not taken back yet: still counted in RSS until
   * memory runs short, though the process no longer holds them
   */
  lazyFreeMb: number;
  fds: number;
  sockets: number;
}

function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const lazyKb = Number(/^LazyFree:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      fds++;
      if (target.startsWith('socket:')) sockets++;
    } catch {
      // closed meanwhile
    }
  }
  return { rssMb: rssKb / 1024, lazyFreeMb: lazyKb / 1024, fds, sockets };
}

interface Server extends ServerProcess {
  token: string;
  logLines: () => number;
  /** the server's last lines on stderr */
  lastLogged: () => string[];
  /** full garbage collections in the server, then its memory figures (bench/load-probe.mjs) */
  probe(): Promise<Probe>;
}

interface Probe {
  rssMb: number;
  heapTotalMb: number;
  heapUsedMb: number;
  externalMb: number;
  snapshot?: string;
}

async function startServer(opts: { root: string; data: string; sandbox: Sandbox; roleArn: string }): Promise<Server> {
  const token = randomBytes(24).toString('hex');
  let lines = 0;
  let partial = '';
  const logged: string[] = [];
  const probes: Array<(p: Probe) => void> = [];
  const onStderr = (text: string) => {
    const all = (partial + text).split('\n');
    partial = all.pop()!;
    for (const line of all) {
      if (line.startsWith('bench-load-probe ')) probes.shift()?.(JSON.parse(line.slice('bench-load-probe '.length)) as Probe);
      else {
        lines++;
        // The server logs warnings and failures on stderr: the last ones are shown with the figures.
        logged.push(line.slice(0, 1000));
        if (logged.length > 20) logged.shift();
      }
    }
  };
  const server = await spawnServer(measuredServeArgs({ ...opts, port: 0, token }), {
    env: sandboxEnv(opts.sandbox),
    nodeFlags: ['--expose-gc', `--import=${pathToFileURL(resolve('bench/load-probe.mjs')).href}`],
    onStderr,
  });
  return {
    ...server,
    token,
    logLines: () => lines,
    lastLogged: () => [...logged],
    probe() {
      const answered = new Promise<Probe>((r) => probes.push(r));
      server.child.kill('SIGUSR2');
      return answered;
    },
  };
}

// -- answers, classified --------------------------------------------------------------------------

const tally = {
  requests: 0,
  served: new Map<string, number>(),
  expected: new Map<string, number>(),
  unexpected: new Map<string, number>(),
  examples: [] as string[],
  wsFrames: 0,
};
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/** What a request may be answered: a status, and the error code when it is a refusal. */
type Allowed = Array<[number, string?]>;

interface Answer {
  status: number;
  body: any;
}

function classify(label: string, answer: Answer | { network: string }, allowed: Allowed, check?: (a: Answer) => string | undefined): Answer | undefined {
  tally.requests++;
  if ('network' in answer) {
    bump(tally.unexpected, `${label}: ${answer.network}`);
    if (tally.examples.length < 10) tally.examples.push(`${label}: ${answer.network}`);
    return undefined;
  }
  const code = answer.body?.error?.code as string | undefined;
  const ok = allowed.some(([status, c]) => status === answer.status && (c === undefined || c === code));
  const problem = ok ? (answer.status < 400 && check ? check(answer) : undefined) : `${answer.status} ${code ?? ''}`.trim();
  if (problem) {
    bump(tally.unexpected, `${label}: ${problem}`);
    if (tally.examples.length < 10) tally.examples.push(`${label}: ${problem} ${JSON.stringify(answer.body).slice(0, 300)}`);
    return undefined;
  }
  if (answer.status < 400) bump(tally.served, label);
  else bump(tally.expected, `${answer.status} ${code ?? ''} (${label})`.trim());
  return answer;
}

async function call(
  port: number,
  agent: Agent,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string | Buffer; contentType?: string } = {},
): Promise<Answer | { network: string }> {
  let res: { status: number; contentType: string; text: string };
  try {
    res = await serverRequest({ port, agent, method, path, ...opts });
  } catch (err) {
    return { network: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
  let body: unknown = res.text;
  if (res.contentType.includes('json')) {
    try {
      body = JSON.parse(res.text || 'null');
    } catch {
      body = { unparsable: res.text.slice(0, 200) };
    }
  }
  return { status: res.status, body };
}

// -- the three kinds of client --------------------------------------------------------------------

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];
const succeeded = (a: Answer) => (a.body?.execution?.status === 'succeeded' ? undefined : `execution ${a.body?.execution?.status}: ${a.body?.execution?.error?.code ?? ''}`);

/** Ended runs, for the pests' unknown-step requests. */
const knownRuns: string[] = [];

async function runner(server: Server, agent: Agent, until: () => boolean, n: { runs: number }): Promise<void> {
  const c = (method: string, path: string, opts: Parameters<typeof call>[4] = {}) => call(server.port, agent, method, path, { token: server.token, ...opts });
  while (!until()) {
    const customerId = pick(CUSTOMERS);
    const started = classify(
      'start a run',
      await c('POST', '/api/runs', { body: { runbook: 'load', params: { customerId, note: `n-${n.runs}-${Math.random().toString(36).slice(2, 8)}` } } }),
      [[201]],
    );
    const id = started?.body?.run?.id as string | undefined;
    if (!id) continue;
    n.runs++;
    const step = (name: string) => `/api/runs/${id}/steps/${name}`;
    classify('execute a read', await c('POST', `${step('orders')}/execute`, { body: {} }), [[200]], succeeded);
    // C1001 has three orders: one more page, then none; the others none at once.
    classify('more pages', await c('POST', `${step('orders')}/more`, { body: {} }), [[200], [409, 'RB_ERR_RUN_NO_MORE_PAGES']], (a) =>
      a.status === 200 ? succeeded(a) : undefined,
    );
    classify('more pages', await c('POST', `${step('orders')}/more`, { body: {} }), [[409, 'RB_ERR_RUN_NO_MORE_PAGES']]);
    classify('read items', await c('GET', `${step('orders')}/items?offset=0&limit=50`), [[200]]);
    classify('execute a read', await c('POST', `${step('customer')}/execute`, { body: {} }), [[200]], succeeded);
    classify('write without confirm', await c('POST', `${step('note')}/execute`, { body: {} }), [[409, 'RB_ERR_RUN_CONFIRM_REQUIRED']]);
    classify('execute a write', await c('POST', `${step('note')}/execute`, { body: { confirm: true } }), [[200]], succeeded);
    classify('execute a write', await c('POST', `${step('payment')}/execute`, { body: { confirm: true } }), [[200]], succeeded);
    if (Math.random() < 0.3) classify('read the run', await c('GET', `/api/runs/${id}`), [[200]]);
    if (Math.random() < 0.1) classify('transcript', await c('GET', `/api/runs/${id}/transcript?format=md`), [[200]]);
    classify('complete', await c('POST', `/api/runs/${id}/complete`, { body: {} }), [[200]]);
    classify('execute an ended run', await c('POST', `${step('customer')}/execute`, { body: {} }), [[409, 'RB_ERR_RUN_NOT_ACTIVE']]);
    knownRuns.push(id);
    if (knownRuns.length > 50) knownRuns.shift();
  }
}

async function pest(server: Server, agent: Agent, until: () => boolean): Promise<void> {
  const c = (method: string, path: string, opts: Parameters<typeof call>[4] = {}) => call(server.port, agent, method, path, { token: server.token, ...opts });
  const wrong = () => `${randomBytes(4).toString('hex')}-wrong-token-0123456789abcdef`;
  while (!until()) {
    switch (Math.floor(Math.random() * 9)) {
      case 0:
        // The limit answers 429 once a network has failed 10 times in a minute.
        classify('wrong token', await c('GET', '/api/runs?limit=1', { token: wrong() }), [
          [401, 'RB_ERR_AUTH_REQUIRED'],
          [429, 'RB_ERR_AUTH_RATE_LIMITED'],
        ]);
        break;
      case 1:
        classify('bad parameters', await c('POST', '/api/runs', { body: { runbook: 'load', params: { customerId: 'X-1', note: 'x' } } }), [[400, 'RB_ERR_PARAM_INVALID']]);
        break;
      case 2:
        classify('malformed JSON', await c('POST', '/api/runs', { raw: '{"runbook": "load", "params": {' }), [[400, 'RB_ERR_HTTP_BAD_REQUEST']]);
        break;
      case 3:
        classify('wrong content type', await c('POST', '/api/runs', { raw: 'runbook=load', contentType: 'application/x-www-form-urlencoded' }), [
          [415, 'RB_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE'],
        ]);
        break;
      case 4:
        classify('body too large', await c('POST', '/api/runs', { body: { runbook: 'load', params: { note: 'x'.repeat(70_000) } } }), [[413, 'RB_ERR_HTTP_BODY_TOO_LARGE']]);
        break;
      case 5:
        classify('unknown run', await c('GET', `/api/runs/nosuchrun${Math.floor(Math.random() * 1000)}`), [[404, 'RB_ERR_RUN_NOT_FOUND']]);
        break;
      case 6:
        classify('unknown run', await c('POST', '/api/runs/nosuchrun/steps/orders/execute', { body: {} }), [[404, 'RB_ERR_RUN_NOT_FOUND']]);
        break;
      case 7:
        if (knownRuns.length)
          classify('unknown step', await c('POST', `/api/runs/${pick(knownRuns)}/steps/no-such-step/execute`, { body: {} }), [
            [404, 'RB_ERR_STEP_NOT_FOUND'],
            [409, 'RB_ERR_RUN_NOT_ACTIVE'],
          ]);
        break;
      case 8:
        classify('unknown runbook', await c('POST', '/api/runs', { body: { runbook: 'no/such-runbook', params: {} } }), [[404, 'RB_ERR_RUNBOOK_NOT_FOUND']]);
        break;
    }
    await sleep(25);
  }
}

async function viewer(server: Server, until: () => boolean, sockets: Set<WebSocket>): Promise<void> {
  const url = `ws://127.0.0.1:${server.port}/api/events`;
  while (!until()) {
    const foreign = Math.random() < 0.1;
    const headers: Record<string, string> = { authorization: `Bearer ${server.token}`, ...(foreign ? { origin: 'http://evil.example' } : {}) };
    const outcome = await wsOpen(url, headers);
    tally.requests++;
    if (foreign) {
      if (outcome.status === 403) bump(tally.expected, '403 RB_ERR_AUTH_ORIGIN (viewer from another origin)');
      else bump(tally.unexpected, `viewer from another origin: ${outcome.status ?? outcome.error ?? 'opened'}`);
      outcome.socket?.terminate();
      continue;
    }
    if (!outcome.socket) {
      bump(tally.unexpected, `viewer: ${outcome.status ?? outcome.error}`);
      await sleep(200);
      continue;
    }
    const socket = outcome.socket;
    sockets.add(socket);
    bump(tally.served, 'viewer connected');
    socket.on('message', () => tally.wsFrames++);
    const closedEarly = new Promise<string>((resolve) => socket.once('close', (code) => resolve(`closed by the server (${code})`)));
    const stay = sleep(500 + Math.random() * 4000).then(() => undefined);
    const early = await Promise.race([stay, closedEarly]);
    if (early) bump(tally.unexpected, `viewer: ${early}`);
    // Half leave cleanly, half just drop the connection.
    if (Math.random() < 0.5) socket.close(1000);
    else socket.terminate();
    sockets.delete(socket);
  }
}

async function load(server: Server, seconds: number, counts: { runs: number }): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: RUNNERS + 4 });
  const sockets = new Set<WebSocket>();
  const end = Date.now() + seconds * 1000;
  const until = () => Date.now() >= end;
  await Promise.all([
    ...Array.from({ length: RUNNERS }, () => runner(server, agent, until, counts)),
    ...Array.from({ length: VIEWERS }, () => viewer(server, until, sockets)),
    pest(server, agent, until),
    pest(server, agent, until),
  ]);
  for (const s of sockets) s.terminate();
  agent.destroy();
}

// -- the bench ------------------------------------------------------------------------------------

checkBuilt();
const sandbox = await startSandbox({ sandboxFile: 'runbooks/sandbox.yaml' });
const dir = await mkdtemp(join(tmpdir(), 'rb-bench-load-'));
let server: Server | undefined;
cleanUp = async () => {
  for (const child of liveServers) child.kill('SIGKILL');
  await sandbox.stop();
};
try {
  const root = join(dir, 'runbooks');
  await mkdir(root);
  await writeFile(join(root, 'load.md'), RUNBOOK);
  const roleArn = sandbox.roles.find((r) => r.name === 'runbook-runner')!.arn;
  server = await startServer({ root, data: join(dir, 'data'), sandbox, roleArn });
  const fresh = procStats(server.pid);
  const counts = { runs: 0 };
  process.stderr.write(`warm-up ${WARMUP_S} s, settle ${SETTLE_S} s, load ${LOAD_S} s with ${RUNNERS} runners, ${VIEWERS} viewers and 2 pests, settle ${SETTLE_S} s\n`);

  await load(server, WARMUP_S, counts);
  await sleep(SETTLE_S * 1000);
  const start = procStats(server.pid);
  const startGc = await server.probe();
  // V8 hands freed pages back from a thread of its own: read once it has.
  await sleep(2000);
  const startHeld = procStats(server.pid);
  const warmRequests = tally.requests;
  const warmRuns = counts.runs;
  const warmUnexpected = [...tally.unexpected.values()].reduce((a, b) => a + b, 0);

  // Samples during the load, for the peak.
  const samples: ProcStats[] = [];
  const sampler = setInterval(() => samples.push(procStats(server!.pid)), 5000);
  const t0 = performance.now();
  await load(server, LOAD_S, counts);
  const loadMs = performance.now() - t0;
  clearInterval(sampler);
  const settling: ProcStats[] = [];
  const settleSampler = setInterval(() => settling.push(procStats(server!.pid)), 5000);
  await sleep(SETTLE_S * 1000);
  clearInterval(settleSampler);
  const end = procStats(server.pid);
  const endGc = await server.probe();
  await sleep(2000);
  const endHeld = procStats(server.pid);
  const exitCode = (await server.stop()).code;

  const unexpected = [...tally.unexpected.values()].reduce((a, b) => a + b, 0);
  const expected = [...tally.expected.values()].reduce((a, b) => a + b, 0);
  const served = [...tally.served.values()].reduce((a, b) => a + b, 0);
  const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)} %`;
  const peak = samples.reduce((m, s) => ({ rssMb: Math.max(m.rssMb, s.rssMb), lazyFreeMb: 0, fds: Math.max(m.fds, s.fds), sockets: Math.max(m.sockets, s.sockets) }), start);
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `    ${String(v).padStart(7)}  ${k}`)
      .join('\n');

  console.log(`\nload: ${(loadMs / 1000).toFixed(0)} s after a ${WARMUP_S} s warm-up; ${RUNNERS} runners, ${VIEWERS} viewers, 2 pests`);
  console.log(
    `requests answered: ${tally.requests} in all, ${tally.requests - warmRequests} under load (${(((tally.requests - warmRequests) / loadMs) * 1000).toFixed(0)}/s); runs ${counts.runs} (${counts.runs - warmRuns} under load); WebSocket frames received ${tally.wsFrames}`,
  );
  console.log(`  served as asked: ${served}\n${rows(tally.served)}`);
  console.log(`  expected refusals: ${expected}\n${rows(tally.expected)}`);
  console.log(`  unexpected: ${unexpected}${unexpected ? `\n${rows(tally.unexpected)}\n  e.g.\n    ${tally.examples.join('\n    ')}` : ''}`);
  const held = (p: ProcStats) => p.rssMb - p.lazyFreeMb;
  const perRun = ((endGc.heapUsedMb - startGc.heapUsedMb) * 1024) / Math.max(1, counts.runs - warmRuns);
  const f1 = (x: number) => x.toFixed(1).padStart(7);
  console.log(`\nserver process                                   fresh    start     peak      end   end/start`);
  console.log(`  RSS, MB                                      ${f1(fresh.rssMb)}  ${f1(start.rssMb)}  ${f1(peak.rssMb)}  ${f1(end.rssMb)}   ${pct(end.rssMb, start.rssMb)}`);
  console.log(`  RSS after full GCs, less lazily freed, MB             ${f1(held(startHeld))}           ${f1(held(endHeld))}   ${pct(held(endHeld), held(startHeld))}`);
  console.log(
    `  JS heap used after full GCs, MB                       ${f1(startGc.heapUsedMb)}           ${f1(endGc.heapUsedMb)}   ${pct(endGc.heapUsedMb, startGc.heapUsedMb)} (${perRun.toFixed(1)} KB per run started under load)`,
  );
  console.log(
    `  open descriptors (of which sockets)            ${String(fresh.fds).padStart(3)} (${fresh.sockets})  ${String(start.fds).padStart(3)} (${start.sockets})  ${String(peak.fds).padStart(3)} (${peak.sockets})  ${String(end.fds).padStart(3)} (${end.sockets})   ${pct(end.fds, start.fds)}`,
  );
  console.log(`  RSS every 5 s under load, MB: ${samples.map((x) => x.rssMb.toFixed(0)).join(' ')}; then settling: ${settling.map((x) => x.rssMb.toFixed(0)).join(' ')}`);
  console.log(`  ${server.logLines()} lines on stderr; exit code on SIGTERM ${exitCode}`);
  const lastLogged = server.lastLogged().filter((l) => !l.includes('NodeVersionSupportWarning'));
  if (lastLogged.length) console.log(`  the server's last lines on stderr:\n    ${lastLogged.join('\n    ')}`);
  // Memory held is judged after the collections: before them, RSS also counts garbage V8 has not
  // collected yet, and pages freed but not yet taken back by the kernel.
  const rssOk = Math.abs(held(endHeld) - held(startHeld)) <= 0.1 * held(startHeld);
  const fdsOk = Math.abs(end.fds - start.fds) <= 0.1 * start.fds;
  console.log('\ntargets');
  console.log(`  0 unexpected errors: ${unexpected} ${unexpected === 0 ? 'met' : 'NOT met'}${warmUnexpected ? ` (${warmUnexpected} during the warm-up)` : ''}`);
  console.log(`  RSS back within 10 % of start (after full GCs): ${pct(held(endHeld), held(startHeld))} ${rssOk ? 'met' : 'NOT met'}`);
  console.log(`  descriptors back within 10 % of start: ${pct(end.fds, start.fds)} ${fdsOk ? 'met' : 'NOT met'}`);
  console.log(`\nwhole bench: ${((Date.now() - began) / 1000).toFixed(0)} s`);
  console.log(
    JSON.stringify({
      loadSeconds: loadMs / 1000,
      requests: tally.requests,
      runs: counts.runs,
      served,
      expected,
      unexpected,
      unexpectedByKind: Object.fromEntries(tally.unexpected),
      expectedByKind: Object.fromEntries(tally.expected),
      fresh,
      start,
      startGc,
      startHeld,
      peak,
      end,
      endGc,
      endHeld,
    }),
  );
  process.exitCode = unexpected === 0 && rssOk && fdsOk ? 0 : 1;
} finally {
  await server?.stop();
  await sandbox.stop();
  await rm(dir, { recursive: true, force: true });
  clearTimeout(watchdog);
}
