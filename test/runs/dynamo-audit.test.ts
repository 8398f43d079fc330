/**
 * The audit chain in DynamoDB, shared by replicas: several logs on one store appending at once make
 * one chain without gaps, forks or losses, signed as the file log signs; a put whose answer was lost
 * counts once; a reopened log continues the chain; and tampering on the table is found by
 * `verifyDynamoAudit` with the same kinds as in a file, at the item's seq. Through the sandbox's
 * gateway, signed as its base principal; tampering is done on DynamoDB Local directly.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { hashRecord, verifyDynamoAudit, type AuditRecord } from '../../server/runs/audit.js';
import { signDigest, type DigestData } from '../../server/runs/audit-digest.js';
import { loadOrCreateAuditKey } from '../../server/runs/audit-key.js';
import { DynamoAuditLog } from '../../server/runs/dynamo-audit.js';
import { createStoreTables, storeTables } from '../../server/runs/dynamo-tables.js';
import type { Item } from '../../server/runs/dynamo-values.js';
import { appendThreeRuns, rechain, THREE_RUNS_TYPES } from '../helpers/audit.js';
import { dynamoClient, localDynamo, sandboxInfo } from '../helpers/sandbox.js';
import { failure, losingPutAnswers, newPrefix } from '../helpers/store.js';

const info = sandboxInfo();
const base = { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey };

let work: string;
let keyPath: string;
const local = localDynamo();
const clients: DynamoDBClient[] = [];
const client = (extra = {}) => {
  const c = dynamoClient(base, info, extra);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rb-dynamo-audit-'));
  keyPath = join(work, 'config', 'audit-key.pem');
});
afterAll(async () => {
  clients.forEach((c) => c.destroy());
  local.destroy();
  await rm(work, { recursive: true, force: true });
});

async function storeWithTables(): Promise<string> {
  const prefix = newPrefix();
  await createStoreTables({ client: local, prefix });
  return prefix;
}

/** The chain's items as DynamoDB Local holds them, in order. */
async function chainItems(prefix: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await local.send(
      new QueryCommand({
        TableName: storeTables(prefix).audit,
        KeyConditionExpression: '#c = :c',
        ExpressionAttributeNames: { '#c': 'chain' },
        ExpressionAttributeValues: { ':c': { S: 'audit' } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

const recordsOf = async (prefix: string) => (await chainItems(prefix)).map((item) => JSON.parse(item.json.S!) as AuditRecord);

describe('replicas appending to one chain', () => {
  it('three logs appending at once make one chain: contiguous, each record once, signed', async () => {
    const prefix = await storeWithTables();
    // Counts the puts refused because another log took the number first.
    let taken = 0;
    const counted = () => {
      const c = client();
      c.middlewareStack.add(
        (next) => async (args) => {
          try {
            return await next(args);
          } catch (err) {
            if ((err as Error).name === 'ConditionalCheckFailedException') taken++;
            throw err;
          }
        },
        { step: 'initialize', name: 'countTaken' },
      );
      return c;
    };
    const logs = await Promise.all([0, 1, 2].map(() => DynamoAuditLog.open({ client: counted(), prefix, keyPath, digestIntervalMs: 0 })));
    const returned: AuditRecord[] = [];
    const writer = async (log: DynamoAuditLog, w: number) => {
      for (let i = 0; i < 150;) {
        // Now and then a pause, as a replica between requests: one appending without pause keeps
        // the lead, the others following a step behind until it pauses.
        if (i % 5 === 3) await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
        if (i % 30 === 10) {
          // A batch: ten appends at once, written together after the write under way.
          const batch = Array.from({ length: 10 }, (_, k) => log.append({ type: 'test.append', user: `w${w}`, data: { writer: w, i: i + k } }));
          returned.push(...(await Promise.all(batch)));
          i += 10;
        } else {
          returned.push(await log.append({ type: 'test.append', user: `w${w}`, data: { writer: w, i } }));
          i += 1;
        }
      }
    };
    await Promise.all(logs.map((log, w) => writer(log, w)));
    await Promise.all(logs.map((log) => log.close()));
    expect(taken).toBeGreaterThan(0);

    const records = await recordsOf(prefix);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    const appended = records.filter((r) => r.type === 'test.append').map((r) => `${r.data!.writer}/${r.data!.i}`);
    expect(appended).toHaveLength(450);
    expect(new Set(appended).size).toBe(450);
    // What each append resolved with is what the chain holds at that number.
    for (const r of returned) expect(records[r.seq - 1]).toEqual(r);
    // Each writer's records are in its order, interleaved with the others'.
    for (const w of [0, 1, 2]) {
      const mine = records.filter((r) => r.data?.writer === w).map((r) => r.data!.i as number);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
    const writers = records.filter((r) => r.type === 'test.append').map((r) => r.data!.writer);
    expect(writers.some((w, i) => i > 0 && w !== writers[i - 1] && writers.slice(0, i).includes(w))).toBe(true);
    // A digest at least every 100 records, and one at the end.
    const digests = records.filter((r) => r.type === 'audit.digest');
    expect(digests.length).toBeGreaterThanOrEqual(4);
    expect(records.at(-1)!.type).toBe('audit.digest');

    const key = await loadOrCreateAuditKey(keyPath);
    expect(await verifyDynamoAudit({ client: client(), prefix }, { keyPath })).toEqual({
      ok: true,
      records: records.length,
      digests: digests.length,
      fingerprint: key.fingerprint,
      table: storeTables(prefix).audit,
    });
  }, 120_000);

  it('a log that finds its number taken continues from the real end', async () => {
    const prefix = await storeWithTables();
    const a = await DynamoAuditLog.open({ client: client(), prefix, keyPath, digestIntervalMs: 0 });
    const b = await DynamoAuditLog.open({ client: client(), prefix, keyPath, digestIntervalMs: 0 });
    const first = await a.append({ type: 'test.append', user: 'a' });
    // b still believes the chain empty: its put at 1 is refused, it reads record 1 and writes 2.
    const second = await b.append({ type: 'test.append', user: 'b' });
    expect(second).toMatchObject({ seq: 2, prev: first.hash });
    const third = await a.append({ type: 'run.completed', runId: 'r1', user: 'a' });
    expect(third).toMatchObject({ seq: 3, prev: second.hash });
    await a.close();
    await b.close();
    const records = await recordsOf(prefix);
    // run.completed forced a digest right after it; closing found nothing left to sign.
    expect(records.map((r) => r.type)).toEqual(['test.append', 'test.append', 'run.completed', 'audit.digest']);
    expect(records[3].data).toMatchObject({ previous: null, first: 1, last: 3, head: third.hash });
    expect((await verifyDynamoAudit({ client: client(), prefix }, { keyPath })).ok).toBe(true);
  });

  it('reopened, continues the chain and its digests', async () => {
    const prefix = await storeWithTables();
    const first = await DynamoAuditLog.open({ client: client(), prefix, keyPath, digestIntervalMs: 0, digestEvery: 5 });
    for (let i = 0; i < 7; i++) await first.append({ type: 'test.append', data: { i } });
    await first.close();
    const before = await recordsOf(prefix);
    // 5 records, a digest, 2 records, the digest at close.
    expect(before.map((r) => r.type === 'audit.digest')).toEqual([false, false, false, false, false, true, false, false, true]);

    const again = await DynamoAuditLog.open({ client: client(), prefix, keyPath, digestIntervalMs: 0, digestEvery: 5 });
    const next = await again.append({ type: 'test.append', data: { i: 7 } });
    expect(next).toMatchObject({ seq: 10, prev: before[8].hash });
    await again.close();
    const after = await recordsOf(prefix);
    expect(after.at(-1)!.data).toMatchObject({ previous: { seq: 9, hash: before[8].hash }, first: 10, last: 10 });
    expect(await verifyDynamoAudit({ client: client(), prefix }, { keyPath })).toMatchObject({ ok: true, records: 11, digests: 3 });
  });

  it('counts a put whose answer was lost, retried by the SDK, as written once', async () => {
    const prefix = await storeWithTables();
    const lossy = losingPutAnswers(1);
    const log = await DynamoAuditLog.open({ client: client({ maxAttempts: 3, requestHandler: lossy.handler as never }), prefix, keyPath, digestIntervalMs: 0 });
    const record = await log.append({ type: 'test.append', data: { once: true } });
    expect(lossy.stillToLose()).toBe(0);
    expect(record.seq).toBe(1);
    await log.close();
    expect((await recordsOf(prefix)).map((r) => r.type)).toEqual(['test.append', 'audit.digest']);
  });

  it('keeps a record too large for an item in parts, and reads it back whole', async () => {
    const prefix = await storeWithTables();
    const log = await DynamoAuditLog.open({ client: client(), prefix, keyPath, digestIntervalMs: 0 });
    const blob = randomBytes(600_000).toString('base64');
    const big = await log.append({ type: 'step.executed', runId: 'r1', data: { before: blob } });
    await log.append({ type: 'test.append' });
    await log.close();
    const [item] = await chainItems(prefix);
    expect(item.json).toBeUndefined();
    expect(item.blob.S).toMatch(/^audit\/[0-9a-f]{24}$/);
    expect(await verifyDynamoAudit({ client: client(), prefix }, { keyPath })).toMatchObject({ ok: true, records: 3 });
    // The next log to open reads past it.
    const again = await DynamoAuditLog.open({ client: client(), prefix, keyPath, digestIntervalMs: 0 });
    expect(await again.append({ type: 'test.append' })).toMatchObject({ seq: 4 });
    await again.close();
    expect(big.data!.before).toBe(blob);
  });

  it('says what to do when its table is missing or out of reach, never quoting a key', async () => {
    const missing = newPrefix();
    const err = await failure(DynamoAuditLog.open({ client: client(), prefix: missing, keyPath }));
    expect(err.code).toBe('RB_ERR_AUDIT_WRITE');
    expect(err.message).toBe(
      `The audit log is not writable: DescribeTable on DynamoDB table ${missing}audit failed (ResourceNotFoundException), so nothing was recorded. Create the store's tables first: runbooks store init --store-prefix ${missing} (docs/deploy.md).`,
    );
    // Tables outside runbooks-*: the base principal may not use them.
    const outside = `other-${randomUUID().slice(0, 8)}-`;
    await createStoreTables({ client: local, prefix: outside });
    const denied = await failure(DynamoAuditLog.open({ client: client(), prefix: outside, keyPath }));
    expect(denied.message).toMatch(
      /failed \(AccessDeniedException\), so nothing was recorded\. Give the server's AWS identity the run store policy of docs\/deploy\.md on table\/other-/,
    );
    expect(denied.message).not.toContain(info.secretAccessKey);
    expect(denied.details).toEqual({ awsCode: 'AccessDeniedException' });
  });
});

describe('tampering on the table', () => {
  let original: Item[];
  let records: AuditRecord[];

  beforeAll(async () => {
    const prefix = await storeWithTables();
    const log = await DynamoAuditLog.open({ client: client(), prefix, keyPath, digestIntervalMs: 0 });
    await appendThreeRuns(log);
    await log.close();
    original = await chainItems(prefix);
    records = original.map((item) => JSON.parse(item.json.S!) as AuditRecord);
  });

  /** A store holding a copy of the chain with `change` applied through `edit`, verified. */
  async function verifyChanged(
    change: (edit: { put(seq: number, record: AuditRecord): void; remove(seq: number): void; recs: AuditRecord[] }) => void,
    runs: Record<string, string> = {},
  ) {
    const prefix = await storeWithTables();
    const table = storeTables(prefix).audit;
    const items = new Map(original.map((item) => [Number(item.seq.N), { ...item }]));
    change({
      recs: records.map((r) => structuredClone(r)),
      put: (seq, record) =>
        items.set(seq, {
          ...(items.get(seq) ?? { chain: { S: 'audit' }, seq: { N: String(seq) }, type: { S: record.type }, at: { S: record.at } }),
          json: { S: JSON.stringify(record) },
        }),
      remove: (seq) => items.delete(seq),
    });
    for (const item of items.values()) await local.send(new PutItemCommand({ TableName: table, Item: item }));
    // As the run store keeps them: each run's journal naming its last audit record.
    for (const [run, auditHash] of Object.entries(runs)) {
      const at = new Date().toISOString();
      await local.send(new PutItemCommand({ TableName: storeTables(prefix).runs, Item: { run: { S: run }, json: { S: '{}' } } }));
      await local.send(
        new PutItemCommand({
          TableName: storeTables(prefix).journal,
          Item: { run: { S: run }, seq: { N: '1' }, json: { S: JSON.stringify({ seq: 1, at, type: 'run.ended', auditHash }) } },
        }),
      );
    }
    return verifyDynamoAudit({ client: client(), prefix }, { keyPath });
  }

  it('the chain under test: three runs, each completed and signed', async () => {
    expect(records.map((r) => r.type)).toEqual(THREE_RUNS_TYPES);
    expect(await verifyChanged(() => undefined, { r3: records[11].hash })).toMatchObject({ ok: true, records: 13, digests: 3 });
  });

  it("a record's text edited", async () => {
    const res = await verifyChanged(({ put, recs }) => put(7, { ...recs[6], user: 'mallory' }));
    expect(res).toMatchObject({ ok: false, records: 6, firstBad: { kind: 'edited', seq: 7, item: 7, reason: 'its content does not match its hash (the record was edited)' } });
  });

  it('an item that holds no record', async () => {
    const prefix = await storeWithTables();
    for (const item of original) await local.send(new PutItemCommand({ TableName: storeTables(prefix).audit, Item: item }));
    await local.send(new PutItemCommand({ TableName: storeTables(prefix).audit, Item: { ...original[12], json: { S: '{"seq": 13' } } }));
    // Never torn, unlike a file's last line: an item is written whole or not at all.
    expect((await verifyDynamoAudit({ client: client(), prefix }, { keyPath })).firstBad).toMatchObject({ kind: 'edited', seq: 13, item: 13 });
  });

  it('an item deleted', async () => {
    const res = await verifyChanged(({ remove }) => remove(7));
    expect(res.firstBad).toMatchObject({ kind: 'removed', seq: 8, item: 8, reason: expect.stringContaining('record 7 was removed') });
  });

  it("two records' texts swapped", async () => {
    const res = await verifyChanged(({ put, recs }) => {
      put(6, recs[6]);
      put(7, recs[5]);
    });
    expect(res.firstBad).toMatchObject({ kind: 'reordered', seq: 7, item: 6 });
  });

  it('a digest re-signed with another key', async () => {
    const other = await loadOrCreateAuditKey(join(work, 'other', 'audit-key.pem'));
    const res = await verifyChanged(({ put, recs }) => {
      const d = recs[8].data as unknown as DigestData;
      recs[8].data = { ...signDigest({ previous: d.previous, first: d.first, last: d.last, head: d.head }, other) };
      rechain(recs, 8)
        .slice(8)
        .forEach((r) => put(r.seq, r));
    });
    expect(res.firstBad).toMatchObject({ kind: 'forged-digest', seq: 9, item: 9, reason: expect.stringContaining(`signed by key ${other.fingerprint}`) });
  });

  it('records after the last digest, chained but not signed', async () => {
    const res = await verifyChanged(({ put, recs }) => {
      const body = { seq: 14, at: new Date().toISOString(), type: 'run.completed', runId: 'r9', user: 'mallory', prev: recs[12].hash };
      put(14, { ...body, hash: hashRecord(body) });
    });
    expect(res).toMatchObject({ ok: false, records: 13, digests: 3, firstBad: { kind: 'unsigned', seq: 14, item: 14 } });
  });

  it("the end cut back to a digest: found through the runs' journals", async () => {
    const res = await verifyChanged(({ remove }) => [10, 11, 12, 13].forEach(remove), { r3: records[11].hash });
    expect(res.firstBad).toMatchObject({ kind: 'run-cut', seq: 10, item: 10, reason: expect.stringContaining(`run r3's last record ${records[11].hash} is not in the log`) });
  });
});
