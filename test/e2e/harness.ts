/**
 * What the browser tests run against: the real server (buildApp + run engine) in this process on
 * 127.0.0.1, over the suite's shared sandbox, serving the fixture runbooks of test/fixtures/e2e/
 * with a table of their own (seeded through DynamoDB Local), two named users, and headless Chromium.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FastifyInstance } from 'fastify';
import { CHROMIUM } from '../../bench/common.js';
import { buildApp } from '../../server/http/app.js';
import type { RunEngine } from '../../server/runs/engine.js';
import { testEngine } from '../helpers/engine.js';
import { createTestTable, localDynamo, uniqueTableName } from '../helpers/sandbox.js';

export { launchBrowser } from '../../bench/common.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Whether the browser tests can run here, and what to say when they cannot. */
export function browserAvailability(): { available: boolean; required: boolean; message: string } {
  const available = existsSync(CHROMIUM);
  const required = process.env.RUNBOOKS_REQUIRE_BROWSER === '1';
  const message = `the browser tests did not run: there is no Chromium at ${CHROMIUM}. Install it (Debian: apt-get install chromium) to run them${
    required ? '; RUNBOOKS_REQUIRE_BROWSER=1 makes this a failure' : '; CI sets RUNBOOKS_REQUIRE_BROWSER=1, where a missing browser fails the suite'
  }.`;
  return { available, required, message };
}

/** Bundles client/ as `npm run build` does (without its type check, which the build runs), so the test sees the current sources. */
export function bundleClient(): void {
  const out = spawnSync(process.execPath, [join(ROOT, 'scripts/build-client.mjs'), '--no-check'], { cwd: ROOT, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`bundling the client failed:\n${out.stderr}`);
}

export const USERS = {
  alice: { name: 'alice', token: 'alice-e2e-token-4f1c9b7d2a6e', roles: ['runner' as const] },
  bob: { name: 'bob', token: 'bob-e2e-token-8e3a5c1f9d07b', roles: ['approver' as const] },
};

export const CUSTOMER = 'C1001';
export const ORDERS = 240;
export const EVENTS = 3000;

export interface Harness {
  base: string;
  table: string;
  /** the folder the server serves runbooks from (read at each request, so tests may add files) */
  runbooksDir: string;
  engine: RunEngine;
  app: FastifyInstance;
  dataDir: string;
  stop(): Promise<void>;
}

function orderSk(i: number): string {
  const day = new Date(Date.UTC(2026, 0, 1 + (i % 300))).toISOString().slice(0, 10);
  return `ORDER#${day}#${String(i + 1).padStart(4, '0')}`;
}

/** The seed: one profile, {@link ORDERS} orders and {@link EVENTS} load-test events. */
function seedItems(): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [
    { pk: `CUSTOMER#${CUSTOMER}`, sk: 'PROFILE', name: 'Ada Lovelace', email: 'ada@example.com', tier: 'GOLD', address: { city: 'London', country: 'GB' } },
  ];
  const statuses = ['PENDING', 'SHIPPED', 'DELIVERED', 'CANCELLED'];
  for (let i = 0; i < ORDERS; i++) {
    items.push({
      pk: `CUSTOMER#${CUSTOMER}`,
      sk: orderSk(i),
      status: statuses[i % statuses.length],
      total: Math.round((10 + ((i * 37) % 400) + (i % 7) / 4) * 100) / 100,
      currency: i % 3 === 0 ? 'USD' : 'EUR',
      lines: [{ sku: `SKU-${i % 17}`, qty: 1 + (i % 3) }],
    });
  }
  for (let i = 0; i < EVENTS; i++) {
    items.push({
      pk: 'LOAD#1',
      sk: `EVENT#${String(i).padStart(5, '0')}`,
      kind: ['view', 'cart', 'checkout', 'refund'][i % 4],
      at: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString(),
      amount: (i % 50) * 1.5,
      ...(i % 10 === 0 ? { note: `sampled event ${i}` } : {}),
      ...(i % 25 === 0 ? { tags: ['sample', `batch-${i % 3}`] } : {}),
    });
  }
  return items;
}

async function createTable(table: string): Promise<void> {
  await createTestTable(table, ['pk', 'sk']);
  const local = localDynamo();
  try {
    await waitUntilTableExists({ client: local, maxWaitTime: 30 }, { TableName: table });
    const doc = DynamoDBDocumentClient.from(local);
    const items = seedItems();
    // BatchWriteItem takes at most 25 items; a few batches at a time keep DynamoDB Local busy but not swamped.
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
    for (let i = 0; i < batches.length; i += 4) {
      await Promise.all(
        batches.slice(i, i + 4).map(async (batch) => {
          let pending: Record<string, Array<{ PutRequest: { Item: Record<string, unknown> } }>> = { [table]: batch.map((item) => ({ PutRequest: { Item: item } })) };
          while (Object.keys(pending).length > 0) {
            const out = await doc.send(new BatchWriteCommand({ RequestItems: pending }));
            pending = (out.UnprocessedItems ?? {}) as typeof pending;
          }
        }),
      );
    }
  } finally {
    local.destroy();
  }
}

/** Starts the server over the shared sandbox with the fixture runbooks; `stop()` undoes everything. */
export async function startHarness(): Promise<Harness> {
  const table = uniqueTableName('Shop');
  await createTable(table);

  const work = await mkdtemp(join(tmpdir(), 'rb-e2e-'));
  const runbooksDir = join(work, 'runbooks');
  const dataDir = join(work, 'data');
  await mkdir(dataDir);
  await cp(join(ROOT, 'test/fixtures/e2e/shop'), join(runbooksDir, 'shop'), { recursive: true });
  for (const file of await readdir(join(runbooksDir, 'shop'))) {
    const path = join(runbooksDir, 'shop', file);
    await writeFile(path, (await readFile(path, 'utf8')).replaceAll('__TABLE__', table));
  }

  const engine = await testEngine({ dataDir, iamRevocation: true });
  const app = await buildApp({
    engine,
    runbooksDir,
    clientDir: join(ROOT, 'client'),
    auth: { users: [USERS.alice, USERS.bob] },
    logger: false,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  let stopped = false;
  return {
    base: `http://127.0.0.1:${port}`,
    table,
    runbooksDir,
    engine,
    app,
    dataDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.close().catch(() => undefined);
      await engine.close().catch(() => undefined);
      const local = localDynamo();
      await local.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
      local.destroy();
      await rm(work, { recursive: true, force: true });
    },
  };
}
