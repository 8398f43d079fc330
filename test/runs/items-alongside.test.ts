/**
 * An execution's items are written while its audit record is: both are on disk before the journal
 * record that counts them, and items that cannot be written leave an execution recorded without
 * them (the audit record stands), answered with RB_ERR_STORE_WRITE. A result of few items and no
 * more pages is kept in the execution's record instead (store.ts, INLINE_ITEMS): no chunk file of
 * its own, and no item write to fail.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RbError } from '../../server/errors.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import { auditLogPath, type AuditRecord } from '../../server/runs/audit.js';
import type { RunEngine } from '../../server/runs/engine.js';
import type { JournalRecord, RunStore } from '../../server/runs/store.js';
import { testEngine } from '../helpers/engine.js';
import { assumeRole, createTestTable, documentClient, localDynamo, uniqueTableName } from '../helpers/sandbox.js';

const table = uniqueTableName('alongside');
// Four items of 3 KB: more than an execution's record keeps (8 KB), so they go to the item store.
const NOTE = 'n'.repeat(3000);
const RUNBOOK = `---
title: Big and small
---
# Big
\`\`\`dynamodb {"name":"big"}
operation: Query
TableName: ${table}
KeyConditionExpression: "pk = :pk"
ExpressionAttributeValues: { ":pk": "big" }
\`\`\`
# Large
\`\`\`dynamodb {"name":"large"}
operation: GetItem
TableName: ${table}
Key: { pk: "large", sk: "1" }
\`\`\`
# Small
\`\`\`dynamodb {"name":"small"}
operation: GetItem
TableName: ${table}
Key: { pk: "small", sk: "1" }
\`\`\`
`;

describe('items written alongside the audit record', () => {
  let dataDir: string;
  let engine: RunEngine;
  beforeAll(async () => {
    await createTestTable(table, ['pk', 'sk']);
    const doc = documentClient(await assumeRole('runbook-tester'));
    for (const sk of ['1', '2', '3', '4']) await doc.send(new PutCommand({ TableName: table, Item: { pk: 'big', sk, note: NOTE } }));
    await doc.send(new PutCommand({ TableName: table, Item: { pk: 'small', sk: '1', note: 'few' } }));
    await doc.send(new PutCommand({ TableName: table, Item: { pk: 'large', sk: '1', note: NOTE.repeat(3) } }));
    doc.destroy();
    dataDir = await mkdtemp(join(tmpdir(), 'rb-alongside-'));
    engine = await testEngine({ dataDir });
  });
  afterAll(async () => {
    await engine.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the items of a read, and records one whose items could not be written without them', async () => {
    const { runbook } = parseRunbook(RUNBOOK, 'big-and-small.md');
    const run = await engine.startRun({ runbook: runbook!, source: RUNBOOK, runbookId: 'big-and-small', params: {}, user: 'alice' });
    for (const [step, count] of [
      ['big', 4],
      ['small', 1],
    ] as const) {
      const ok = await engine.executeStep(run.id, step, { user: 'alice' });
      expect(ok.itemCount).toBe(count);
      expect((await engine.items(run.id, step, { offset: 0, limit: 10 })).items).toHaveLength(count);
    }
    // One item over 8 KB is stored as items too.
    expect((await engine.executeStep(run.id, 'large', { user: 'alice' })).itemCount).toBe(1);
    expect((await engine.items(run.id, 'large', { offset: 0, limit: 10 })).items[0].note).toBe(NOTE.repeat(3));
    // The big results have chunk files; the small one is in its execution's journal record only.
    expect((await readdir(join(dataDir, 'runs', run.id, 'items'))).sort()).toEqual(['big.1.0.jsonl', 'large.1.0.jsonl']);
    const journal = (await readFile(join(dataDir, 'runs', run.id, 'journal.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JournalRecord);
    const small = journal.find((r) => r.type === 'execution' && r.execution.step === 'small');
    expect(small && small.type === 'execution' && small.items).toEqual([{ pk: 'small', sk: '1', note: 'few' }]);

    // The store private to the engine, made to fail its item writes (as a full disk would).
    const store = (engine as unknown as { store: RunStore }).store;
    const putItems = store.putItems;
    store.putItems = async () => {
      throw new RbError('RB_ERR_STORE_WRITE', 'The run store is not writable: storing the items failed (ENOSPC).');
    };
    try {
      const err = await engine.executeStep(run.id, 'big', { user: 'alice' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'RB_ERR_STORE_WRITE' });
      // Nothing of the small result goes to the item store: it runs as before.
      expect((await engine.executeStep(run.id, 'small', { user: 'alice' })).itemCount).toBe(1);
    } finally {
      store.putItems = putItems;
    }
    const executions = engine.getRun(run.id)!.executions;
    expect(executions.map((e) => `${e.step}#${e.n}:${e.status}:${e.itemCount}`)).toEqual([
      'big#1:succeeded:4',
      'small#1:succeeded:1',
      'large#1:succeeded:1',
      'big#2:succeeded:0',
      'small#2:succeeded:1',
    ]);
    expect(executions[3].items).toEqual([]);
    const audited = (await readFile(auditLogPath(dataDir), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord)
      .filter((r) => r.type === 'step.executed' && r.runId === run.id);
    expect(audited).toHaveLength(5);
    // The run goes on, and an engine opened afresh on the folder serves both from the store.
    expect((await engine.executeStep(run.id, 'big', { user: 'alice' })).itemCount).toBe(4);
    await engine.close();
    engine = await testEngine({ dataDir });
    await engine.load(run.id);
    expect((await engine.items(run.id, 'small', { n: 1, offset: 0, limit: 10 })).items).toEqual([{ pk: 'small', sk: '1', note: 'few' }]);
    expect((await engine.items(run.id, 'big', { n: 1, offset: 0, limit: 10 })).items.map((i) => i.sk)).toEqual(['1', '2', '3', '4']);
    const all: unknown[] = [];
    for await (const item of engine.allItems(run.id, 'small', 2)) all.push(item);
    expect(all).toEqual([{ pk: 'small', sk: '1', note: 'few' }]);
  });

  it('stores even a few items as items where the store lets them expire (a retention period)', async () => {
    const retaining = await testEngine({ dataDir: await mkdtemp(join(tmpdir(), 'rb-retention-')), store: { kind: 'dynamodb', itemRetentionSeconds: 3600 } });
    const local = localDynamo();
    try {
      const { runbook } = parseRunbook(RUNBOOK, 'big-and-small.md');
      const run = await retaining.startRun({ runbook: runbook!, source: RUNBOOK, runbookId: 'big-and-small', params: {}, user: 'alice' });
      expect((await retaining.executeStep(run.id, 'small', { user: 'alice' })).itemCount).toBe(1);
      // The journal record, which never expires, holds no items; the items table has them, with their expiry.
      const chunk = await local.send(new GetItemCommand({ TableName: 'runbooks-items', Key: { id: { S: `${run.id}#small#1` }, chunk: { N: '0' } }, ConsistentRead: true }));
      expect(Number(chunk.Item?.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000);
      expect((await retaining.items(run.id, 'small', { offset: 0, limit: 10 })).items).toEqual([{ pk: 'small', sk: '1', note: 'few' }]);
    } finally {
      local.destroy();
      await retaining.close();
    }
  });
});
