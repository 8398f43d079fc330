/**
 * The run store's contract (server/runs/store.ts), one suite for both backends: the embedded file
 * store on real files and the DynamoDB store through the shared sandbox's gateway, signed as the
 * base principal. A header is created once; appends are conditional on their sequence number (a
 * second writer's append at a taken number is refused, nothing forks); records and headers come
 * back exactly as written, however large; items come back in order across chunks, a page written
 * again replacing rather than duplicating.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { openDynamoStore } from '../../server/runs/dynamo-store.js';
import { createStoreTables } from '../../server/runs/dynamo-tables.js';
import { openFileStore } from '../../server/runs/file-store.js';
import type { JournalRecord, RunStore } from '../../server/runs/store.js';
import { dynamoClient, localDynamo, sandboxInfo } from '../helpers/sandbox.js';
import { code, header, newPrefix, noted } from '../helpers/store.js';

interface Backend {
  /** two stores on the same data, as two processes or replicas */
  open(): Promise<{ a: RunStore; b: RunStore; close(): Promise<void> }>;
}

const file: Backend = {
  async open() {
    const dataDir = await mkdtemp(join(tmpdir(), 'rb-store-'));
    const a = await openFileStore(dataDir);
    const b = await openFileStore(dataDir);
    return { a, b, close: () => rm(dataDir, { recursive: true, force: true }) };
  },
};

const dynamodb: Backend = {
  async open() {
    const prefix = newPrefix();
    const local = localDynamo();
    await createStoreTables({ client: local, prefix });
    local.destroy();
    const info = sandboxInfo();
    const clients: DynamoDBClient[] = [0, 1].map(() => dynamoClient({ accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey }));
    const [a, b] = await Promise.all(clients.map((client) => openDynamoStore({ client, prefix })));
    return { a, b, close: async () => clients.forEach((c) => c.destroy()) };
  },
};

const item = (i: number, mark = '') => ({ id: `i${i}`, n: i, ...(mark ? { mark } : {}) });
const range = (from: number, to: number, mark = '') => Array.from({ length: to - from }, (_, i) => item(from + i, mark));

describe.each([
  ['file', file],
  ['dynamodb', dynamodb],
])('the %s run store', (_name, backend) => {
  let a: RunStore;
  let b: RunStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ a, b, close } = await backend.open());
  });
  afterAll(async () => {
    await close?.();
  });

  it('creates a run once', async () => {
    expect(await code(a.create(header('r1')))).toBe('ok');
    expect(await code(b.create(header('r1', { user: 'bob' })))).toBe('RB_ERR_STORE_CONFLICT');
    // Even the very same header: the second call is another writer's, not a retry.
    expect(await code(b.create(header('r1')))).toBe('RB_ERR_STORE_CONFLICT');
    expect(await a.list()).toEqual(['r1']);
    expect(await a.read('r1')).toEqual({ header: header('r1'), records: [] });
    expect(await b.read('nothing')).toBeUndefined();
  });

  it('appends only at the next sequence number, whichever writer got there first', async () => {
    await a.append('r1', noted(1));
    await b.append('r1', noted(2));
    // a last wrote record 1: its append of 2 is refused, since b took it.
    expect(await code(a.append('r1', noted(2)))).toBe('RB_ERR_STORE_CONFLICT');
    await a.append('r1', noted(3));
    expect((await b.read('r1'))!.records).toEqual([noted(1), noted(2), noted(3)]);
    expect((await a.read('r1', 3))!.records.map((r) => r.seq)).toEqual([3]);
    expect((await a.read('r1', 4))!.records).toEqual([]);
  });

  it('lets exactly one of two writers racing for a number have it', async () => {
    for (let seq = 4; seq < 12; seq++) {
      const outcomes = await Promise.all([code(a.append('r1', noted(seq))), code(b.append('r1', noted(seq)))]);
      expect(outcomes.sort()).toEqual(['RB_ERR_STORE_CONFLICT', 'ok']);
    }
    expect((await a.read('r1'))!.records.map((r) => r.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
  });

  it('keeps a header and records of any size exactly as written', async () => {
    // Megabytes of runbook text, and a record larger than a DynamoDB item, gzipped or not.
    const big = randomBytes(700_000).toString('base64');
    const source = { text: `# Big\n\n${'All the prose of a long runbook. '.repeat(40_000)}\n${big}`, sha256: 'def' };
    await a.create(header('big', { source }));
    const record: JournalRecord = { ...noted(1), roleId: big.slice(0, 500_000) };
    await a.append('big', record);
    await a.append('big', { ...noted(2), roleId: 'é"\\\n\u2028' });
    const read = await b.read('big');
    expect(read!.header.source).toEqual(source);
    expect(read!.records).toEqual([record, { ...noted(2), roleId: 'é"\\\n\u2028' }]);
  });

  it('keeps items in order across chunks; a page written again replaces itself', async () => {
    await a.putItems('r1', 'scan', 1, 0, range(0, 700));
    await a.putItems('r1', 'scan', 1, 700, range(700, 1000));
    await a.putItems('r1', 'scan', 1, 700, range(700, 1000)); // a retry of the same page
    expect((await b.readItems('r1', 'scan', 1, 0, 1000)).map((x) => x.n)).toEqual(range(0, 1000).map((x) => x.n));
    // Across the chunk boundaries of both stores (every 100 and every 500 items).
    for (const at of [98, 498, 698]) expect((await b.readItems('r1', 'scan', 1, at, 4)).map((x) => x.n)).toEqual([at, at + 1, at + 2, at + 3]);
    expect(await b.readItems('r1', 'scan', 1, 998, 10)).toEqual([item(998), item(999)]);
    expect(await b.readItems('r1', 'scan', 1, 1000, 10)).toEqual([]);
    const all: unknown[] = [];
    for await (const x of b.items('r1', 'scan', 1)) all.push(x);
    expect(all).toEqual(range(0, 1000));
  });

  it('replaces from the offset of a rewritten page, whatever was there', async () => {
    // A shorter page at 700: nothing of the earlier 700-999 remains.
    await a.putItems('r1', 'scan', 1, 700, range(700, 750, 'again'));
    expect(await b.readItems('r1', 'scan', 1, 690, 100)).toEqual([...range(690, 700), ...range(700, 750, 'again')]);
    // A page starting inside a chunk keeps what came before it.
    await a.putItems('r1', 'scan', 1, 650, range(650, 660, 'third'));
    const all: unknown[] = [];
    for await (const x of b.items('r1', 'scan', 1)) all.push(x);
    expect(all).toEqual([...range(0, 650), ...range(650, 660, 'third')]);
    // A first page starts the execution's items afresh.
    await a.putItems('r1', 'scan', 1, 0, [item(0)]);
    expect(await b.readItems('r1', 'scan', 1, 0, 10)).toEqual([item(0)]);
  });

  it('keeps large items, each execution apart', async () => {
    // 120 KB items (chunks split by size) and one of 600 KB that does not gzip (split into parts).
    const large = Array.from({ length: 7 }, (_, i) => ({ id: `L${i}`, blob: `${i}`.repeat(120_000) }));
    const huge = { id: 'H', blob: randomBytes(450_000).toString('base64') };
    await a.putItems('r1', 'get', 2, 0, [...large, huge, { id: 'after' }]);
    await a.putItems('r1', 'get', 1, 0, [{ id: 'other' }]);
    expect(await b.readItems('r1', 'get', 2, 6, 3)).toEqual([large[6], huge, { id: 'after' }]);
    const all: unknown[] = [];
    for await (const x of b.items('r1', 'get', 2)) all.push(x);
    expect(all).toEqual([...large, huge, { id: 'after' }]);
    expect(await b.readItems('r1', 'get', 1, 0, 5)).toEqual([{ id: 'other' }]);
    expect(await b.readItems('r1', 'get', 3, 0, 5)).toEqual([]);
  });

  it('lists every run', async () => {
    await b.create(header('r2'));
    expect((await a.list()).sort()).toEqual(['big', 'r1', 'r2']);
  });

  it('refuses ids that are not run ids', async () => {
    expect(await code(a.create(header('../x')))).toBe('RB_ERR_RUN_NOT_FOUND');
    expect(await code(a.append('../x', noted(1)))).toBe('RB_ERR_RUN_NOT_FOUND');
    expect(await code(a.read('a/b'))).toBe('RB_ERR_RUN_NOT_FOUND');
    expect(await code(a.putItems('r1', '../../x', 1, 0, [{ a: 1 }]))).toBe('RB_ERR_STEP_NOT_FOUND');
    expect(await code(a.readItems('r1', 'scan#1', 1, 0, 1))).toBe('RB_ERR_STEP_NOT_FOUND');
    expect(await code(a.putItems('r1', 'scan', 0, 0, [{ a: 1 }]))).toBe('RB_ERR_STEP_NOT_FOUND');
  });
});
