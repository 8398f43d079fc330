// Idle expiry on replicas: every replica watches every run's idleness, and the run still ends once —
// one run.ended record, one completion in the audit chain — by whichever replica gets there first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDynamoStore } from '../../server/runs/dynamo-store.js';
import { dynamoClient } from '../helpers/sandbox.js';
import { auditTypes, call, eventually, replicaWorld, type Replica, type ReplicaWorld } from './replicas.js';

describe('idle expiry with three replicas', () => {
  let world: ReplicaWorld;
  let replicas: Replica[];

  beforeAll(async () => {
    world = await replicaWorld();
    // Each checks every 150 ms whether a run has been idle for 600 ms.
    replicas = [await world.replica('A', { idleTimeoutMs: 600 }), await world.replica('B', { idleTimeoutMs: 600 }), await world.replica('C', { idleTimeoutMs: 600 })];
  });
  afterAll(() => world?.close());

  it('ends an idle run once, whichever replica gets there first', async () => {
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) runIds.push((await call(replicas[i], 'alice', 'POST', '/api/runs', { runbook: 'ops/replicas', params: { id: `idle-${i}` } })).json.run.id);
    for (const runId of runIds) {
      await eventually(async () => expect((await call(replicas[0], 'bob', 'GET', `/api/runs/${runId}`)).json.run.status).toBe('expired'));
    }
    // Let every replica's timer pass over the ended runs a few more times.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const client = dynamoClient({ accessKeyId: world.info.accessKeyId, secretAccessKey: world.info.secretAccessKey }, world.info);
    try {
      const store = await openDynamoStore({ client, prefix: world.prefix });
      for (const runId of runIds) {
        const read = await store.read(runId);
        expect(read!.records.filter((r) => r.type === 'run.ended').map((r) => (r.type === 'run.ended' ? r.reason : ''))).toEqual(['idle']);
        expect(await auditTypes(world, runId)).toEqual(['run.started', 'session.revoked', 'run.completed']);
      }
    } finally {
      client.destroy();
    }
  });
});
