/**
 * One Query step through the engine versus the same Query sent directly with the SDK to the same
 * DynamoDB Local, in one run, as ratios (machines here are shared and noisy: absolute times vary,
 * ratios within a run are what to compare). Three paths:
 *   direct   DynamoDB Document Client → DynamoDB Local (no gateway, no STS)
 *   no-sts   executeRequest with an already-assumed session → gateway (SigV4 + IAM) → DynamoDB Local
 *   engine   engine.executeStep: render, derive policy, AssumeRole, execute, audit (fsync), store
 * Usage: npm run bench:step [-- --iterations 200]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createBroker } from '../server/access/broker.js';
import { deriveSessionPolicy } from '../server/access/derive-policy.js';
import { executeRequest } from '../server/dynamo/execute.js';
import { parseRunbook } from '../server/runbook/parse.js';
import { renderStep } from '../server/runbook/render.js';
import { createEngine } from '../server/runs/engine.js';
import { startSandbox } from '../server/sandbox/index.js';

const iterations = Number(process.argv[process.argv.indexOf('--iterations') + 1]) || 200;

const RUNBOOK = `---
title: Bench
params:
  customerId: { type: string }
---
# Orders of a customer
\`\`\`dynamodb {"name":"orders"}
operation: Query
TableName: Orders
KeyConditionExpression: "pk = :pk"
ExpressionAttributeValues:
  ":pk": "CUSTOMER#{{customerId}}"
\`\`\`
`;

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p95: q(0.95), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/**
 * Times the paths interleaved, one call of each per round, so that drift in the machine's load
 * affects all of them alike (measuring one path after another would compare different moments).
 */
async function timeInterleaved(n: number, paths: Array<() => Promise<unknown>>): Promise<number[][]> {
  for (let i = 0; i < 20; i++) for (const fn of paths) await fn(); // warm-up: connections, JIT
  const out = paths.map(() => [] as number[]);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < paths.length; p++) {
      const t = performance.now();
      await paths[p]();
      out[p].push(performance.now() - t);
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

  const direct = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: sandbox.region, endpoint: sandbox.dynamoLocalEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  const directPath = async () => {
    const out = await direct.send(new QueryCommand(request.input as never));
    if (out.Count !== expected) throw new Error(`direct: ${out.Count} items`);
  };

  const broker = createBroker({ region: sandbox.region, endpoint: sandbox.endpoint, credentials: sandbox.baseCredentials });
  const policy = deriveSessionPolicy(request, { region: sandbox.region, account: sandbox.account, partitionKeys: { Orders: 'pk' } });
  const session = await broker.assume({
    roleArn: sandbox.roles[0].arn,
    policy,
    sessionName: 'rb-bench-orders',
    durationSeconds: 900,
    sourceIdentity: 'bench',
    tags: { run: 'bench' },
  });
  const noStsPath = async () => {
    const out = await executeRequest(request, session, { region: sandbox.region, endpoint: sandbox.endpoint, maxItems: 1000 });
    if (out.count !== expected) throw new Error(`no-sts: ${out.count} items`);
  };

  const engine = await createEngine({
    dataDir,
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: sandbox.baseCredentials,
    defaultRoleArn: sandbox.roles[0].arn,
    iamRevocation: true,
    idleTimeoutMs: 0,
    // A throwaway signing key, not one in the user's config folder.
    auditKeyPath: join(dataDir, 'bench-audit-key.pem'),
  });
  const run = await engine.startRun({ runbook, runbookId: 'bench', params: { customerId: 'C1001' }, user: 'bench' });
  const enginePath = async () => {
    const ex = await engine.executeStep(run.id, 'orders', { user: 'bench' });
    if (ex.status !== 'succeeded' || ex.count !== expected) throw new Error(`engine: ${JSON.stringify(ex.error)}`);
  };
  const [directSamples, noStsSamples, engineSamples] = await timeInterleaved(iterations, [directPath, noStsPath, enginePath]);
  await engine.complete(run.id, { user: 'bench' });
  await engine.close();
  broker.destroy();

  const d = stats(directSamples);
  const n = stats(noStsSamples);
  const e = stats(engineSamples);
  const fmt = (x: number) => x.toFixed(2).padStart(8);
  console.log(`Query of 3 items, ${iterations} iterations each (ms)`);
  console.log(`path      median      p95     mean   ratio (median / direct)`);
  console.log(`direct  ${fmt(d.median)} ${fmt(d.p95)} ${fmt(d.mean)}   1.00`);
  console.log(`no-sts  ${fmt(n.median)} ${fmt(n.p95)} ${fmt(n.mean)}   ${(n.median / d.median).toFixed(2)}`);
  console.log(`engine  ${fmt(e.median)} ${fmt(e.p95)} ${fmt(e.mean)}   ${(e.median / d.median).toFixed(2)}`);
} finally {
  await sandbox.stop();
  await rm(dataDir, { recursive: true, force: true });
}
