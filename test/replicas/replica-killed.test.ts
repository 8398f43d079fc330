// A replica SIGKILLed right after serving an execute loses nothing: the run stays active, continues
// on another replica from the cursor the dead one stored, completes there, and the audit chain in
// DynamoDB verifies with every record of the run in it once. Real `runbooks serve` processes, as
// they would run against AWS (the standard AWS environment pointed at a private gateway).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuild, runCli, sandboxAwsEnv, startServe, type ServeProcess } from '../helpers/cli.js';
import { callJson, wsOpen } from '../http/helpers.js';
import { auditTypes, putParts, replicaWorld, type ReplicaWorld } from './replicas.js';

const TOKEN = 'replica-test-token-0123456789abcdef01234';
// The address people open behind a load balancer that terminates TLS.
const PUBLIC = 'https://runbooks.example.com';

/** The status a WebSocket upgrade with this Origin gets (101 when accepted). */
async function upgradeStatus(url: URL, origin: string): Promise<number | undefined> {
  const { opened, status, socket } = await wsOpen(new URL('/api/events', url.href.replace('http', 'ws')), { authorization: `Bearer ${TOKEN}`, origin });
  socket?.close();
  return opened ? 101 : status;
}

describe('a replica killed mid-run', () => {
  let world: ReplicaWorld;
  let dataDir: string;
  const serves: ServeProcess[] = [];

  beforeAll(async () => {
    requireBuild();
    world = await replicaWorld();
    dataDir = await mkdtemp(join(tmpdir(), 'rb-replica-killed-'));
  });
  afterAll(async () => {
    for (const s of serves) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await world?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  // The standard AWS environment pointed at the world's private gateway.
  const env = () => sandboxAwsEnv(world.info);
  // What serve and run are given alike: the world's store and role, and this test's data folder.
  const onStore = () => ['--aws', '--store', 'dynamodb', '--store-prefix', world.prefix, '--role', world.roleArn, '--data', dataDir];
  const serve = async () => {
    const s = await startServe([world.runbooksDir, ...onStore(), '--port', '0', '--token', TOKEN, '--public-url', PUBLIC], env());
    serves.push(s);
    return s;
  };
  const api = (s: ServeProcess, method: 'GET' | 'POST', path: string, body?: unknown) => callJson(s.url, { authorization: `Bearer ${TOKEN}` }, method, path, body);

  it('continues on another replica, and `audit verify --store dynamodb` passes with every record once', async () => {
    await putParts(world, 'item-k', 5);
    const [x, y] = await Promise.all([serve(), serve()]);
    const runId: string = (await api(x, 'POST', '/api/runs', { runbook: 'ops/replicas', params: { id: 'item-k' } })).json.run.id;
    const first = await api(y, 'POST', `/api/runs/${runId}/steps/parts/execute`);
    expect(first.json.execution).toMatchObject({ status: 'succeeded', hasMore: true });

    y.child.kill('SIGKILL');
    await y.exited;

    // Still active on the survivor, which continues from the cursor the dead replica stored.
    expect((await api(x, 'GET', `/api/runs/${runId}`)).json.run.status).toBe('active');
    const more = await api(x, 'POST', `/api/runs/${runId}/steps/parts/more`);
    expect(more.status).toBe(200);
    expect(more.json.execution).toMatchObject({ itemCount: 4, pages: 2 });
    const completed = await api(x, 'POST', `/api/runs/${runId}/complete`);
    expect(completed.json.run).toMatchObject({ status: 'completed', revocation: { iam: 'done' } });

    // A replica started afterwards serves the whole run.
    const z = await serve();
    const items = await api(z, 'GET', `/api/runs/${runId}/steps/parts/items?offset=0&limit=10`);
    expect(items.json.items.map((i: { sk: string }) => i.sk)).toEqual(['0', '1', '2', '3']);
    for (const s of [x, z]) s.child.kill('SIGTERM');
    await Promise.all([x.exited, z.exited]);

    const verified = await runCli(['audit', 'verify', '--store', 'dynamodb', '--store-prefix', world.prefix, '--json'], env());
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });

    // Each change of the run is in the chain exactly once.
    const types = await auditTypes(world, runId);
    expect(types).toEqual(['run.started', 'step.executed', 'step.page', 'session.revoked', 'run.completed']);
  });

  it('`runbooks run --store dynamodb` records its run in the store the replicas share', async () => {
    await putParts(world, 'item-r', 3);
    const ran = await runCli(['run', join(world.runbooksDir, 'ops', 'replicas.md'), ...onStore(), '-p', 'id=item-r', '-s', 'parts', '--json'], env());
    expect(ran.code, ran.stderr).toBe(0);
    const runId: string = JSON.parse(ran.stdout).run.id;
    const s = await serve();
    // Behind TLS termination the browser's Origin is the public address, which --public-url names.
    expect(await upgradeStatus(s.url, PUBLIC)).toBe(101);
    expect(await upgradeStatus(s.url, 'https://elsewhere.example.com')).toBe(403);
    const run = (await api(s, 'GET', `/api/runs/${runId}`)).json.run;
    expect(run).toMatchObject({ status: 'completed', revocation: { iam: 'done' } });
    expect(run.executions.map((e: { step: string; itemCount: number }) => [e.step, e.itemCount])).toEqual([['parts', 2]]);
    s.child.kill('SIGTERM');
    await s.exited;
    expect(await auditTypes(world, runId)).toEqual(['run.started', 'step.executed', 'session.revoked', 'run.completed']);
  });
});
