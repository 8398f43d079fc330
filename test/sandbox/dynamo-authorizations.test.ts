/** Which actions, resources and partition keys a DynamoDB request needs: plain data in and out. */
import { describe, expect, it } from 'vitest';
import { deriveAuthorizations, type DeriveEnv } from '../../server/sandbox/gateway/dynamo-authorizations.js';
import type { KeySchema } from '../../server/sandbox/gateway/key-schemas.js';

const schemas: Record<string, KeySchema> = {
  Orders: { hash: 'pk', indexes: new Map([['ByStatus', 'status']]) },
  Payments: { hash: 'orderId', indexes: new Map() },
  Counters: { hash: 'n', indexes: new Map() },
};
const env: DeriveEnv = { region: 'us-east-1', account: '000000000000', keySchema: async (t) => schemas[t] };
const T = (t: string) => `arn:aws:dynamodb:us-east-1:000000000000:table/${t}`;
const S = (s: string) => ({ S: s });

describe('deriveAuthorizations', () => {
  it('item operations: the table and the partition key of Key or Item', async () => {
    expect(await deriveAuthorizations('GetItem', { TableName: 'Orders', Key: { pk: S('C1'), sk: S('x') } }, env)).toEqual([
      { action: 'dynamodb:GetItem', resource: T('Orders'), leadingKeys: ['C1'] },
    ]);
    expect(await deriveAuthorizations('PutItem', { TableName: 'Counters', Item: { n: { N: '42' } } }, env)).toEqual([
      { action: 'dynamodb:PutItem', resource: T('Counters'), leadingKeys: ['42'] },
    ]);
    expect(await deriveAuthorizations('DeleteItem', { TableName: 'Orders', Key: { sk: S('x') } }, env)).toEqual([
      { action: 'dynamodb:DeleteItem', resource: T('Orders'), leadingKeys: [''] },
    ]);
  });

  it('Query: the equality on the partition key, through names and values, on the table or the index', async () => {
    const q = await deriveAuthorizations(
      'Query',
      {
        TableName: 'Orders',
        KeyConditionExpression: ':lo <= #s AND (#p = :pk)',
        ExpressionAttributeNames: { '#p': 'pk', '#s': 'sk' },
        ExpressionAttributeValues: { ':pk': S('C1'), ':lo': S('A') },
      },
      env,
    );
    expect(q).toEqual([{ action: 'dynamodb:Query', resource: T('Orders'), leadingKeys: ['C1'] }]);
    const onIndex = await deriveAuthorizations(
      'Query',
      {
        TableName: 'Orders',
        IndexName: 'ByStatus',
        KeyConditionExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': S('PENDING') },
      },
      env,
    );
    expect(onIndex).toEqual([{ action: 'dynamodb:Query', resource: `${T('Orders')}/index/ByStatus`, leadingKeys: ['PENDING'] }]);
    // pk >= :v is no equality: the key cannot be read, and fails closed
    expect(
      (await deriveAuthorizations('Query', { TableName: 'Orders', KeyConditionExpression: 'pk >= :v', ExpressionAttributeValues: { ':v': S('C1') } }, env))[0].leadingKeys,
    ).toEqual(['']);
  });

  it('Scan and keyless operations leave the key absent; the resource is the index when named', async () => {
    expect(await deriveAuthorizations('Scan', { TableName: 'Orders', IndexName: 'ByStatus' }, env)).toEqual([
      { action: 'dynamodb:Scan', resource: `${T('Orders')}/index/ByStatus` },
    ]);
    expect(await deriveAuthorizations('ListTables', {}, env)).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
    expect(await deriveAuthorizations('DescribeTable', { TableName: 'Orders' }, env)).toEqual([{ action: 'dynamodb:DescribeTable', resource: T('Orders') }]);
  });

  it('batches: one authorisation per table with all its keys', async () => {
    const out = await deriveAuthorizations(
      'BatchWriteItem',
      {
        RequestItems: {
          Orders: [
            { PutRequest: { Item: { pk: S('C1'), sk: S('a') } } },
            { DeleteRequest: { Key: { pk: S('C2'), sk: S('b') } } },
            { PutRequest: { Item: { pk: S('C1'), sk: S('c') } } },
          ],
          Payments: [{ DeleteRequest: { Key: { orderId: S('A7'), paymentId: S('P') } } }],
        },
      },
      env,
    );
    expect(out).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: T('Orders'), leadingKeys: ['C1', 'C2'] },
      { action: 'dynamodb:BatchWriteItem', resource: T('Payments'), leadingKeys: ['A7'] },
    ]);
  });

  it('transactions: each part with its own item-level action', async () => {
    const out = await deriveAuthorizations(
      'TransactWriteItems',
      {
        TransactItems: [
          { ConditionCheck: { TableName: 'Orders', Key: { pk: S('C1'), sk: S('a') }, ConditionExpression: 'attribute_exists(pk)' } },
          { Update: { TableName: 'Payments', Key: { orderId: S('A7'), paymentId: S('P') }, UpdateExpression: 'SET s = :s' } },
        ],
      },
      env,
    );
    expect(out.map((a) => [a.action, a.resource, a.leadingKeys])).toEqual([
      ['dynamodb:ConditionCheckItem', T('Orders'), ['C1']],
      ['dynamodb:UpdateItem', T('Payments'), ['A7']],
    ]);
  });

  it('PartiQL: kind, table or index, and keys from literals, parameters, IN lists and INSERT values', async () => {
    const run = (Statement: string, Parameters?: unknown[]) => deriveAuthorizations('ExecuteStatement', { Statement, Parameters }, env);
    expect(await run('select * from "Orders" where "pk" = ? and sk > ?', [S('C1'), S('a')])).toEqual([
      { action: 'dynamodb:PartiQLSelect', resource: T('Orders'), leadingKeys: ['C1'] },
    ]);
    expect(await run(`SELECT * FROM Orders WHERE pk IN ['C1', 'C2']`)).toEqual([{ action: 'dynamodb:PartiQLSelect', resource: T('Orders'), leadingKeys: ['C1', 'C2'] }]);
    expect(await run(`SELECT * FROM "Orders"."ByStatus" WHERE status = 'PENDING'`)).toEqual([
      { action: 'dynamodb:PartiQLSelect', resource: `${T('Orders')}/index/ByStatus`, leadingKeys: ['PENDING'] },
    ]);
    expect(await run(`INSERT INTO "Orders" VALUE {'sk': 'x', 'pk': 'O''Brien', 'lines': [{'pk': 'no'}]}`)).toEqual([
      { action: 'dynamodb:PartiQLInsert', resource: T('Orders'), leadingKeys: ["O'Brien"] },
    ]);
    expect(await run(`UPDATE "Orders" SET status = 'X' WHERE pk = 'C1' OR pk = 'C2'`)).toEqual([{ action: 'dynamodb:PartiQLUpdate', resource: T('Orders'), leadingKeys: [''] }]);
    expect(await run(`DELETE FROM Payments WHERE orderId = 7 AND paymentId = 'P'`)).toEqual([{ action: 'dynamodb:PartiQLDelete', resource: T('Payments'), leadingKeys: ['7'] }]);
    // a statement the sandbox cannot read is authorised against every resource
    expect(await run('EXPLAIN something')).toEqual([{ action: 'dynamodb:PartiQLSelect', resource: '*' }]);
    const batch = await deriveAuthorizations(
      'BatchExecuteStatement',
      { Statements: [{ Statement: `SELECT * FROM Orders WHERE pk = 'C1'` }, { Statement: `DELETE FROM Payments WHERE orderId = 'A7' AND paymentId = 'P'` }] },
      env,
    );
    expect(batch.map((a) => a.action)).toEqual(['dynamodb:PartiQLSelect', 'dynamodb:PartiQLDelete']);
  });

  it('without key schemas (no policy tests LeadingKeys) nothing is looked up', async () => {
    const noKeys: DeriveEnv = { region: 'eu-west-1', account: '123456789012' };
    expect(await deriveAuthorizations('GetItem', { TableName: 'Orders', Key: { pk: S('C1') } }, noKeys)).toEqual([
      { action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/Orders', leadingKeys: undefined },
    ]);
  });
});
