import { describe, expect, it } from 'vitest';
import { deriveSessionPolicy, describeTablePolicy, minimalRolePolicy, tablesOf } from '../../server/access/derive-policy.js';
import { partiqlTarget } from '../../server/access/partiql-target.js';
import { RbError } from '../../server/errors.js';
import type { RenderedRequest } from '../../server/runbook/types.js';

const ctx = {
  region: 'us-east-1',
  account: '000000000000',
  partitionKeys: { Orders: 'pk', Customers: 'customerId', Payments: 'orderId' },
};
const arn = (resource: string) => `arn:aws:dynamodb:us-east-1:000000000000:table/${resource}`;
const pinned = (...values: string[]) => ({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': values } });
const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const op = (operation: Exclude<RenderedRequest['operation'], 'ExecuteStatement'>, input: Record<string, unknown>): RenderedRequest => ({
  operation,
  input,
});
const partiql = (statementKind: 'select' | 'insert' | 'update' | 'delete', Statement: string): RenderedRequest => ({
  operation: 'ExecuteStatement',
  statementKind,
  input: { Statement, Parameters: ['x'] },
});

describe('deriveSessionPolicy: one operation at a time', () => {
  it('GetItem: GetItem on the table, pinned to the partition key of Key', () => {
    const policy = deriveSessionPolicy(op('GetItem', { TableName: 'Customers', Key: { customerId: 'C1001' } }), ctx);
    expect(policy).toEqual(doc({ Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: [arn('Customers')], Condition: pinned('C1001') }));
  });

  it('PutItem: pinned to the partition key of Item', () => {
    const policy = deriveSessionPolicy(
      op('PutItem', { TableName: 'Orders', Item: { pk: 'CUSTOMER#C1001', sk: 'ORDER#X', total: 3 }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ctx,
    );
    expect(policy).toEqual(doc({ Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: [arn('Orders')], Condition: pinned('CUSTOMER#C1001') }));
  });

  it('UpdateItem and DeleteItem: pinned to the partition key of Key', () => {
    const key = { pk: 'CUSTOMER#C1002', sk: 'ORDER#2026-10-03#D4' };
    expect(deriveSessionPolicy(op('UpdateItem', { TableName: 'Orders', Key: key, UpdateExpression: 'SET #s = :s' }), ctx)).toEqual(
      doc({ Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [arn('Orders')], Condition: pinned('CUSTOMER#C1002') }),
    );
    expect(deriveSessionPolicy(op('DeleteItem', { TableName: 'Orders', Key: key }), ctx)).toEqual(
      doc({ Effect: 'Allow', Action: ['dynamodb:DeleteItem'], Resource: [arn('Orders')], Condition: pinned('CUSTOMER#C1002') }),
    );
  });

  it('Query of the table: pinned to the value of the partition key equality, names and order as written', () => {
    const plainName = op('Query', {
      TableName: 'Orders',
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: { ':pk': 'CUSTOMER#C1001', ':a': 'ORDER#2026', ':b': 'ORDER#2027' },
    });
    const viaNames = op('Query', {
      TableName: 'Orders',
      KeyConditionExpression: '(begins_with(#s, :p)) and (:pk = #k)',
      ExpressionAttributeNames: { '#k': 'pk', '#s': 'sk' },
      ExpressionAttributeValues: { ':pk': 'CUSTOMER#C1001', ':p': 'ORDER#' },
    });
    const expected = doc({ Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [arn('Orders')], Condition: pinned('CUSTOMER#C1001') });
    expect(deriveSessionPolicy(plainName, ctx)).toEqual(expected);
    expect(deriveSessionPolicy(viaNames, ctx)).toEqual(expected);
  });

  it('Query of an index: the index ARN alone, never pinned (LeadingKeys names the table key)', () => {
    const policy = deriveSessionPolicy(
      op('Query', {
        TableName: 'Orders',
        IndexName: 'ByStatus',
        KeyConditionExpression: '#st = :s',
        ExpressionAttributeNames: { '#st': 'status' },
        ExpressionAttributeValues: { ':s': 'PENDING' },
      }),
      ctx,
    );
    expect(policy).toEqual(doc({ Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [arn('Orders/index/ByStatus')] }));
  });

  it('Scan: the table (or the index) unpinned', () => {
    expect(deriveSessionPolicy(op('Scan', { TableName: 'Payments', FilterExpression: 'amount > :a' }), ctx)).toEqual(
      doc({ Effect: 'Allow', Action: ['dynamodb:Scan'], Resource: [arn('Payments')] }),
    );
    expect(deriveSessionPolicy(op('Scan', { TableName: 'Customers', IndexName: 'ByEmail' }), ctx)).toEqual(
      doc({ Effect: 'Allow', Action: ['dynamodb:Scan'], Resource: [arn('Customers/index/ByEmail')] }),
    );
  });

  it('DescribeTable: DescribeTable on the table', () => {
    expect(deriveSessionPolicy(op('DescribeTable', { TableName: 'Orders' }), ctx)).toEqual(doc({ Effect: 'Allow', Action: ['dynamodb:DescribeTable'], Resource: [arn('Orders')] }));
    expect(describeTablePolicy('Payments', ctx)).toEqual(doc({ Effect: 'Allow', Action: ['dynamodb:DescribeTable'], Resource: [arn('Payments')] }));
  });

  it('BatchGetItem: per table, pinned to every key it names', () => {
    const policy = deriveSessionPolicy(
      op('BatchGetItem', {
        RequestItems: {
          Payments: {
            Keys: [
              { orderId: 'C9', paymentId: 'P-1003' },
              { orderId: 'A7', paymentId: 'P-1001' },
              { orderId: 'C9', paymentId: 'P-1004' },
            ],
          },
          Customers: { Keys: [{ customerId: 'C1001' }], ProjectionExpression: 'email' },
        },
      }),
      ctx,
    );
    expect(policy).toEqual(
      doc(
        { Effect: 'Allow', Action: ['dynamodb:BatchGetItem'], Resource: [arn('Customers')], Condition: pinned('C1001') },
        { Effect: 'Allow', Action: ['dynamodb:BatchGetItem'], Resource: [arn('Payments')], Condition: pinned('A7', 'C9') },
      ),
    );
  });

  it('BatchWriteItem: per table, pinned to the keys of its puts and deletes', () => {
    const policy = deriveSessionPolicy(
      op('BatchWriteItem', {
        RequestItems: {
          Orders: [{ PutRequest: { Item: { pk: 'CUSTOMER#C1003', sk: 'ORDER#N', total: 1 } } }, { DeleteRequest: { Key: { pk: 'CUSTOMER#C1004', sk: 'ORDER#2026-11-22#G8' } } }],
        },
      }),
      ctx,
    );
    expect(policy).toEqual(doc({ Effect: 'Allow', Action: ['dynamodb:BatchWriteItem'], Resource: [arn('Orders')], Condition: pinned('CUSTOMER#C1003', 'CUSTOMER#C1004') }));
  });

  it('TransactGetItems: GetItem per part, pinned per table', () => {
    const policy = deriveSessionPolicy(
      op('TransactGetItems', {
        TransactItems: [
          { Get: { TableName: 'Orders', Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-25#C9' } } },
          { Get: { TableName: 'Payments', Key: { orderId: 'C9', paymentId: 'P-1004' } } },
        ],
      }),
      ctx,
    );
    expect(policy).toEqual(
      doc(
        { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: [arn('Orders')], Condition: pinned('CUSTOMER#C1001') },
        { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: [arn('Payments')], Condition: pinned('C9') },
      ),
    );
  });

  it('TransactWriteItems: the action of each part plus ConditionCheckItem, each pinned to its own keys', () => {
    const policy = deriveSessionPolicy(
      op('TransactWriteItems', {
        TransactItems: [
          { ConditionCheck: { TableName: 'Payments', Key: { orderId: 'C9', paymentId: 'P-1004' }, ConditionExpression: '#s = :c' } },
          { Update: { TableName: 'Orders', Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-25#C9' }, UpdateExpression: 'SET #s = :p' } },
          { Put: { TableName: 'Payments', Item: { orderId: 'C9', paymentId: 'P-2000', state: 'REFUNDED' } } },
          { Delete: { TableName: 'Payments', Key: { orderId: 'F6', paymentId: 'P-1007' } } },
        ],
      }),
      ctx,
    );
    expect(policy).toEqual(
      doc(
        { Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [arn('Orders')], Condition: pinned('CUSTOMER#C1001') },
        { Effect: 'Allow', Action: ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem'], Resource: [arn('Payments')], Condition: pinned('C9') },
        { Effect: 'Allow', Action: ['dynamodb:DeleteItem'], Resource: [arn('Payments')], Condition: pinned('F6') },
      ),
    );
  });

  it('PartiQL: the action of the statement kind on its target, unpinned', () => {
    expect(deriveSessionPolicy(partiql('select', 'SELECT pk, sk FROM "Orders" WHERE pk = ? AND status = ?'), ctx)).toEqual(
      doc({ Effect: 'Allow', Action: ['dynamodb:PartiQLSelect'], Resource: [arn('Orders')] }),
    );
    expect(deriveSessionPolicy(partiql('select', 'SELECT * FROM "Orders"."ByStatus" WHERE status = ?'), ctx)).toEqual(
      doc({ Effect: 'Allow', Action: ['dynamodb:PartiQLSelect'], Resource: [arn('Orders/index/ByStatus')] }),
    );
    expect(deriveSessionPolicy(partiql('insert', `INSERT INTO "Payments" VALUE {'orderId': ?, 'paymentId': 'P-9'}`), ctx)).toEqual(
      doc({ Effect: 'Allow', Action: ['dynamodb:PartiQLInsert'], Resource: [arn('Payments')] }),
    );
    expect(deriveSessionPolicy(partiql('update', 'UPDATE "Orders" SET status = ? WHERE pk = ? AND sk = ?'), ctx)).toEqual(
      doc({ Effect: 'Allow', Action: ['dynamodb:PartiQLUpdate'], Resource: [arn('Orders')] }),
    );
    expect(deriveSessionPolicy(partiql('delete', 'delete from Customers where customerId = ?'), ctx)).toEqual(
      doc({ Effect: 'Allow', Action: ['dynamodb:PartiQLDelete'], Resource: [arn('Customers')] }),
    );
  });
});

describe('deriveSessionPolicy: when it does not pin', () => {
  it('leaves a table unpinned when its partition key is not known', () => {
    const policy = deriveSessionPolicy(op('GetItem', { TableName: 'Orders', Key: { pk: 'A', sk: 'B' } }), { ...ctx, partitionKeys: {} });
    expect(policy).toEqual(doc({ Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: [arn('Orders')] }));
  });

  it('leaves a Query unpinned without an equality on the partition key', () => {
    const policy = deriveSessionPolicy(op('Query', { TableName: 'Orders', KeyConditionExpression: 'sk = :s', ExpressionAttributeValues: { ':s': 'x' } }), ctx);
    expect(policy.Statement[0].Condition).toBeUndefined();
  });

  it('pins number keys by their decimal form and leaves binary keys unpinned', () => {
    const numbers = { ...ctx, partitionKeys: { Counters: 'n' } };
    expect(deriveSessionPolicy(op('GetItem', { TableName: 'Counters', Key: { n: 42 } }), numbers).Statement[0].Condition).toEqual(pinned('42'));
    const binary = op('GetItem', { TableName: 'Counters', Key: { n: new Uint8Array([1, 2]) } });
    expect(deriveSessionPolicy(binary, numbers).Statement[0].Condition).toBeUndefined();
  });

  it('grants tables with the same actions and no pin in one statement', () => {
    const policy = deriveSessionPolicy(
      op('TransactGetItems', {
        TransactItems: [
          { Get: { TableName: 'Payments', Key: { orderId: 'C9', paymentId: 'P-1004' } } },
          { Get: { TableName: 'Orders', Key: { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-25#C9' } } },
        ],
      }),
      { ...ctx, partitionKeys: {} },
    );
    expect(policy).toEqual(doc({ Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: [arn('Orders'), arn('Payments')] }));
  });

  it('drops the pin of an action when one of its parts on that table cannot be pinned', () => {
    const policy = deriveSessionPolicy(op('BatchGetItem', { RequestItems: { Payments: { Keys: [{ orderId: 'A7', paymentId: 'P' }, { paymentId: 'P-1' }] } } }), ctx);
    expect(policy).toEqual(doc({ Effect: 'Allow', Action: ['dynamodb:BatchGetItem'], Resource: [arn('Payments')] }));
  });

  it('keeps wildcard characters in key values literal (StringEquals), so a value cannot widen the pin', () => {
    const policy = deriveSessionPolicy(op('GetItem', { TableName: 'Customers', Key: { customerId: 'C*' } }), ctx);
    expect(policy.Statement[0].Condition).toEqual(pinned('C*'));
  });
});

describe('deriveSessionPolicy: refuses what it cannot scope', () => {
  const refuses = (request: RenderedRequest, message: RegExp) => {
    let err: unknown;
    try {
      deriveSessionPolicy(request, ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RbError);
    expect((err as RbError).code).toBe('RB_ERR_ACCESS_POLICY_DERIVE');
    expect((err as RbError).message).toMatch(message);
  };

  it('rejects a table or index name that could act as a wildcard', () => {
    refuses(op('Scan', { TableName: '*' }), /not a valid DynamoDB table name/);
    refuses(op('Query', { TableName: 'Orders', IndexName: 'By*', KeyConditionExpression: 'a = :a' }), /not a valid DynamoDB index name/);
    refuses(op('GetItem', { TableName: 'Or?ers', Key: { pk: 'x' } }), /table name/);
    refuses(partiql('select', 'SELECT * FROM "Ord*"'), /table name/);
  });

  it('rejects a PartiQL statement whose kind differs from the step, or without a target', () => {
    refuses(partiql('select', 'DELETE FROM "Orders" WHERE pk = ?'), /is DELETE but the step was parsed as SELECT/);
    refuses(partiql('select', 'SELECT 1'), /no FROM clause/);
    refuses(partiql('select', `SELECT * FROM "Orders`), /unterminated quoted identifier/);
  });

  it('rejects malformed batches and transactions', () => {
    refuses(op('BatchGetItem', { RequestItems: {} }), /no RequestItems/);
    refuses(op('TransactWriteItems', { TransactItems: [{ Put: { TableName: 'Orders', Item: {} }, Delete: {} }] }), /exactly one of/);
  });
});

describe('tablesOf and the PartiQL target', () => {
  it('lists every table a request touches, sorted, PartiQL included', () => {
    expect(
      tablesOf(
        op('TransactWriteItems', {
          TransactItems: [
            { Put: { TableName: 'Payments', Item: { orderId: 'a' } } },
            { ConditionCheck: { TableName: 'Orders', Key: { pk: 'p' }, ConditionExpression: 'x' } },
            { Delete: { TableName: 'Payments', Key: { orderId: 'b' } } },
          ],
        }),
      ),
    ).toEqual(['Orders', 'Payments']);
    expect(tablesOf(partiql('select', 'SELECT * FROM "Orders"."ByStatus"'))).toEqual(['Orders']);
    expect(tablesOf(op('Query', { TableName: 'Customers', IndexName: 'ByEmail', KeyConditionExpression: 'email = :e' }))).toEqual(['Customers']);
  });

  it('is not fooled by string literals, quoted identifiers or case', () => {
    expect(partiqlTarget(`SELECT "from", 'FROM "Customers"' FROM "Orders" WHERE pk = ?`)).toEqual({ kind: 'select', table: 'Orders' });
    expect(() => partiqlTarget(`select * from "My""Table" where a = ?`)).toThrow(/"My\\"Table" is not a valid DynamoDB table name/);
    expect(partiqlTarget(`UPDATE "Orders" SET note = 'DELETE FROM "Payments"' WHERE pk = ? AND sk = ?`)).toEqual({ kind: 'update', table: 'Orders' });
    expect(partiqlTarget(`SELECT a[0], m.b FROM Orders.ByStatus WHERE status = ?`)).toEqual({ kind: 'select', table: 'Orders', index: 'ByStatus' });
  });
});

describe('minimalRolePolicy', () => {
  it('unions the actions of several session policies by resource, without conditions', () => {
    const policies = [
      deriveSessionPolicy(op('GetItem', { TableName: 'Customers', Key: { customerId: 'C1' } }), ctx),
      deriveSessionPolicy(op('Query', { TableName: 'Orders', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'x' } }), ctx),
      deriveSessionPolicy(op('Query', { TableName: 'Orders', IndexName: 'ByStatus', KeyConditionExpression: 'status = :s' }), ctx),
      deriveSessionPolicy(op('UpdateItem', { TableName: 'Orders', Key: { pk: 'y', sk: 'z' }, UpdateExpression: 'SET a = :a' }), ctx),
      deriveSessionPolicy(op('GetItem', { TableName: 'Payments', Key: { orderId: 'A7', paymentId: 'P' } }), ctx),
      deriveSessionPolicy(partiql('select', 'SELECT * FROM "Orders" WHERE pk = ?'), ctx),
    ];
    expect(minimalRolePolicy(policies)).toEqual(
      doc(
        { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: [arn('Customers'), arn('Payments')] },
        { Effect: 'Allow', Action: ['dynamodb:PartiQLSelect', 'dynamodb:Query', 'dynamodb:UpdateItem'], Resource: [arn('Orders')] },
        { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [arn('Orders/index/ByStatus')] },
      ),
    );
  });

  it('derives the same document whatever the order of statements in its input', () => {
    const a = deriveSessionPolicy(op('Scan', { TableName: 'Orders' }), ctx);
    const b = deriveSessionPolicy(op('DescribeTable', { TableName: 'Customers' }), ctx);
    expect(JSON.stringify(minimalRolePolicy([a, b]))).toBe(JSON.stringify(minimalRolePolicy([b, a])));
  });
});

describe('ARNs', () => {
  it('uses the partition, region and account of the context, and keeps a TableName that is already an ARN', () => {
    const policy = deriveSessionPolicy(op('Scan', { TableName: 'Orders' }), { region: 'cn-north-1', account: '123456789012', partition: 'aws-cn', partitionKeys: {} });
    expect(policy.Statement[0].Resource).toEqual(['arn:aws-cn:dynamodb:cn-north-1:123456789012:table/Orders']);
    const byArn = 'arn:aws:dynamodb:eu-west-1:111122223333:table/Orders';
    expect(deriveSessionPolicy(op('Scan', { TableName: byArn }), ctx).Statement[0].Resource).toEqual([byArn]);
  });
});
