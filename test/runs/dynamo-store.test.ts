/**
 * What only the DynamoDB run store has (its contract, shared with the file store, is in
 * store-contract.test.ts): its tables and their layout, a put whose answer was lost and retried by
 * the SDK counting as written, item retention, and failures reported as RB_ERR_STORE_WRITE with the
 * AWS code and what to do, never with a key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, QueryCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { openDynamoStore } from '../../server/runs/dynamo-store.js';
import { createStoreTables, STORE_ACTIONS, STORE_INIT_ACTIONS, storeTables } from '../../server/runs/dynamo-tables.js';
import type { RunStore } from '../../server/runs/store.js';
import { dynamoClient, localDynamo, sandboxInfo } from '../helpers/sandbox.js';
import { code, failure, header, losingPutAnswers, newPrefix, noted } from '../helpers/store.js';

const info = sandboxInfo();
const base = { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey };

describe('the DynamoDB run store', () => {
  const prefix = newPrefix();
  const tables = storeTables(prefix);
  const local = localDynamo();
  const clients: DynamoDBClient[] = [];
  let store: RunStore;

  const client = (extra = {}) => {
    const c = dynamoClient(base, info, extra);
    clients.push(c);
    return c;
  };
  const rows = async (table: string, id: string, key = 'id') =>
    (
      await local.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#k = :k',
          ExpressionAttributeNames: { '#k': key },
          ExpressionAttributeValues: { ':k': { S: id } },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];

  beforeAll(async () => {
    expect(await createStoreTables({ client: local, prefix })).toEqual({ created: [tables.audit, tables.items, tables.journal, tables.runs], existing: [] });
    store = await openDynamoStore({ client: client(), prefix, itemRetentionSeconds: 3600 });
  });
  afterAll(() => {
    clients.forEach((c) => c.destroy());
    local.destroy();
  });

  it('creates its tables once, with TTL on the items table, and refuses tables with other keys', async () => {
    expect(await createStoreTables({ client: local, prefix })).toEqual({ created: [], existing: [tables.audit, tables.items, tables.journal, tables.runs] });
    const ttl = await local.send(new DescribeTimeToLiveCommand({ TableName: tables.items }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });

    const other = newPrefix();
    await local.send(
      new CreateTableCommand({
        TableName: `${other}journal`,
        KeySchema: [{ AttributeName: 'run', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'run', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const err = await failure(createStoreTables({ client: local, prefix: other }));
    expect(err.code).toBe('RB_ERR_CONFIG_INVALID');
    expect(err.message).toBe(`Table ${other}journal has the keys (run S), not the run store's (run S, seq N): choose another --store-prefix, or remove that table.`);
    expect((await failure(createStoreTables({ client: local, prefix: 'no spaces' }))).code).toBe('RB_ERR_CONFIG_INVALID');
  });

  it('gives the change-feed index to a store made without it, and finds changes through it', async () => {
    const older = newPrefix();
    const names = storeTables(older);
    await local.send(
      new CreateTableCommand({
        TableName: names.journal,
        KeySchema: [
          { AttributeName: 'run', KeyType: 'HASH' },
          { AttributeName: 'seq', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'run', AttributeType: 'S' },
          { AttributeName: 'seq', AttributeType: 'N' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    expect((await createStoreTables({ client: local, prefix: older })).existing).toEqual([names.journal]);
    // The index is being built (DynamoDB does it in the background, and init does not wait for it).
    const described = await local.send(new DescribeTableCommand({ TableName: names.journal }));
    expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['feed']);

    // A store made with it finds changes through it.
    const since = new Date(Date.now() - 1000);
    const opened = await openDynamoStore({ client: client(), prefix });
    await opened.create(header('fed'));
    await opened.append('fed', noted(1));
    await opened.append('fed', noted(2));
    expect((await opened.shared!.changes(since)).filter((c) => c.run === 'fed')).toEqual(
      expect.arrayContaining([
        { run: 'fed', seq: 0 },
        { run: 'fed', seq: 1 },
        { run: 'fed', seq: 2 },
      ]),
    );
    expect(await opened.shared!.changes(new Date(Date.now() + 60_000))).toEqual([]);
  });

  it('keeps one item per header and record, the JSON as written', async () => {
    await store.create(header('layout'));
    await store.append('layout', noted(1));
    const [run] = await rows(tables.runs, 'layout', 'run');
    expect(JSON.parse(run.json.S!)).toEqual(header('layout'));
    expect(run).toMatchObject({ runbook: { S: 'r' }, user: { S: 'alice' }, startedAt: { S: '2026-11-30T08:00:00.000Z' } });
    const [record] = await rows(tables.journal, 'layout', 'run');
    expect(record).toMatchObject({ seq: { N: '1' }, type: { S: 'session.noted' }, at: { S: '2026-11-30T08:00:00.000Z' } });
    expect(JSON.parse(record.json.S!)).toEqual(noted(1));
  });

  it('keeps result items in gzipped chunks of at most 100, replaced in place, with an expiry', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ n: i }));
    await store.putItems('layout', 'scan', 1, 0, items.slice(0, 750));
    await store.putItems('layout', 'scan', 1, 750, items.slice(750));
    await store.putItems('layout', 'scan', 1, 750, items.slice(750, 800)); // a shorter retry
    const chunks = await rows(tables.items, 'layout#scan#1');
    expect(chunks.map((c) => [Number(c.chunk.N), Number(c.count.N)])).toEqual([...Array.from({ length: 7 }, (_, i) => [i * 100, 100]), [700, 50], [750, 50]]);
    expect(chunks.every((c) => c.gz?.B && !c.json)).toBe(true);
    const expires = Number(chunks[0].expiresAt.N);
    expect(Math.abs(expires - (Date.now() / 1000 + 3600))).toBeLessThan(60);
  });

  it("splits a value too large for an item into parts, and drops a losing writer's parts", async () => {
    const source = { text: randomBytes(600_000).toString('base64'), sha256: 'x' };
    await store.create(header('parts', { source }));
    const [run] = await rows(tables.runs, 'parts', 'run');
    expect(run.json).toBeUndefined();
    const blob = run.blob.S!;
    expect(blob).toMatch(/^parts\/[0-9a-f]{24}$/);
    expect((await rows(tables.items, blob)).map((p) => p.chunk.N)).toEqual(['0', '1']);

    expect(await code(store.create(header('parts', { source, user: 'bob' })))).toBe('RB_ERR_STORE_CONFLICT');
    const all = await local.send(new ScanCommand({ TableName: tables.items, ConsistentRead: true }));
    const blobs = new Set(all.Items!.filter((i) => i.id.S!.startsWith('parts/')).map((i) => i.id.S));
    expect(blobs).toEqual(new Set([blob]));
    expect((await store.read('parts'))!.header.source).toEqual(source);
  });

  it('counts a put whose answer was lost, retried by the SDK, as written once', async () => {
    // The first PutItem reaches DynamoDB, then its answer is lost: the SDK retries it.
    const lossy = losingPutAnswers(2);
    const flaky = await openDynamoStore({ client: client({ maxAttempts: 3, requestHandler: lossy.handler as never }), prefix });
    await flaky.create(header('lost'));
    await flaky.append('lost', noted(1));
    expect(lossy.stillToLose()).toBe(0);
    expect(await store.read('lost')).toEqual({ header: header('lost'), records: [noted(1)] });
    // Another writer's put at a taken number is still refused.
    expect(await code(store.append('lost', noted(1)))).toBe('RB_ERR_STORE_CONFLICT');
  });

  it('says what to do when its tables are missing or out of reach, never quoting a key', async () => {
    const missing = newPrefix();
    const err = await failure(openDynamoStore({ client: client(), prefix: missing }));
    expect(err.code).toBe('RB_ERR_STORE_WRITE');
    expect(err.message).toMatch(
      new RegExp(
        `^The run store is not available: DescribeTable on DynamoDB table ${missing}\\w+ failed \\(ResourceNotFoundException\\)\\. Create the store's tables first: runbooks store init --store-prefix ${missing} \\(docs/deploy\\.md\\)\\.$`,
      ),
    );

    // Tables outside runbooks-*: the base principal may not use them.
    const outside = `other-${randomUUID().slice(0, 8)}-`;
    await createStoreTables({ client: local, prefix: outside });
    const denied = await failure(openDynamoStore({ client: client(), prefix: outside }));
    expect(denied.code).toBe('RB_ERR_STORE_WRITE');
    expect(denied.message).toMatch(/failed \(AccessDeniedException\)\. Give the server's AWS identity the run store policy of docs\/deploy\.md on table\/other-/);
    expect(denied.message).not.toContain(info.accessKeyId);
    expect(denied.message).not.toContain(info.secretAccessKey);
    expect(denied.details).toEqual({ awsCode: 'AccessDeniedException' });

    const stranger = dynamoClient({ accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) });
    clients.push(stranger);
    const refused = await failure(openDynamoStore({ client: stranger, prefix }));
    expect(refused.message).toMatch(/\(UnrecognizedClientException\)\. DynamoDB refused the server's AWS credentials/);
    expect(refused.message).not.toContain('x'.repeat(40));
  });

  it('is documented with exactly the actions it uses', () => {
    const deploy = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    const policy = /## The server's policy[\s\S]*?```json\n([\s\S]*?)```/.exec(deploy)![1];
    expect((JSON.parse(policy) as { Statement: Array<{ Action: string[] }> }).Statement[0].Action).toEqual([...STORE_ACTIONS]);
    for (const action of STORE_INIT_ACTIONS) expect(deploy).toContain(`\`${action}\``);
  });
});
