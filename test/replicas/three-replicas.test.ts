// Three replicas on one DynamoDB store: any request on any replica, one run passed from hand to
// hand, a viewer on a replica that did little of it seeing all of it, and completion on one replica
// revoking the sessions another one was issued (refused by the gateway, not just forgotten).
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsOf } from '../../server/aws/credentials.js';
import type { RunEvent } from '../../server/runs/types.js';
import { dynamoClient, localDynamo } from '../helpers/sandbox.js';
import { call, eventually, putParts, replicaWorld, viewer, type Replica, type ReplicaWorld } from './replicas.js';

// What is recorded, and so reaches the viewers of every replica (step.started and session.issued
// reach those of the replica doing the work only: docs/deploy.md).
const RECORDED = new Set(['run.started', 'step.succeeded', 'step.failed', 'approval.requested', 'approval.decided', 'approval.updated', 'session.revoked', 'run.completed']);

function eventSteps(events: RunEvent[], runId: string): string[] {
  return events
    .filter((e) => RECORDED.has(e.type) && ('runId' in e ? e.runId === runId : e.run.id === runId))
    .map((e) => {
      if (e.type === 'step.succeeded' || e.type === 'step.failed') return `${e.type} ${e.step} ${e.execution.n}/${e.execution.pages}`;
      if (e.type === 'approval.requested' || e.type === 'approval.decided' || e.type === 'approval.updated') return `${e.type} ${e.step} ${e.approval.status}`;
      return e.type;
    });
}

describe('three replicas on one store', () => {
  let world: ReplicaWorld;
  let a: Replica;
  let b: Replica;
  let c: Replica;

  beforeAll(async () => {
    world = await replicaWorld();
    [a, b, c] = [await world.replica('A'), await world.replica('B'), await world.replica('C')];
  });
  afterAll(() => world?.close());

  it("runs one run across A, B and C; a viewer on C sees every recorded event in order; B's sessions are refused after A completes", async () => {
    await putParts(world, 'item-1', 5);
    const onC = await viewer(c);
    try {
      const started = await call(a, 'alice', 'POST', '/api/runs', { runbook: 'ops/replicas', params: { id: 'item-1' } });
      expect(started.status).toBe(201);
      const runId: string = started.json.run.id;

      const first = await call(b, 'alice', 'POST', `/api/runs/${runId}/steps/parts/execute`, {});
      expect(first.status).toBe(200);
      expect(first.json.execution).toMatchObject({ status: 'succeeded', hasMore: true, itemCount: 2 });
      // B's session, as an attacker holding it would keep it.
      const bSession = b.engine.sessionsOf(runId).find((s) => s.assumedRoleId === first.json.execution.session.assumedRoleId)!;
      const stolen = { ...credentialsOf(bSession) } as { accessKeyId: string; secretAccessKey: string; sessionToken: string };

      const more = await call(c, 'alice', 'POST', `/api/runs/${runId}/steps/parts/more`, {});
      expect(more.status).toBe(200);
      expect(more.json.execution).toMatchObject({ n: 1, itemCount: 4, pages: 2, hasMore: true });

      const asked = await call(a, 'alice', 'POST', `/api/runs/${runId}/steps/fix/execute`, { confirm: true });
      expect(asked.status).toBe(409);
      expect(asked.json.error.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
      const approved = await call(b, 'bob', 'POST', `/api/runs/${runId}/steps/fix/approve`, { comment: 'ok' });
      expect(approved.status).toBe(200);
      expect(approved.json.approval).toMatchObject({ status: 'approved', decidedBy: 'bob' });
      const fixed = await call(c, 'alice', 'POST', `/api/runs/${runId}/steps/fix/execute`, { confirm: true });
      expect(fixed.status).toBe(200);
      expect(fixed.json.execution).toMatchObject({ status: 'succeeded', attributes: { state: 'FIXED', writes: 1 } });

      // Before completion the session B was issued still works (the refusal below is revocation's doing).
      const query = new QueryCommand({ TableName: world.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'item-1' } } });
      const client = dynamoClient(stolen, world.info);
      try {
        expect((await client.send(query)).Count).toBe(5);
        const completed = await call(a, 'alice', 'POST', `/api/runs/${runId}/complete`, {});
        expect(completed.status).toBe(200);
        expect(completed.json.run).toMatchObject({ status: 'completed', revocation: { iam: 'done' } });
        await expect(client.send(query)).rejects.toMatchObject({ name: 'AccessDeniedException' });
      } finally {
        client.destroy();
      }
      // B forgets its sessions of the run when it learns of the end.
      await eventually(() => expect(b.engine.sessionsOf(runId)).toHaveLength(0));

      const expected = [
        'run.started',
        'step.succeeded parts 1/1',
        'step.succeeded parts 1/2',
        'approval.requested fix pending',
        'approval.decided fix approved',
        'approval.updated fix used',
        'step.succeeded fix 1/1',
        'session.revoked',
        'run.completed',
      ];
      await eventually(() => expect(eventSteps(onC.events, runId)).toEqual(expected));

      // Every replica shows the same run, and serves its items and transcript.
      for (const r of [a, b, c]) {
        const view = await call(r, 'bob', 'GET', `/api/runs/${runId}`);
        expect(view.json.run).toMatchObject({ status: 'completed', approvals: { fix: { status: 'used', requestedBy: 'alice', decidedBy: 'bob' } } });
        const items = await call(r, 'bob', 'GET', `/api/runs/${runId}/steps/parts/items?offset=0&limit=10`);
        expect(items.json.items.map((i: { sk: string }) => i.sk)).toEqual(['0', '1', '2', '3']);
        const transcript = await fetch(`${r.url}/api/runs/${runId}/transcript?format=json`, {
          headers: { authorization: `Bearer ${'bob-token-0123456789abcdef0123456789abcdef'}` },
        });
        expect(transcript.status).toBe(200);
      }
    } finally {
      onC.close();
    }
  });

  it('ten concurrent executes of one approved step, spread over the three replicas: exactly one runs', async () => {
    await putParts(world, 'item-2', 1);
    const runId: string = (await call(a, 'alice', 'POST', '/api/runs', { runbook: 'ops/replicas', params: { id: 'item-2' } })).json.run.id;
    expect((await call(b, 'alice', 'POST', `/api/runs/${runId}/steps/fix/execute`, { confirm: true })).json.error.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
    expect((await call(c, 'bob', 'POST', `/api/runs/${runId}/steps/fix/approve`, {})).status).toBe(200);

    const replicas = [a, b, c];
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(replicas[i % 3], 'alice', 'POST', `/api/runs/${runId}/steps/fix/execute`, { confirm: true })));
    const ran = answers.filter((r) => r.status === 200);
    expect(ran).toHaveLength(1);
    expect(ran[0].json.execution).toMatchObject({ status: 'succeeded', attributes: { writes: 1 } });
    // The others found the approval used: a new request is pending, nothing else ran.
    for (const r of answers.filter((x) => x.status !== 200)) expect(r.json.error.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');

    const local = localDynamo(world.info);
    try {
      const item = await local.send(new GetItemCommand({ TableName: world.table, Key: { pk: { S: 'item-2' }, sk: { S: '0' } }, ConsistentRead: true }));
      expect(item.Item?.writes).toEqual({ N: '1' });
    } finally {
      local.destroy();
    }
    const run = (await call(a, 'bob', 'GET', `/api/runs/${runId}`)).json.run;
    expect(run.executions.filter((e: { step: string }) => e.step === 'fix')).toHaveLength(1);
    expect(run.approvals.fix.status).toBe('pending');
    expect(run.pastApprovals.filter((p: { step: string; status: string }) => p.step === 'fix').map((p: { status: string }) => p.status)).toEqual(['used']);
    await call(b, 'alice', 'POST', `/api/runs/${runId}/complete`, {});
  });
});
