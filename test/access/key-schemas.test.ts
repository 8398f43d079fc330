/**
 * Key schemas cached per server: one lookup per role and table for every run until it is stale,
 * lookups in flight shared, a failed lookup remembered only briefly; each run's lookups still go
 * through a DescribeTable session of its own, named after it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, isHeld, type Broker, type Session } from '../../server/access/broker.js';
import { createKeySchemaCache, createKeySchemaStore } from '../../server/access/key-schemas.js';
import type { KeySchema } from '../../server/dynamo/describe.js';
import { roleArn, sandboxInfo } from '../helpers/sandbox.js';

const schema = (partitionKey: string): KeySchema => ({ partitionKey, indexes: {} });

describe('the key schema store', () => {
  it('looks a key up once while it is fresh, sharing a lookup in flight, and again once stale', async () => {
    let now = 0;
    const store = createKeySchemaStore({ ttlMs: 1_000, now: () => now });
    let lookups = 0;
    const lookup = async () => schema(`pk${++lookups}`);
    const [a, b] = await Promise.all([store.get('k', lookup), store.get('k', lookup)]);
    expect([a.partitionKey, b.partitionKey, lookups]).toEqual(['pk1', 'pk1', 1]);
    now = 999;
    expect((await store.get('k', lookup)).partitionKey).toBe('pk1');
    now = 1_000;
    expect((await store.get('k', lookup)).partitionKey).toBe('pk2');
    expect((await store.get('other', lookup)).partitionKey).toBe('pk3');
  });

  it('answers a failed lookup with its error only briefly', async () => {
    let now = 0;
    const store = createKeySchemaStore({ ttlMs: 60_000, failureTtlMs: 100, now: () => now });
    let calls = 0;
    const failing = async (): Promise<KeySchema> => {
      calls += 1;
      throw new Error(`lookup ${calls} failed`);
    };
    await expect(store.get('k', failing)).rejects.toThrow('lookup 1 failed');
    now = 99;
    await expect(store.get('k', failing)).rejects.toThrow('lookup 1 failed');
    now = 100;
    expect(await store.get('k', async () => schema('id'))).toEqual(schema('id'));
    expect(calls).toBe(1);
  });

  it('keeps at most `max` entries, dropping the oldest', async () => {
    const store = createKeySchemaStore({ max: 2 });
    for (const k of ['a', 'b', 'c']) await store.get(k, async () => schema(k));
    expect(store.size).toBe(2);
    let looked = false;
    await store.get('a', async () => ((looked = true), schema('a')));
    expect(looked).toBe(true);
  });
});

describe("runs reading key schemas through the server's store, on the shared sandbox", () => {
  const info = sandboxInfo();
  let broker: Broker;
  beforeAll(() => {
    broker = createBroker({ region: info.region, endpoint: info.endpoint, credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey } });
  });
  afterAll(() => broker.destroy());

  const run = (store: ReturnType<typeof createKeySchemaStore>, role: string, sessions: Session[]) => {
    const runId = `ks${randomBytes(4).toString('hex')}`;
    const cache = createKeySchemaCache({
      broker,
      region: info.region,
      endpoint: info.endpoint,
      account: info.account,
      roleArn: roleArn(role),
      runId,
      sourceIdentity: 'alice',
      tags: { run: runId },
      onSession: (s) => sessions.push(s),
      store,
    });
    return { runId, cache };
  };

  it("looks a table up for the first run of a role only, through that run's own DescribeTable session", async () => {
    const store = createKeySchemaStore();
    const first: Session[] = [];
    const a = run(store, 'runbook-runner', first);
    expect(await a.cache.partitionKeys(['Orders', 'Customers'])).toEqual({ Orders: 'pk', Customers: 'customerId' });
    expect(first.map((s) => s.sessionName).sort()).toEqual([`rb-${a.runId}-keys@Customers`, `rb-${a.runId}-keys@Orders`]);
    expect(first.every((s) => !isHeld(s))).toBe(true);

    const second: Session[] = [];
    const b = run(store, 'runbook-runner', second);
    expect(await b.cache.partitionKeys(['Orders'])).toEqual({ Orders: 'pk' });
    expect(second).toEqual([]);

    // Another role reads for itself: what one role may describe is not handed to another.
    const other: Session[] = [];
    const c = run(store, 'runbook-readonly', other);
    expect((await c.cache.schema('Orders')).partitionKey).toBe('pk');
    expect(other.map((s) => s.sessionName)).toEqual([`rb-${c.runId}-keys@Orders`]);
  });

  it('leaves a table whose lookup fails unpinned, and says why', async () => {
    const store = createKeySchemaStore();
    const { cache } = run(store, 'runbook-runner', []);
    // runbook-runner may describe only the shop's tables.
    expect(await cache.partitionKeys(['Orders', 'NoSuchTable'])).toEqual({ Orders: 'pk' });
    await expect(cache.schema('NoSuchTable')).rejects.toMatchObject({ code: expect.stringMatching(/^RB_ERR_/) });
  });
});
