/**
 * One Query step through the engine versus the same work done with the SDK directly, in one run,
 * as ratios (machines here are shared and noisy: absolute times vary, ratios within a run are what
 * to compare). Four paths, interleaved one call of each per round:
 *   local    DynamoDB Document Client → DynamoDB Local (no gateway, no STS)
 *   query    executeRequest with an already-assumed session → gateway (SigV4 + IAM) → DynamoDB Local
 *   sdk      the SDK alone doing what a step needs: AssumeRole with the step's session policy, tags
 *            and SourceIdentity, then the Query with those credentials through the gateway
 *   engine   engine.executeStep: render, derive the policy, AssumeRole, execute, store the items,
 *            audit record and journal record (each fsynced)
 * The acceptance figure is engine against sdk (median): what the engine costs on top of the calls
 * any least-privilege client must make.
 *
 * CPU: the gateway runs in this process (DynamoDB Local is a separate JVM), so a path's process CPU
 * is the client's and the gateway's. sdk and engine make the same gateway calls (one AssumeRole, one
 * Query), so engine CPU minus sdk CPU is the server's own CPU per execution.
 * Usage: npm run bench:step [-- --iterations 300]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createBroker } from '../server/access/broker.js';
import { deriveSessionPolicy } from '../server/access/derive-policy.js';
import { executeRequest } from '../server/dynamo/execute.js';
import { parseRunbook } from '../server/runbook/parse.js';
import { renderStep } from '../server/runbook/render.js';
import { RunEngine } from '../server/runs/engine.js';
import { startSandbox } from '../server/cli/local-sandbox.js';
import { numberOption, ordersStep } from './common.js';

const iterations = numberOption('iterations', 300);

const RUNBOOK = `---
title: Bench
params:
  customerId: { type: string }
---
# Orders of a customer
${ordersStep('orders')}`;

interface Samples {
  wall: number[];
  /** process CPU (user + system) of each call, ms */
  cpu: number[];
}

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p95: q(0.95), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/**
 * Times the paths interleaved, one call of each per round, so that drift in the machine's load
 * affects all of them alike (measuring one path after another would compare different moments).
 */
async function timeInterleaved(n: number, paths: Array<() => Promise<unknown>>): Promise<Samples[]> {
  for (let i = 0; i < 30; i++) for (const fn of paths) await fn(); // warm-up: connections, JIT
  const out = paths.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < paths.length; p++) {
      const c = process.cpuUsage();
      const t = performance.now();
      await paths[p]();
      out[p].wall.push(performance.now() - t);
      const d = process.cpuUsage(c);
      out[p].cpu.push((d.user + d.system) / 1000);
    }
  }
  return out;
}

const sandbox = await startSandbox({ sandboxFile: 'runbooks/sandbox.yaml' });
const dataDir = await mkdtemp(join(tmpdir(), 'rb-bench-'));
try {
  const { runbook, problems } = parseRunbook(RUNBOOK, 'bench.md');
  if (!runbook || problems.length) throw new Error(`bench runbook invalid: ${JSON.stringify(problems)}`);
  const step = runbook.steps[0];
  const request = renderStep(step, { customerId: 'C1001' });
  const expected = 3;
  const target = { region: sandbox.region, endpoint: sandbox.endpoint };

  const local = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: sandbox.region, endpoint: sandbox.dynamoLocalEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  const localPath = async () => {
    const out = await local.send(new QueryCommand(request.input as never));
    if (out.Count !== expected) throw new Error(`local: ${out.Count} items`);
  };

  const policy = deriveSessionPolicy(request, { region: sandbox.region, account: sandbox.account, partitionKeys: { Orders: 'pk' } });
  const assumeInput = {
    roleArn: sandbox.roles[0].arn,
    policy,
    sessionName: 'rb-bench-orders',
    durationSeconds: 900,
    sourceIdentity: 'bench',
    tags: { runbook: 'bench', run: 'bench', step: 'orders', user: 'bench' },
  };
  const broker = createBroker({ ...target, credentials: sandbox.baseCredentials });
  const session = await broker.assume(assumeInput);
  const queryPath = async () => {
    const out = await executeRequest(request, session, { ...target, maxItems: 1000 });
    if (out.count !== expected) throw new Error(`query: ${out.count} items`);
  };

  // The SDK at its leanest: one STS client, and per session a DynamoDB client on one shared
  // connection pool (credentials are fixed per client in the SDK).
  const sts = new STSClient({ ...target, credentials: sandbox.baseCredentials });
  const pool = new NodeHttpHandler();
  const policyText = JSON.stringify(policy);
  const sdkPath = async () => {
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: assumeInput.roleArn,
        RoleSessionName: assumeInput.sessionName,
        Policy: policyText,
        DurationSeconds: assumeInput.durationSeconds,
        SourceIdentity: assumeInput.sourceIdentity,
        Tags: Object.entries(assumeInput.tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    const c = assumed.Credentials!;
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ ...target, requestHandler: pool, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } }),
    );
    const out = await doc.send(new QueryCommand(request.input as never));
    if (out.Count !== expected) throw new Error(`sdk: ${out.Count} items`);
  };

  const engine = await RunEngine.create({
    dataDir,
    ...target,
    credentials: sandbox.baseCredentials,
    defaultRoleArn: sandbox.roles[0].arn,
    iamRevocation: true,
    idleTimeoutMs: 0,
    // A throwaway signing key, not one in the user's config folder.
    auditKeyPath: join(dataDir, 'bench-audit-key.pem'),
  });
  const run = await engine.startRun({ runbook, source: RUNBOOK, runbookId: 'bench', params: { customerId: 'C1001' }, user: 'bench' });
  const enginePath = async () => {
    const ex = await engine.executeStep(run.id, 'orders', { user: 'bench' });
    if (ex.status !== 'succeeded' || ex.count !== expected) throw new Error(`engine: ${JSON.stringify(ex.error)}`);
  };

  const names = ['local', 'query', 'sdk', 'engine'];
  const samples = await timeInterleaved(iterations, [localPath, queryPath, sdkPath, enginePath]);
  await engine.complete(run.id, { user: 'bench' });
  await engine.close();
  broker.destroy();
  sts.destroy();
  pool.destroy();

  const wall = samples.map((s) => stats(s.wall));
  const cpu = samples.map((s) => stats(s.cpu));
  const sdk = names.indexOf('sdk');
  const fmt = (x: number) => x.toFixed(2).padStart(8);
  console.log(`Query of 3 items, ${iterations} iterations of each path, interleaved (ms)`);
  console.log(`path       median      p95     mean  median/sdk   CPU/call (mean)`);
  names.forEach((name, i) =>
    console.log(
      `${name.padEnd(7)} ${fmt(wall[i].median)} ${fmt(wall[i].p95)} ${fmt(wall[i].mean)}  ${(wall[i].median / wall[sdk].median).toFixed(2).padStart(10)}   ${fmt(cpu[i].mean)}`,
    ),
  );
  const e = names.indexOf('engine');
  const ratio = wall[e].median / wall[sdk].median;
  const serverCpu = cpu[e].mean - cpu[sdk].mean;
  console.log(`server CPU per execution (engine − sdk, process CPU per call, the in-process gateway's share cancelling): ${serverCpu.toFixed(2)} ms`);
  console.log(`acceptance: engine median within 2.0× of the SDK's: ${ratio <= 2 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}×)`);
  console.log(
    JSON.stringify({
      iterations,
      paths: Object.fromEntries(
        names.map((n, i) => [n, { median: +wall[i].median.toFixed(3), p95: +wall[i].p95.toFixed(3), mean: +wall[i].mean.toFixed(3), cpuMean: +cpu[i].mean.toFixed(3) }]),
      ),
      engineOverSdk: +ratio.toFixed(3),
      serverCpuPerExecution: +serverCpu.toFixed(3),
    }),
  );
} finally {
  await sandbox.stop();
  await rm(dataDir, { recursive: true, force: true });
}
