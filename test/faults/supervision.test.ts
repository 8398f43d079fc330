/**
 * A DynamoDB Local killed under a running server: /api/health reports it within seconds, the
 * sandbox restarts it on the same port and reseeds it, and steps work again afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/http/app.js';
import type { RunEngine } from '../../server/runs/engine.js';
import { describeSupervisionEvent, startSandbox, type Sandbox, type SandboxConfig, type SupervisionEvent } from '../../server/cli/local-sandbox.js';
import { sandboxEngine } from '../helpers/engine.js';
import { FIXTURES, OWNER } from '../http/helpers.js';

const config: SandboxConfig = {
  account: '000000000000',
  region: 'us-east-1',
  roles: [{ name: 'runbook-tester', maxSessionDuration: 3600, policies: [{ Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] }] }],
  tables: [
    {
      input: {
        TableName: 'Customers',
        KeySchema: [{ AttributeName: 'customerId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'customerId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      },
      items: [{ customerId: 'C1001', name: 'Ada' }],
    },
  ],
};

async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('DynamoDB Local under supervision', () => {
  let sandbox: Sandbox;
  let engine: RunEngine;
  let app: FastifyInstance;
  let dataDir: string;
  const events: SupervisionEvent[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({ config });
    sandbox.onDynamoLocalEvent((event) => events.push(event));
    dataDir = await mkdtemp(join(tmpdir(), 'rb-supervise-'));
    engine = await sandboxEngine(sandbox, { dataDir });
    app = await buildApp({ engine, runbooksDir: FIXTURES, auth: { token: OWNER.token, tokenUser: OWNER.name, users: [] }, sandboxHealth: () => sandbox.health() });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await engine?.close();
    await sandbox?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const health = async () => (await app.inject({ method: 'GET', url: '/api/health' })).json();

  it('reports the death, restarts on the same port, reseeds, and steps work again', async () => {
    expect(await health()).toEqual({ ok: true, sandbox: { dynamoLocal: 'up', restarts: 0 } });
    const endpoint = sandbox.dynamoLocalEndpoint;
    const pid = sandbox.dynamoLocalPid();
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');

    const down = await until(health, (h) => h.ok === false, 5_000);
    expect(down.ok).toBe(false);
    expect(['restarting', 'down']).toContain(down.sandbox.dynamoLocal);
    expect(events[0]).toEqual({ type: 'died', reason: 'signal SIGKILL', willRestart: true });
    expect(describeSupervisionEvent(events[0])).toBe('DynamoDB Local died (signal SIGKILL); restarting; in-memory tables are lost and reseeded from sandbox.yaml');

    const up = await until(health, (h) => h.ok === true, 60_000);
    expect(up).toMatchObject({ ok: true, sandbox: { dynamoLocal: 'up', restarts: 1, lastRestart: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } });
    expect(sandbox.dynamoLocalPid()).not.toBe(pid);
    expect(sandbox.dynamoLocalEndpoint).toBe(endpoint);

    const headers = { authorization: `Bearer ${OWNER.token}` };
    const started = await app.inject({ method: 'POST', url: '/api/runs', headers, payload: { runbook: 'shop/customer', params: { customerId: 'C1001' } } });
    expect(started.statusCode, started.body).toBe(201);
    const runId = started.json().run.id as string;
    const res = await app.inject({ method: 'POST', url: `/api/runs/${runId}/steps/read-customer/execute`, headers });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().execution).toMatchObject({ status: 'succeeded', count: 1 });
  }, 120_000);

  it('stays down, and says so, once the restart budget is spent', async () => {
    const limited = await startSandbox({ config, maxRestarts: 0 });
    const seen: SupervisionEvent[] = [];
    limited.onDynamoLocalEvent((event) => seen.push(event));
    try {
      process.kill(limited.dynamoLocalPid()!, 'SIGKILL');
      const state = await until(
        async () => limited.health(),
        (h) => h.dynamoLocal === 'down',
        5_000,
      );
      expect(state).toEqual({ dynamoLocal: 'down', restarts: 0 });
      expect(seen.map((e) => e.type)).toEqual(['died', 'gave-up']);
      expect(describeSupervisionEvent(seen[0])).toMatch(/not restarting: too many restarts/);
    } finally {
      await limited.stop();
    }
  }, 120_000);
});
