/**
 * Recording cost over a long run: `npm run bench:records [-- --executions 2000 --warmup 50]`.
 *
 * One run executes a small GetItem step N times through the engine against a sandbox of its own
 * (temporary data folder). The record stage of each execution — audit append (fsync), journal append
 * (fsync), state apply — is timed by wrapping the engine's recorder, in wall time and in process CPU
 * time; storing the execution's item (one chunk file, fsync) and the whole executeStep are timed
 * alongside. A throwaway run warms the JIT, the connections and the file system first.
 *
 * The figure asked for is the median of executions N-19…N against that of executions 1…20. Those
 * are minutes apart, and on a shared machine the load drifts in between; so the last 20 executions
 * are interleaved one for one with the first 20 of a fresh run, which is the same comparison made
 * at the same moments. Acceptance: the last executions record within 1.2× of the first.
 *
 * Every fsync of the process is timed too (FileHandle's sync and datasync, wrapped), so that the
 * share of an execution's time spent waiting for the disk is known.
 */
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunbook } from '../server/runbook/parse.js';
import { auditLogPath } from '../server/runs/audit.js';
import { RunEngine } from '../server/runs/engine.js';
import type { Recorder } from '../server/runs/recorder.js';
import type { RunStore } from '../server/runs/store.js';
import { startSandbox } from '../server/cli/local-sandbox.js';
import { customerStep, numberOption } from './common.js';

const N = numberOption('executions', 2000);
const WARMUP = numberOption('warmup', 50);
const EDGE = 20;

const RUNBOOK = `---
title: Records bench
params:
  customerId: { type: string }
---
# One customer
${customerStep('customer')}`;

interface Sample {
  run: string;
  wall: number;
  /** user + system CPU of the whole process (the engine is idle otherwise) */
  cpu: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cpuMs = (d: NodeJS.CpuUsage): number => (d.user + d.system) / 1000;

/** Times each call of `obj[name]` that `runOf` names a run for, as one sample of that run. */
function timeCalls<T extends object, K extends keyof T>(obj: T, name: K, into: Sample[], runOf: (...a: unknown[]) => string | undefined): void {
  const original = (obj[name] as (...a: unknown[]) => Promise<unknown>).bind(obj);
  (obj as Record<K, unknown>)[name] = async (...a: unknown[]) => {
    const run = runOf(...a);
    if (run === undefined) return original(...a);
    const t = performance.now();
    const c = process.cpuUsage();
    try {
      return await original(...a);
    } finally {
      into.push({ run, wall: performance.now() - t, cpu: cpuMs(process.cpuUsage(c)) });
    }
  };
}

const sandbox = await startSandbox({ sandboxFile: 'runbooks/sandbox.yaml' });
const dataDir = await mkdtemp(join(tmpdir(), 'rb-bench-records-'));
let engine: RunEngine | undefined;
try {
  const { runbook, problems } = parseRunbook(RUNBOOK, 'bench.md');
  if (!runbook || problems.length) throw new Error(`bench runbook invalid: ${JSON.stringify(problems)}`);
  engine = await RunEngine.create({
    dataDir,
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: sandbox.baseCredentials,
    defaultRoleArn: sandbox.roles[0].arn,
    iamRevocation: false,
    idleTimeoutMs: 0,
    auditKeyPath: join(dataDir, 'bench-audit-key.pem'),
  });
  // The recorder and store are private to the engine; the bench wraps them from outside only to
  // time them, so that what is measured is exactly the code the engine runs.
  const inside = engine as unknown as { recorder: Recorder; store: RunStore };
  const record: Sample[] = [];
  const items: Sample[] = [];
  const total: Sample[] = [];
  timeCalls(inside.recorder, 'commit', record, (state, _backlog, change) =>
    (change as { entry: { type: string } }).entry.type === 'execution' ? (state as { run: { id: string } }).run.id : undefined,
  );
  timeCalls(inside.store, 'putItems', items, (runId) => runId as string);
  // Every fsync the process makes (the items' chunk, the audit record, the journal record, the lock
  // files' none), timed where FileHandle makes it: an execution's share is the sum while it ran.
  const probe = await open(join(dataDir, 'probe'), 'w');
  const handle = Object.getPrototypeOf(probe) as Record<'sync' | 'datasync', () => Promise<void>>;
  await probe.close();
  const synced = { ms: 0, calls: 0 };
  for (const name of ['sync', 'datasync'] as const) {
    const original = handle[name];
    handle[name] = async function (this: unknown) {
      const t = performance.now();
      try {
        return await original.call(this);
      } finally {
        synced.ms += performance.now() - t;
        synced.calls += 1;
      }
    };
  }
  const fsyncs: Array<{ run: string; ms: number; calls: number }> = [];

  const start = async () => (await engine!.startRun({ runbook, source: RUNBOOK, runbookId: 'bench', params: { customerId: 'C1001' }, user: 'bench' })).id;
  const execute = async (run: string) => {
    const t = performance.now();
    const c = process.cpuUsage();
    const s0 = { ...synced };
    const ex = await engine!.executeStep(run, 'customer', { user: 'bench' });
    total.push({ run, wall: performance.now() - t, cpu: cpuMs(process.cpuUsage(c)) });
    fsyncs.push({ run, ms: synced.ms - s0.ms, calls: synced.calls - s0.calls });
    if (ex.status !== 'succeeded' || ex.count !== 1) throw new Error(`execution ${ex.n} of run ${run}: ${JSON.stringify(ex.error)}`);
  };

  const warm = await start();
  for (let i = 0; i < WARMUP; i++) await execute(warm);
  await engine.complete(warm, { user: 'bench' });

  const long = await start();
  const began = performance.now();
  for (let i = 1; i <= N - EDGE; i++) {
    await execute(long);
    if (i % 500 === 0) process.stdout.write(`  ${i} executions, ${((performance.now() - began) / 1000).toFixed(1)} s\n`);
  }
  const fresh = await start();
  for (let i = 0; i < EDGE; i++) {
    await execute(long);
    await execute(fresh);
  }
  const journal = (await stat(join(dataDir, 'runs', long, 'journal.jsonl'))).size;
  const audit = (await stat(auditLogPath(dataDir))).size;
  await engine.complete(long, { user: 'bench' });
  await engine.complete(fresh, { user: 'bench' });

  const of = (xs: Sample[], run: string) => xs.filter((s) => s.run === run);
  if (of(record, long).length !== N || of(items, long).length !== N) throw new Error('not every execution of the long run was timed');
  const stage = (what: string, xs: Sample[]) => {
    const l = of(xs, long);
    const window = (part: Sample[]) => ({ wall: median(part.map((s) => s.wall)), cpu: median(part.map((s) => s.cpu)) });
    return {
      what,
      first: window(l.slice(0, EDGE)),
      middle: window(l.slice(Math.floor(N / 2) - EDGE, Math.floor(N / 2))),
      last: window(l.slice(-EDGE)),
      fresh: window(of(xs, fresh)),
    };
  };
  const stages = [stage('record: audit + journal + apply', record), stage('items: one chunk file', items), stage('executeStep in all', total)];
  const f = (ms: number) => ms.toFixed(2).padStart(7);
  const r = (a: number, b: number) => (a / b).toFixed(2).padStart(5);
  console.log(`\n${N} GetItem executions in one run; medians of ${EDGE} executions (ms), wall / process CPU`);
  console.log(
    `${'stage'.padEnd(32)} ${'1–20'.padStart(15)} ${`${Math.floor(N / 2) - EDGE + 1}–${Math.floor(N / 2)}`.padStart(15)} ${`${N - EDGE + 1}–${N}`.padStart(15)} ${'fresh 1–20'.padStart(15)}   last/first  last/fresh (wall)`,
  );
  for (const s of stages) {
    const cell = (w: { wall: number; cpu: number }) => `${f(w.wall)} /${f(w.cpu)}`;
    console.log(`${s.what.padEnd(32)} ${cell(s.first)} ${cell(s.middle)} ${cell(s.last)} ${cell(s.fresh)}   ${r(s.last.wall, s.first.wall)}       ${r(s.last.wall, s.fresh.wall)}`);
  }
  const ofLong = fsyncs.filter((s) => s.run === long);
  const syncMs = median(ofLong.map((s) => s.ms));
  const stepMs = median(of(total, long).map((s) => s.wall));
  console.log(
    `fsyncs of an execution: ${median(ofLong.map((s) => s.calls))} (the items' chunk, the audit record, the journal record), median ${syncMs.toFixed(2)} ms together, ` +
      `of a median executeStep of ${stepMs.toFixed(2)} ms (${((100 * syncMs) / stepMs).toFixed(0)}%)`,
  );
  const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;
  console.log(
    `journal.jsonl of the run: ${kb(journal)} (${Math.round(journal / N)} bytes an execution); audit.jsonl: ${kb(audit)} (${N + WARMUP + EDGE} executions and their runs' records)`,
  );
  const rec = stages[0];
  const ok = rec.last.wall <= 1.2 * rec.first.wall && rec.last.wall <= 1.2 * rec.fresh.wall;
  console.log(`acceptance (record stage of executions ${N - EDGE + 1}–${N} within 1.2× of 1–20, at the start and interleaved): ${ok ? 'met' : 'NOT met'}`);
  const round = (w: { wall: number; cpu: number }) => ({ wall: +w.wall.toFixed(3), cpu: +w.cpu.toFixed(3) });
  console.log(
    JSON.stringify({
      executions: N,
      journalBytes: journal,
      auditBytes: audit,
      fsyncMs: +syncMs.toFixed(3),
      stages: stages.map((s) => ({ what: s.what, first: round(s.first), middle: round(s.middle), last: round(s.last), fresh: round(s.fresh) })),
    }),
  );
} finally {
  await engine?.close();
  await sandbox.stop();
  await rm(dataDir, { recursive: true, force: true });
}
