// Outgoing webhooks end to end: the real engine and server on 127.0.0.1, the fixture runbook
// shop/fix-item (alice requests, bob approves), and local receivers that fail, refuse or stall.
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookDispatcher } from '../../server/notify/webhooks.js';
import type { WebhookDecl, WebhookEvent } from '../../server/notify/webhooks-file.js';
import { closedPort, startReceiver, until, verifySignature, type Receiver } from '../notify/receiver.js';
import { bearer, ensureItemsTable, putItem, startTestServer, unique, type TestServer, type Who } from './helpers.js';

const SECRET = 'hook-secret-0123456789abcdef0123';
const EVENTS: WebhookEvent[] = ['approval.requested', 'approval.decided', 'run.completed', 'step.failed'];

interface Api {
  call(who: Who | null, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }>;
}

/** Listens on 127.0.0.1 (a free port) and talks to the server over real HTTP. */
async function listen(server: TestServer): Promise<Api> {
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  return {
    async call(who, method, path, body) {
      const headers: Record<string, string> = who ? { ...bearer(who) } : {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, json: await res.json() };
    },
  };
}

async function startFixRun(api: Api): Promise<{ runId: string; itemId: string }> {
  const itemId = unique('hook');
  await putItem({ id: itemId, state: 'BROKEN' });
  const res = await api.call('alice', 'POST', '/api/runs', { runbook: 'shop/fix-item', params: { id: itemId, to: 'FIXED' } });
  expect(res.status).toBe(201);
  return { runId: res.json.run.id, itemId };
}

describe('outgoing webhooks', () => {
  beforeAll(async () => {
    await ensureItemsTable();
  });

  describe('a receiver that fails twice, then accepts', () => {
    let receiver: Receiver;
    let server: TestServer;
    let api: Api;
    beforeAll(async () => {
      receiver = await startReceiver((r) => (r.attempt <= 2 ? 500 : 200));
      const hooks: WebhookDecl[] = [
        { url: receiver.url('/json?team=db'), events: EVENTS, secret: SECRET, format: 'json' },
        { url: receiver.url('/slack'), events: EVENTS, secret: SECRET, format: 'slack' },
      ];
      server = await startTestServer({ webhooks: createWebhookDispatcher({ hooks, backoffMs: [20, 40, 80], publicUrl: 'https://runbooks.example.com' }) });
      api = await listen(server);
    });
    afterAll(async () => {
      await server.close();
      await receiver.close();
    });

    it('gets each event after the retries, signed, with its headers, in both formats', async () => {
      const { runId } = await startFixRun(api);
      expect((await api.call('alice', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true })).status).toBe(409);
      expect((await api.call('bob', 'POST', `/api/runs/${runId}/steps/set-state/approve`, { comment: 'the card number is 4111' })).status).toBe(200);
      const ran = await api.call('alice', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true });
      expect(ran.json.execution.status).toBe('succeeded');
      expect((await api.call('alice', 'POST', `/api/runs/${runId}/complete`)).status).toBe(200);
      const refused = await api.call('alice', 'POST', '/api/runs', { runbook: 'shop/readonly-write', params: { id: unique('hook-refused') } });
      const failedRun = refused.json.run.id as string;
      expect((await api.call('alice', 'POST', `/api/runs/${failedRun}/steps/put-item/execute`, { confirm: true })).json.execution.status).toBe('failed');

      // requested, decided, completed, failed: four events, two formats, three attempts each.
      await until(() => receiver.received.filter((r) => r.answered === 200).length === 8, 15_000, 'eight deliveries');
      const health = (await api.call(null, 'GET', '/api/health')).json;
      expect(health).toMatchObject({ ok: true, webhooks: { configured: 2, delivered: 8, failed: 0, pending: 0, lastFailure: { url: receiver.url(''), status: 500 } } });

      for (const accepted of receiver.received.filter((r) => r.answered === 200)) {
        const id = accepted.headers['x-runbooks-delivery'];
        const tries = receiver.received.filter((r) => r.headers['x-runbooks-delivery'] === id);
        expect(tries.map((t) => t.answered)).toEqual([500, 500, 200]);
        // The same body and signature every time: a receiver can deduplicate by delivery id.
        expect(new Set(tries.map((t) => t.body)).size).toBe(1);
        expect(new Set(tries.map((t) => t.headers['x-runbooks-signature-256'])).size).toBe(1);
        expect(verifySignature(SECRET, accepted.body, accepted.headers['x-runbooks-signature-256'])).toBe(true);
        expect(verifySignature('another-secret-0123456789', accepted.body, accepted.headers['x-runbooks-signature-256'])).toBe(false);
        expect(accepted.headers['content-type']).toBe('application/json');
        expect(EVENTS).toContain(accepted.headers['x-runbooks-event']);
      }

      const body = (path: string, event: string) => {
        const r = receiver.received.find((x) => x.path.startsWith(path) && x.answered === 200 && x.headers['x-runbooks-event'] === event);
        expect(r, `${path} ${event}`).toBeDefined();
        return JSON.parse(r!.body);
      };
      const link = `https://runbooks.example.com/#/runs/${runId}`;
      const common = { runId, runbook: 'shop/fix-item', title: "Fix an item's state", url: link, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) };
      expect(body('/json', 'approval.requested')).toEqual({ event: 'approval.requested', ...common, step: 'set-state', requestedBy: 'alice', status: 'pending' });
      expect(body('/json', 'approval.decided')).toEqual({ event: 'approval.decided', ...common, step: 'set-state', requestedBy: 'alice', decidedBy: 'bob', status: 'approved' });
      expect(body('/json', 'run.completed')).toEqual({ event: 'run.completed', ...common, user: 'alice', status: 'completed', endReason: 'complete' });
      expect(body('/json', 'step.failed')).toMatchObject({
        event: 'step.failed',
        runId: failedRun,
        runbook: 'shop/readonly-write',
        step: 'put-item',
        user: 'alice',
        n: 1,
        error: { code: 'RB_ERR_DYNAMO_ACCESS_DENIED', awsCode: 'AccessDeniedException' },
      });

      const slackLink = `<${link}|${runId}>`;
      expect(body('/slack', 'approval.requested')).toEqual({ text: `alice asks for approval of step set-state of run ${slackLink} (Fix an item's state)` });
      expect(body('/slack', 'approval.decided')).toEqual({ text: `bob approved step set-state of run ${slackLink} (Fix an item's state)` });
      expect(body('/slack', 'run.completed')).toEqual({ text: `Run ${slackLink} (Fix an item's state), started by alice, was completed` });
      expect(body('/slack', 'step.failed').text).toMatch(
        /^Step put-item of run <https:\/\/runbooks\.example\.com\/#\/runs\/[a-z0-9-]+\|[a-z0-9-]+> \(A write the role does not allow\) failed for alice: RB_ERR_DYNAMO_ACCESS_DENIED \(AccessDeniedException\)$/,
      );

      // Small bodies: no items, requests, policies, comments, sessions or secrets.
      const all = receiver.received.map((r) => r.body).join('\n');
      for (const never of ['FIXED', 'BROKEN', 'RbHttpItems', 'Statement', '4111', 'AROA', 'ASIA', 'assumedRoleId', SECRET]) expect(all, never).not.toContain(never);
    });
  });

  it('counts a receiver that refuses connections as failed after its attempts, in /api/health and the log', async () => {
    const port = await closedPort();
    const logged: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        logged.push(String(chunk));
        done();
      },
    });
    const hooks: WebhookDecl[] = [{ url: `http://127.0.0.1:${port}/p4th-secret?token=q-secret`, events: ['run.completed'], secret: SECRET, format: 'json' }];
    const server = await startTestServer({ logger: { level: 'warn', stream }, webhooks: createWebhookDispatcher({ hooks, backoffMs: [10, 20, 40] }) });
    try {
      const api = await listen(server);
      const started = await api.call('alice', 'POST', '/api/runs', { runbook: 'shop/customer', params: { customerId: 'C1001' } });
      expect((await api.call('alice', 'POST', `/api/runs/${started.json.run.id}/complete`)).status).toBe(200);
      let health: any;
      await until(
        async () => {
          health = (await api.call(null, 'GET', '/api/health')).json;
          return health.webhooks.failed === 1;
        },
        10_000,
        'the failure in /api/health',
      );
      // The server stays healthy: webhooks are reported beside its liveness, not in it.
      expect(health).toEqual({
        ok: true,
        webhooks: {
          configured: 1,
          delivered: 0,
          failed: 1,
          dropped: 0,
          pending: 0,
          lastFailure: { at: expect.any(String), url: `http://127.0.0.1:${port}`, error: 'ECONNREFUSED' },
        },
      });
      const failures = logged.filter((l) => l.includes('webhooks: delivery'));
      expect(failures).toHaveLength(4);
      expect(failures[3]).toMatch(new RegExp(`"webhook":"127\\.0\\.0\\.1:${port}".*"error":"ECONNREFUSED".*giving up after 4 attempts`));
      for (const never of ['p4th-secret', 'q-secret', SECRET]) expect(logged.join('')).not.toContain(never);
    } finally {
      await server.close();
    }
  });

  it('never holds up the API: execute and approve answer while the receiver still holds the request', async () => {
    const receiver = await startReceiver(() => 'hold');
    const hooks: WebhookDecl[] = [{ url: receiver.url('/slow'), events: EVENTS, secret: SECRET, format: 'json' }];
    const server = await startTestServer({ webhooks: createWebhookDispatcher({ hooks, timeoutMs: 60_000, closeGraceMs: 100 }) });
    try {
      const api = await listen(server);
      const { runId } = await startFixRun(api);
      const requested = await api.call('alice', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true });
      expect(requested.json.error.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
      await until(() => receiver.held().length === 1, 10_000, 'the held approval.requested delivery');
      const [first] = receiver.held();
      expect(first.headers['x-runbooks-event']).toBe('approval.requested');

      const approved = await api.call('bob', 'POST', `/api/runs/${runId}/steps/set-state/approve`, {});
      expect(approved.status).toBe(200);
      // The approve route answered while the first delivery was still held, unanswered.
      expect(receiver.held()).toContain(first);
      expect(first.answered).toBeUndefined();
      await until(() => receiver.held().length === 2, 10_000, 'the held approval.decided delivery');
      const ran = await api.call('alice', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true });
      expect(ran.json.execution.status).toBe('succeeded');
      expect(receiver.held()).toHaveLength(2);
      expect((await api.call(null, 'GET', '/api/health')).json.webhooks).toMatchObject({ delivered: 0, pending: 2 });

      receiver.release(204);
      await until(async () => (await api.call(null, 'GET', '/api/health')).json.webhooks.delivered === 2, 10_000, 'both deliveries');
    } finally {
      await server.close();
      await receiver.close();
    }
  });
});
