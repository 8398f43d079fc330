// The run routes end to end through inject(), with the real engine against the shared sandbox:
// starting runs, executing, paging, confirmation, approvals by another user, completion with
// revocation, transcripts and CSV — and no credential in any answer.
import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDynamo } from '../helpers/sandbox.js';
import { bearer, credentialLeaks, ensureItemsTable, ITEMS_TABLE, putItem, startTestServer, unique, type TestServer, type Who } from './helpers.js';

const HOSTILE = '<script>window.pwned=1</script>';

describe('run routes', () => {
  let server: TestServer;
  const bodies: string[] = [];

  beforeAll(async () => {
    await ensureItemsTable();
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
    // Nothing the server answered, in any test of this file, held a credential.
    expect(credentialLeaks(bodies.join('\n'))).toEqual([]);
  });

  async function call(who: Who | null, method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const options: InjectOptions = { method, url, headers: { ...(who ? bearer(who) : {}), ...headers } };
    if (payload !== undefined) options.payload = payload as InjectOptions['payload'];
    const res = await server.app.inject(options);
    bodies.push(res.body);
    return res;
  }

  async function startRun(who: Who, runbook: string, params: Record<string, unknown>): Promise<string> {
    const res = await call(who, 'POST', '/api/runs', { runbook, params });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().run.id as string;
  }

  describe('starting a run', () => {
    it('starts a run (201) with the validated parameters, the user and its role', async () => {
      const res = await call('alice', 'POST', '/api/runs', { runbook: 'shop/customer', params: { customerId: 'C1001' } });
      expect(res.statusCode).toBe(201);
      const { run } = res.json();
      expect(run).toMatchObject({
        runbook: 'shop/customer',
        title: 'Look up a customer',
        user: 'alice',
        status: 'active',
        params: { customerId: 'C1001' },
        executions: [],
        approvals: {},
      });
      expect(run.id).toMatch(/^[a-z0-9-]+$/);
      expect(run.roleArn).toMatch(/:role\/runbook-tester$/);
      const again = await call('bob', 'GET', `/api/runs/${run.id}`);
      expect(again.json().run.id).toBe(run.id);
      const list = await call('bob', 'GET', '/api/runs');
      expect(list.json().runs[0].id).toBe(run.id);
    });

    it('answers 400 RB_ERR_PARAM_INVALID naming each bad parameter', async () => {
      const res = await call('alice', 'POST', '/api/runs', { runbook: 'shop/customer', params: { customerId: 'X1', extra: 'y' } });
      expect(res.statusCode).toBe(400);
      const { error } = res.json();
      expect(error.code).toBe('RB_ERR_PARAM_INVALID');
      const names = error.details.params.map((p: { param: string }) => p.param).sort();
      expect(names).toEqual(['customerId', 'extra']);
      const missing = await call('alice', 'POST', '/api/runs', { runbook: 'shop/customer' });
      expect(missing.json().error.details.params[0].param).toBe('customerId');
    });

    it('answers 422 RB_ERR_RUNBOOK_INVALID with the problems for a runbook that has them', async () => {
      const res = await call('alice', 'POST', '/api/runs', { runbook: 'broken', params: {} });
      expect(res.statusCode).toBe(422);
      expect(res.json().error.code).toBe('RB_ERR_RUNBOOK_INVALID');
      expect(res.json().error.details.problems[0]).toMatchObject({ file: 'broken.md', line: 3 });
    });

    it('answers 404 for an unknown runbook and 400 for a malformed body', async () => {
      expect((await call('alice', 'POST', '/api/runs', { runbook: 'shop/nope', params: {} })).json().error.code).toBe('RB_ERR_RUNBOOK_NOT_FOUND');
      expect((await call('alice', 'POST', '/api/runs', { runbook: '../etc/passwd' })).statusCode).toBe(404);
      for (const body of [{}, { runbook: 'shop/customer', parms: {} }, { runbook: 'shop/customer', params: { customerId: { $ne: 1 } } }, { runbook: 42 }]) {
        const res = await call('alice', 'POST', '/api/runs', body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json().error.code).toBe('RB_ERR_HTTP_BAD_REQUEST');
        expect(res.json().error.details.errors.length).toBeGreaterThan(0);
      }
    });
  });

  describe('executing steps', () => {
    it('runs a read step with its own session and returns the execution', async () => {
      const runId = await startRun('alice', 'shop/customer', { customerId: 'C1001' });
      const res = await call('alice', 'POST', `/api/runs/${runId}/steps/read-customer/execute`);
      expect(res.statusCode).toBe(200);
      const { execution } = res.json();
      expect(execution).toMatchObject({ n: 1, step: 'read-customer', user: 'alice', status: 'succeeded', count: 1, hasMore: false, confirmed: false });
      expect(execution.items[0]).toMatchObject({ customerId: 'C1001', name: 'Ada Lovelace' });
      // The request exactly as sent: the engine asks for consumed capacity where the step does not say.
      expect(execution.request).toEqual({ operation: 'GetItem', input: { TableName: 'Customers', Key: { customerId: 'C1001' }, ReturnConsumedCapacity: 'TOTAL' } });
      expect(execution.consumedCapacity).toEqual([expect.objectContaining({ TableName: 'Customers', CapacityUnits: expect.any(Number) })]);
      expect(JSON.stringify(execution.policy)).toContain('dynamodb:GetItem');
      expect(JSON.stringify(execution.policy)).toContain('dynamodb:LeadingKeys');
      expect(execution.session.assumedRoleId).toMatch(new RegExp(`^AROA[A-Z0-9]+:rb-${runId}-`));
      expect(Object.keys(execution.session).sort()).toEqual(['assumedRoleId', 'expiration', 'issuedAt', 'revoked', 'roleArn', 'sessionName']);
      const run = (await call('alice', 'GET', `/api/runs/${runId}`)).json().run;
      expect(run.executions).toHaveLength(1);
      expect(run.executions[0].items).toEqual(execution.items);
      // The list names each execution's outcome, without its items, request or policy.
      const listed = (await call('alice', 'GET', '/api/runs')).json().runs.find((r: { id: string }) => r.id === runId);
      expect(listed.executions).toEqual([expect.objectContaining({ step: 'read-customer', status: 'succeeded', count: 1 })]);
      for (const heavy of ['items', 'request', 'policy']) expect(listed.executions[0]).not.toHaveProperty(heavy);
    });

    it('reports a step AWS refused as 200 with status failed and the error', async () => {
      const runId = await startRun('alice', 'shop/readonly-write', { id: unique('refused') });
      const res = await call('alice', 'POST', `/api/runs/${runId}/steps/put-item/execute`, { confirm: true });
      expect(res.statusCode).toBe(200);
      const { execution } = res.json();
      expect(execution.status).toBe('failed');
      expect(execution.error.code).toMatch(/^RB_ERR_DYNAMO/);
      expect(execution.error.awsCode).toBe('AccessDeniedException');
    });

    it('answers 404 for an unknown step or run, and 400 for a malformed id', async () => {
      const runId = await startRun('alice', 'shop/customer', { customerId: 'C1002' });
      expect((await call('alice', 'POST', `/api/runs/${runId}/steps/no-such-step/execute`)).json().error.code).toBe('RB_ERR_STEP_NOT_FOUND');
      expect((await call('alice', 'POST', '/api/runs/ffffffffff/steps/read-customer/execute')).json().error.code).toBe('RB_ERR_RUN_NOT_FOUND');
      expect((await call('alice', 'GET', '/api/runs/ffffffffff')).statusCode).toBe(404);
      const bad = await call('alice', 'POST', `/api/runs/${runId}/steps/Bad_Step/execute`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.details.errors[0]).toMatchObject({ in: 'params', path: '/step' });
      expect((await call('alice', 'POST', `/api/runs/${runId}/steps/read-customer/execute`, { confirm: 'yes' })).statusCode).toBe(400);
    });

    it('pages with more until the last item, then 409 RB_ERR_RUN_NO_MORE_PAGES; CSV holds every item', async () => {
      const runId = await startRun('alice', 'shop/orders', { customerId: 'C1001' });
      const first = (await call('alice', 'POST', `/api/runs/${runId}/steps/orders/execute`, {})).json().execution;
      expect(first.items).toHaveLength(2);
      expect(first.hasMore).toBe(true);
      // No body at all, and an empty JSON body, both mean {}.
      const more = await call('alice', 'POST', `/api/runs/${runId}/steps/orders/more`, '', { 'content-type': 'application/json' });
      expect(more.statusCode, more.body).toBe(200);
      expect(more.json().execution.items).toHaveLength(3);
      expect(more.json().execution.hasMore).toBe(false);
      const none = await call('alice', 'POST', `/api/runs/${runId}/steps/orders/more`);
      expect(none.statusCode).toBe(409);
      expect(none.json().error.code).toBe('RB_ERR_RUN_NO_MORE_PAGES');

      const csv = await call('bob', 'GET', `/api/runs/${runId}/steps/orders/result.csv`);
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(csv.headers['content-disposition']).toBe(`attachment; filename="${runId}-orders.csv"`);
      const lines = csv.body.split('\r\n').filter((l) => l !== '');
      expect(lines).toHaveLength(4);
      expect(lines[0].split(',')[0]).toBe('pk');
      expect(csv.body).toContain('ORDER#2026-11-25#C9');
    });

    it('answers 404 RB_ERR_RUN_NO_EXECUTION for the CSV of a step that has not run', async () => {
      const runId = await startRun('alice', 'shop/orders', { customerId: 'C1002' });
      const res = await call('alice', 'GET', `/api/runs/${runId}/steps/orders/result.csv`);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('RB_ERR_RUN_NO_EXECUTION');
      expect((await call('alice', 'GET', `/api/runs/${runId}/steps/other/result.csv`)).json().error.code).toBe('RB_ERR_STEP_NOT_FOUND');
    });
  });

  describe('writes and approvals', () => {
    let itemId: string;
    let runId: string;

    beforeAll(async () => {
      itemId = unique('fix');
      await putItem({ id: itemId, state: 'BROKEN', note: HOSTILE });
      runId = await startRun('alice', 'shop/fix-item', { id: itemId, to: 'FIXED' });
    });

    it('reads the item', async () => {
      const { execution } = (await call('alice', 'POST', `/api/runs/${runId}/steps/read-item/execute`)).json();
      expect(execution.items).toEqual([{ id: itemId, state: 'BROKEN', note: HOSTILE }]);
    });

    it('asks for approval first (409 with the pending approval, its request and policy)', async () => {
      const res = await call('alice', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true });
      expect(res.statusCode).toBe(409);
      const { error } = res.json();
      expect(error.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
      expect(error.details.approval).toMatchObject({ step: 'set-state', status: 'pending', requestedBy: 'alice' });
      expect(error.details.approval.request.input).toMatchObject({ TableName: ITEMS_TABLE, Key: { id: itemId }, ExpressionAttributeValues: { ':to': 'FIXED' } });
      expect(JSON.stringify(error.details.approval.policy)).toContain('dynamodb:UpdateItem');
      const still = await call('alice', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true });
      expect(still.json().error.details.approval.status).toBe('pending');
      // The approver sees it in the run, with what will run.
      const run = (await call('bob', 'GET', `/api/runs/${runId}`)).json().run;
      expect(run.approvals['set-state'].status).toBe('pending');
    });

    it('refuses a runner approving (403 RB_ERR_AUTH_FORBIDDEN)', async () => {
      const res = await call('alice', 'POST', `/api/runs/${runId}/steps/set-state/approve`, { comment: 'mine' });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('RB_ERR_AUTH_FORBIDDEN');
    });

    it('lets another user approve with a comment', async () => {
      const res = await call('bob', 'POST', `/api/runs/${runId}/steps/set-state/approve`, { comment: 'checked the payment' });
      expect(res.statusCode).toBe(200);
      expect(res.json().approval).toMatchObject({ status: 'approved', decidedBy: 'bob', comment: 'checked the payment', requestedBy: 'alice' });
      expect((await call('bob', 'POST', `/api/runs/${runId}/steps/set-state/approve`, {})).json().error.code).toBe('RB_ERR_APPROVAL_NOT_PENDING');
    });

    it('lets only the requester execute the approved step, confirmed, once', async () => {
      expect((await call('bob', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true })).statusCode).toBe(403);
      const carol = await call('carol', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true });
      expect(carol.statusCode).toBe(403);
      expect(carol.json().error.code).toBe('RB_ERR_AUTH_FORBIDDEN');

      const unconfirmed = await call('alice', 'POST', `/api/runs/${runId}/steps/set-state/execute`, {});
      expect(unconfirmed.statusCode).toBe(409);
      expect(unconfirmed.json().error.code).toBe('RB_ERR_RUN_CONFIRM_REQUIRED');
      expect(unconfirmed.json().error.details.request.input.Key).toEqual({ id: itemId });
      expect(JSON.stringify(unconfirmed.json().error.details.policy)).toContain('dynamodb:UpdateItem');

      const done = await call('alice', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true });
      expect(done.statusCode).toBe(200);
      expect(done.json().execution).toMatchObject({ status: 'succeeded', confirmed: true, attributes: { id: itemId, state: 'FIXED' } });
      const doc = DynamoDBDocumentClient.from(localDynamo());
      expect((await doc.send(new GetCommand({ TableName: ITEMS_TABLE, Key: { id: itemId } }))).Item?.state).toBe('FIXED');

      const run = (await call('alice', 'GET', `/api/runs/${runId}`)).json().run;
      expect(run.approvals['set-state'].status).toBe('used');
      // Once: the next execution needs a new approval.
      const again = await call('alice', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true });
      expect(again.json().error.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
      const denied = await call('carol', 'POST', `/api/runs/${runId}/steps/set-state/deny`, { comment: 'once is enough' });
      expect(denied.json().approval).toMatchObject({ status: 'denied', decidedBy: 'carol', comment: 'once is enough' });
    });

    it('refuses self-approval, also to an admin and to a user holding both roles', async () => {
      for (const who of ['carol', 'owner'] as const) {
        const id = await startRun(who, 'shop/fix-item', { id: unique('self'), to: 'FIXED' });
        expect((await call(who, 'POST', `/api/runs/${id}/steps/set-state/execute`, { confirm: true })).statusCode).toBe(409);
        const res = await call(who, 'POST', `/api/runs/${id}/steps/set-state/approve`, { comment: 'looks fine to me' });
        expect(res.statusCode).toBe(403);
        expect(res.json().error.code).toBe('RB_ERR_APPROVAL_SELF');
      }
    });

    it('completes the run: sessions revoked, nothing more runs', async () => {
      const res = await call('alice', 'POST', `/api/runs/${runId}/complete`);
      expect(res.statusCode).toBe(200);
      const { run } = res.json();
      expect(run.status).toBe('completed');
      expect(run.revocation).toMatchObject({ iam: 'off' });
      expect(run.revocation.sessions).toBeGreaterThanOrEqual(2);
      expect(run.executions.every((e: { session?: { revoked: boolean } }) => !e.session || e.session.revoked)).toBe(true);
      const after = await call('alice', 'POST', `/api/runs/${runId}/steps/read-item/execute`);
      expect(after.statusCode).toBe(409);
      expect(after.json().error.code).toBe('RB_ERR_RUN_NOT_ACTIVE');
      expect((await call('alice', 'POST', `/api/runs/${runId}/complete`)).statusCode).toBe(409);
    });

    it('exports the transcript in three formats with parameters, requests, policies, sessions and results', async () => {
      const run = (await call('alice', 'GET', `/api/runs/${runId}`)).json().run;
      const sessions: string[] = run.executions.map((e: { session: { assumedRoleId: string } }) => e.session.assumedRoleId);
      expect(sessions).toHaveLength(2);
      const types = { md: 'text/markdown', json: 'application/json', html: 'text/html' };
      for (const [format, type] of Object.entries(types)) {
        const res = await call('bob', 'GET', `/api/runs/${runId}/transcript?format=${format}`);
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(new RegExp(`^${type}`));
        expect(res.headers['content-disposition']).toBe(`attachment; filename="${runId}.${format}"`);
        const text = res.body;
        for (const expected of [itemId, 'FIXED', 'UpdateExpression', 'dynamodb:UpdateItem', 'dynamodb:GetItem', ...sessions, run.auditHash, 'alice', 'carol', 'once is enough']) {
          expect(text, `${format} transcript lacks ${expected}`).toContain(expected);
        }
        expect(credentialLeaks(text)).toEqual([]);
        if (format === 'html') {
          expect(text).not.toContain(HOSTILE);
          expect(text).toContain('&lt;script&gt;window.pwned&#x3D;1&lt;/script&gt;');
          const csp = String(res.headers['content-security-policy']);
          expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'$/);
          // The meta tag carries the same policy (frame-ancestors has no effect in a meta tag).
          const meta = csp.replace("; frame-ancestors 'none'", '');
          expect(text).toContain(`content="${meta.replace(/'/g, '&#x27;').replace(/=/g, '&#x3D;')}"`);
        }
        // In Markdown, raw text is only inert inside fenced code blocks (request, policy, attributes).
        if (format === 'md') expect(text.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '')).not.toContain(HOSTILE);
        if (format === 'json') expect(JSON.parse(text).run.executions[0].items[0].note).toBe(HOSTILE);
      }
      expect((await call('bob', 'GET', `/api/runs/${runId}/transcript`)).headers['content-type']).toMatch(/^text\/markdown/);
      expect((await call('bob', 'GET', `/api/runs/${runId}/transcript?format=pdf`)).statusCode).toBe(400);
      expect((await call('bob', 'GET', '/api/runs/ffffffffff/transcript')).statusCode).toBe(404);
    });
  });
});

describe('request hardening', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    // A route that fails unexpectedly, with internals in its message.
    server.app.get('/api/test-failure', async () => {
      throw new Error('database password is hunter2 at /srv/internal/path.ts:42');
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const post = (payload: string, contentType: string) =>
    server.app.inject({ method: 'POST', url: '/api/runs', headers: { ...bearer('alice'), 'content-type': contentType }, payload });

  it('refuses a body over 64 KiB with 413', async () => {
    const res = await post(JSON.stringify({ runbook: 'shop/customer', params: { customerId: 'x'.repeat(70_000) } }), 'application/json');
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('RB_ERR_HTTP_BODY_TOO_LARGE');
  });

  it('refuses bodies that are not JSON objects', async () => {
    expect((await post('{"runbook":', 'application/json')).json().error.code).toBe('RB_ERR_HTTP_BAD_REQUEST');
    expect((await post('<run/>', 'application/xml')).statusCode).toBe(415);
    expect((await post('<run/>', 'application/xml')).json().error.code).toBe('RB_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
    expect((await post('runbook=shop/customer', 'text/plain')).statusCode).toBe(400);
    expect((await post('{"runbook":"shop/customer","__proto__":{"admin":true}}', 'application/json')).statusCode).toBe(400);
  });

  it('answers an unexpected failure with 500 RB_ERR_INTERNAL and nothing of its internals', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/test-failure', headers: bearer('alice') });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'RB_ERR_INTERNAL', message: expect.any(String) } });
    expect(res.body).not.toMatch(/hunter2|\/srv\/internal|at .*\.ts/);
  });

  it('answers unknown routes with 404 RB_ERR_HTTP_NOT_FOUND, and a plain GET of the WebSocket with 400', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/nothing-here', headers: bearer('alice') });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('RB_ERR_HTTP_NOT_FOUND');
    const ws = await server.app.inject({ method: 'GET', url: '/api/events', headers: bearer('alice') });
    expect(ws.statusCode).toBe(400);
  });
});
