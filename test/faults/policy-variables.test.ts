/**
 * A partition key value that looks like an IAM policy variable (`${aws:userid}`, `${*}`) is copied
 * into `dynamodb:LeadingKeys` escaped (`${$}`), so that it means itself: the session may read that
 * literal key and nothing else — not the key the variable would have stood for, nor any other.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveSessionPolicy } from '../../server/access/derive-policy.js';
import { assumeRole, createTestTable, dynamoClient, localDynamo, sandboxInfo, uniqueTableName } from '../helpers/sandbox.js';

const info = sandboxInfo();
const table = uniqueTableName('vars');

async function canRead(policy: object, key: string, sessionName: string): Promise<string> {
  const creds = await assumeRole('runbook-tester', { Policy: JSON.stringify(policy), RoleSessionName: sessionName });
  const ddb = dynamoClient(creds);
  try {
    await ddb.send(new GetItemCommand({ TableName: table, Key: { id: { S: key } } }));
    return 'ok';
  } catch (err) {
    return (err as Error).name;
  } finally {
    ddb.destroy();
  }
}

describe('policy variables in key values', () => {
  beforeAll(async () => {
    await createTestTable(table);
  });

  it.each([['${aws:userid}'], ['${*}'], ['a${?}b$']])('%s matches exactly that literal key', async (value) => {
    const policy = deriveSessionPolicy(
      { operation: 'GetItem', input: { TableName: table, Key: { id: value } } },
      { region: info.region, account: info.account, partitionKeys: { [table]: 'id' } },
    );
    expect(JSON.stringify(policy)).toContain(value.replace(/\$/g, '${$}'));
    const name = `vars-${Math.random().toString(36).slice(2, 10)}`;
    const roleId = info.roles.find((r) => r.name === 'runbook-tester')!.roleId;
    const local = localDynamo();
    await local.send(new PutItemCommand({ TableName: table, Item: { id: { S: value } } }));
    await local.send(new PutItemCommand({ TableName: table, Item: { id: { S: `${roleId}:${name}` } } }));
    local.destroy();
    expect(await canRead(policy, value, name)).toBe('ok');
    // What `${aws:userid}` would have stood for, and anything `${*}` would have matched, stay refused.
    expect(await canRead(policy, `${roleId}:${name}`, name)).toBe('AccessDeniedException');
    expect(await canRead(policy, 'other', name)).toBe('AccessDeniedException');
  });
});
