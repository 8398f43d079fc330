// `runbooks audit verify --store dynamodb`: the chain replicas share in the store's audit table,
// reached through the standard AWS chain pointed at the suite's sandbox, checked with the same
// output and exit codes as a file: OK (0), the first bad record with the item's seq (1), nothing to
// check (2). Signed with the suite's key, under the temporary XDG_CONFIG_HOME of test/global-setup.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { defaultAuditKeyPath, loadOrCreateAuditKey } from '../../server/runs/audit-key.js';
import { DynamoAuditLog } from '../../server/runs/dynamo-audit.js';
import { createStoreTables } from '../../server/runs/dynamo-tables.js';
import { dynamoClient, localDynamo, sandboxInfo } from '../helpers/sandbox.js';
import { cleanEnv, requireBuild, runCli, sandboxAwsEnv } from '../helpers/cli.js';
import { newPrefix } from '../helpers/store.js';

const info = sandboxInfo();

describe('runbooks audit verify --store dynamodb', () => {
  const prefix = newPrefix();
  const table = `${prefix}audit`;
  const local = localDynamo();
  let fingerprint: string;

  beforeAll(async () => {
    requireBuild();
    await createStoreTables({ client: local, prefix });
    fingerprint = (await loadOrCreateAuditKey(defaultAuditKeyPath())).fingerprint;
    const client = dynamoClient({ accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey });
    const log = await DynamoAuditLog.open({ client, prefix, digestIntervalMs: 0 });
    await log.append({ type: 'run.started', runId: 'r1', user: 'alice' });
    await log.append({ type: 'step.executed', runId: 'r1', user: 'alice', data: { step: 'read', n: 1 } });
    await log.append({ type: 'run.completed', runId: 'r1', user: 'alice' });
    await log.close();
    client.destroy();
  });
  afterAll(() => local.destroy());

  it('reports an intact chain as OK (exit 0), by flag or environment', async () => {
    const res = await runCli(['audit', 'verify', '--store', 'dynamodb', '--store-prefix', prefix], sandboxAwsEnv());
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`audit log OK: 4 records, 1 digest, signed by ${fingerprint}\n`);
    const json = await runCli(['audit', 'verify', '--json'], { ...sandboxAwsEnv(), RUNBOOKS_STORE: 'dynamodb', RUNBOOKS_STORE_PREFIX: prefix });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, table, records: 4, digests: 1, fingerprint });
  });

  it('refuses what it cannot check (exit 2): no tables, an empty chain, no region, a bad prefix', async () => {
    const missing = newPrefix();
    const none = await runCli(['audit', 'verify', '--store', 'dynamodb', '--store-prefix', missing, '--json'], sandboxAwsEnv());
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stdout)).toEqual({
      ok: false,
      table: `${missing}audit`,
      error: expect.stringMatching(new RegExp(`failed \\(ResourceNotFoundException\\)\\. Create the store's tables first: runbooks store init --store-prefix ${missing}`)),
    });
    expect(none.stdout).not.toContain(info.secretAccessKey);

    const empty = newPrefix();
    await createStoreTables({ client: local, prefix: empty });
    const nothing = await runCli(['audit', 'verify', '--store', 'dynamodb', '--store-prefix', empty], sandboxAwsEnv());
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toBe(`runbooks: the audit chain in DynamoDB table ${empty}audit is empty: nothing to check\n`);

    const { AWS_REGION: _region, ...noRegion } = sandboxAwsEnv();
    const unset = await runCli(['audit', 'verify', '--store', 'dynamodb', '--store-prefix', prefix], { ...noRegion, AWS_CONFIG_FILE: '/nonexistent' });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/^runbooks: With --store dynamodb, set the region of the store's tables: AWS_REGION=/);

    const bad = await runCli(['audit', 'verify', '--store', 'dynamodb', '--store-prefix', 'no spaces'], sandboxAwsEnv());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^runbooks: The store prefix "no spaces" cannot start a DynamoDB table name/);
    const kind = await runCli(['audit', 'verify', '--store', 'postgres'], cleanEnv());
    expect(kind.code).toBe(2);
  });

  it('names the first edited record and its item (exit 1)', async () => {
    const items = (
      await local.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#c = :c',
          ExpressionAttributeNames: { '#c': 'chain' },
          ExpressionAttributeValues: { ':c': { S: 'audit' } },
          ConsistentRead: true,
        }),
      )
    ).Items!;
    const record = JSON.parse(items[1].json.S!);
    await local.send(new PutItemCommand({ TableName: table, Item: { ...items[1], json: { S: JSON.stringify({ ...record, user: 'mallory' }) } } }));

    const res = await runCli(['audit', 'verify', '--store', 'dynamodb', '--store-prefix', prefix], sandboxAwsEnv());
    expect(res.code).toBe(1);
    expect(res.stdout).toBe(
      `audit log broken at record 2 (item seq 2): edited: its content does not match its hash (the record was edited)\n  1 record before it verify; DynamoDB table ${table}\n`,
    );
    const json = await runCli(['audit', 'verify', '--store', 'dynamodb', '--store-prefix', prefix, '--json'], sandboxAwsEnv());
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      table,
      records: 1,
      digests: 0,
      fingerprint,
      firstBad: { record: 2, item: 2, kind: 'edited', reason: 'its content does not match its hash (the record was edited)' },
    });
  });
});
