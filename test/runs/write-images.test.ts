/**
 * Before and after: every key-addressed write — PutItem, UpdateItem, DeleteItem, a BatchWriteItem
 * and a TransactWriteItems — shows the items it will change in its confirmation, records them before
 * and after with the difference, each compared with what the SDK reads directly; a revert puts the
 * before-image back, and a revert after someone else changed the item is refused as a conflict and
 * changes nothing.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRbError, type RbError } from '../../server/errors.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import { auditLogPath, type AuditRecord } from '../../server/runs/audit.js';
import type { RunEngine } from '../../server/runs/engine.js';
import { renderTranscript } from '../../server/runs/transcript.js';
import type { ItemImage } from '../../server/runs/write-images.js';
import { testEngine } from '../helpers/engine.js';
import { createTestTable, localDynamo, uniqueTableName } from '../helpers/sandbox.js';

const table = uniqueTableName('images');
const RUNBOOK = `---
title: Writes with images
---
# Put
\`\`\`dynamodb {"name":"put"}
operation: PutItem
TableName: ${table}
Item: { id: a, v: 2, added: x }
\`\`\`
# Update
\`\`\`dynamodb {"name":"update"}
operation: UpdateItem
TableName: ${table}
Key: { id: b }
UpdateExpression: "SET v = :v REMOVE gone"
ExpressionAttributeValues: { ":v": 2 }
\`\`\`
# Delete
\`\`\`dynamodb {"name":"delete"}
operation: DeleteItem
TableName: ${table}
Key: { id: c }
\`\`\`
# Batch
\`\`\`dynamodb {"name":"batch"}
operation: BatchWriteItem
RequestItems:
  ${table}:
    - PutRequest: { Item: { id: d, v: 1 } }
    - DeleteRequest: { Key: { id: e } }
\`\`\`
# Transaction
\`\`\`dynamodb {"name":"transact"}
operation: TransactWriteItems
TransactItems:
  - Put: { TableName: ${table}, Item: { id: f, v: 3 } }
  - Update: { TableName: ${table}, Key: { id: g }, UpdateExpression: "SET v = :v", ExpressionAttributeValues: { ":v": 9 } }
  - Delete: { TableName: ${table}, Key: { id: h } }
\`\`\`
`;

const SEED = [
  { id: 'a', v: 1 },
  { id: 'b', v: 1, gone: true },
  { id: 'c', v: 1 },
  { id: 'e', v: 1 },
  { id: 'g', v: 1 },
  { id: 'h', v: 1, note: 'keep me' },
];

describe('before and after images of writes', { timeout: 60_000 }, () => {
  let dataDir: string;
  let engine: RunEngine;
  let runId: string;
  let doc: DynamoDBDocumentClient;

  const read = async (id: string) => (await doc.send(new GetCommand({ TableName: table, Key: { id }, ConsistentRead: true }))).Item ?? null;
  const confirmDetails = async (step: string) => {
    const err = await engine.executeStep(runId, step, { user: 'alice' }).catch((e: unknown) => e);
    expect(isRbError(err) && err.code).toBe('RB_ERR_RUN_CONFIRM_REQUIRED');
    return (err as RbError).details as { before: { items: ItemImage[] } };
  };

  beforeAll(async () => {
    await createTestTable(table);
    doc = DynamoDBDocumentClient.from(localDynamo());
    await doc.send(new BatchWriteCommand({ RequestItems: { [table]: SEED.map((Item) => ({ PutRequest: { Item } })) } }));
    dataDir = await mkdtemp(join(tmpdir(), 'rb-images-'));
    engine = await testEngine({ dataDir });
    const { runbook, problems } = parseRunbook(RUNBOOK, 'images.md');
    expect(problems).toEqual([]);
    runId = (await engine.startRun({ runbook: runbook!, source: RUNBOOK, runbookId: 'images', params: {}, user: 'alice' })).id;
  });
  afterAll(async () => {
    await engine.close();
    doc.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    [
      'put',
      ['a'],
      [
        { attribute: 'added', change: 'added', after: 'x' },
        { attribute: 'v', change: 'changed', before: 1, after: 2 },
      ],
    ],
    [
      'update',
      ['b'],
      [
        { attribute: 'gone', change: 'removed', before: true },
        { attribute: 'v', change: 'changed', before: 1, after: 2 },
      ],
    ],
    [
      'delete',
      ['c'],
      [
        { attribute: 'id', change: 'removed', before: 'c' },
        { attribute: 'v', change: 'removed', before: 1 },
      ],
    ],
    ['batch', ['d', 'e'], undefined],
    ['transact', ['f', 'g', 'h'], undefined],
  ])('%s: the confirmation shows the current items; the execution records them before and after', async (step, ids, diff) => {
    const expectedBefore = await Promise.all(ids.map(read));
    const details = await confirmDetails(step);
    expect(details.before.items.map((i) => i.before)).toEqual(expectedBefore);
    const execution = await engine.executeStep(runId, step, { user: 'alice', confirm: true });
    expect(execution.status).toBe('succeeded');
    const images = execution.images as { items: ItemImage[] };
    expect(images.items.map((i) => i.key)).toEqual(ids.map((id) => ({ id })));
    expect(images.items.map((i) => i.before)).toEqual(expectedBefore);
    expect(images.items.map((i) => i.after)).toEqual(await Promise.all(ids.map(read)));
    if (diff) expect(images.items[0].diff).toEqual(diff);
  });

  it('reverts a write: the before-image is back, and both executions name each other', async () => {
    const put = engine.getRun(runId)!.executions.find((e) => e.step === 'put')!;
    const err = await engine.revert(runId, 'put', { user: 'alice', n: put.n }).catch((e: unknown) => e);
    expect(isRbError(err) && err.code).toBe('RB_ERR_RUN_CONFIRM_REQUIRED');
    const revert = await engine.revert(runId, 'put', { user: 'alice', n: put.n, confirm: true });
    expect(revert).toMatchObject({ status: 'succeeded', revertOf: put.n });
    expect(await read('a')).toEqual({ id: 'a', v: 1 });
    expect(engine.getRun(runId)!.executions.find((e) => e.step === 'put' && e.n === put.n)?.revertedBy).toBe(revert.n);
    // Once only.
    const again = await engine.revert(runId, 'put', { user: 'alice', n: put.n, confirm: true }).catch((e: unknown) => e);
    expect(isRbError(again) && again.code).toBe('RB_ERR_REVERT_UNAVAILABLE');
  });

  it('reverts a transaction of three items at once', async () => {
    const transact = engine.getRun(runId)!.executions.find((e) => e.step === 'transact')!;
    await engine.revert(runId, 'transact', { user: 'alice', n: transact.n, confirm: true });
    expect(await Promise.all(['f', 'g', 'h'].map(read))).toEqual([null, { id: 'g', v: 1 }, { id: 'h', v: 1, note: 'keep me' }]);
  });

  it('refuses a revert as a conflict after someone else changed the item, and changes nothing', async () => {
    const update = engine.getRun(runId)!.executions.find((e) => e.step === 'update')!;
    await doc.send(new PutCommand({ TableName: table, Item: { id: 'b', v: 7, by: 'someone else' } }));
    const revert = await engine.revert(runId, 'update', { user: 'alice', n: update.n, confirm: true });
    expect(revert.status).toBe('failed');
    expect(revert.error).toMatchObject({ code: 'RB_ERR_REVERT_CONFLICT', awsCode: 'ConditionalCheckFailedException' });
    expect(revert.error?.message).toContain('nothing was reverted');
    expect(await read('b')).toEqual({ id: 'b', v: 7, by: 'someone else' });
    expect(engine.getRun(runId)!.executions.find((e) => e.step === 'update' && e.n === update.n)?.revertedBy).toBeUndefined();
  });

  it('puts before, after and the difference in the audit record and every transcript', async () => {
    const records = (await readFile(auditLogPath(dataDir), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    const put = records.find((r) => r.type === 'step.executed' && r.data?.step === 'put');
    expect((put?.data?.images as { items: ItemImage[] }).items[0]).toMatchObject({ before: { id: 'a', v: 1 }, after: { id: 'a', v: 2, added: 'x' } });
    const run = await engine.withAllItems(runId);
    const runbook = engine.runbookOf(runId);
    const md = renderTranscript(run, runbook, 'md');
    expect(md).toMatch(/Item `\{"id":"a"\}` in `[^`]+`: 2 attribute\(s\) changed/);
    expect(md).toMatch(/\| v \| changed \| 1 \| 2 \|/);
    expect(md).toContain('Reverts execution 1 of `put`.');
    const html = renderTranscript(run, runbook, 'html');
    expect(html).toMatch(/<td>v<\/td><td>changed<\/td><td>1<\/td><td>2<\/td>/);
    const json = JSON.parse(renderTranscript(run, runbook, 'json')) as { run: { executions: Array<{ images?: unknown }> } };
    expect(json.run.executions.filter((e) => e.images).length).toBeGreaterThanOrEqual(5);
  });
});
