// The one column order of every output of a step's items (the notebook's table and its JSON,
// the CSV, the transcripts, the CLI table): test/e2e/results.test.ts checks them all against each other.
import { describe, expect, it } from 'vitest';
import { columnsOf, hintsOf, inColumnOrder, keyNamesOf, orderColumns, projectionOf } from '../../server/runs/columns.js';

describe('columnsOf', () => {
  it('is the union of attribute names, keys first, then the rest alphabetically', () => {
    const items = [
      { total: 42.5, sk: 'ORDER#1', pk: 'CUSTOMER#C1', status: 'SHIPPED' },
      { pk: 'CUSTOMER#C1', sk: 'ORDER#2', Currency: 'EUR', note: 'gift' },
    ];
    expect(columnsOf(items, { keys: ['pk', 'sk'] })).toEqual(['pk', 'sk', 'Currency', 'note', 'status', 'total']);
  });

  it('follows a projection after the keys, and skips keys no item has', () => {
    const items = [{ orderId: 'A7', status: 'PENDING', createdAt: '2026-11-01', extra: 1 }];
    expect(columnsOf(items, { keys: ['pk', 'sk'], projection: ['status', 'orderId', 'missing'] })).toEqual(['status', 'orderId', 'createdAt', 'extra']);
  });

  it('has no columns for no items', () => {
    expect(columnsOf([], { keys: ['pk'] })).toEqual([]);
  });

  it("orders the rest ignoring case, then by code unit, whatever the locale and the items' order", () => {
    const names = ['b', 'B', 'a_1', 'A', 'a', '_x', 'Z', 'é', '10', '9'];
    const expected = ['10', '9', '_x', 'A', 'a', 'a_1', 'B', 'b', 'Z', 'é'];
    expect(orderColumns(names)).toEqual(expected);
    expect(orderColumns([...names].reverse())).toEqual(expected);
    expect(orderColumns(new Set(names), { keys: ['Z'] })).toEqual(['Z', ...expected.filter((n) => n !== 'Z')]);
  });
});

describe('hintsOf', () => {
  const request = { operation: 'Query' as const, input: { TableName: 'O', KeyConditionExpression: 'pk = :pk', ProjectionExpression: 'total, sk' } };

  it("takes the execution's keys (the table's schema) over the request's", () => {
    expect(hintsOf({ keys: ['pk', 'sk'], request })).toEqual({ keys: ['pk', 'sk'], projection: ['total', 'sk'] });
    expect(hintsOf({ request })).toEqual({ keys: ['pk'], projection: ['total', 'sk'] });
    expect(hintsOf(undefined)).toEqual({});
  });
});

describe('inColumnOrder', () => {
  it('rewrites an item with its attributes in column order, keeping every attribute', () => {
    const item = { total: 1, sk: 'S', pk: 'P', extra: true };
    expect(Object.keys(inColumnOrder(item, ['pk', 'sk', 'total']))).toEqual(['pk', 'sk', 'total', 'extra']);
    expect(JSON.stringify(inColumnOrder(item, columnsOf([item], { keys: ['pk', 'sk'] })))).toBe('{"pk":"P","sk":"S","extra":true,"total":1}');
  });

  it('keeps an attribute named __proto__ as an attribute', () => {
    const item = JSON.parse('{"__proto__": {"x": 1}, "pk": "P"}') as Record<string, unknown>;
    expect(JSON.stringify(inColumnOrder(item, columnsOf([item], { keys: ['pk'] })))).toBe('{"pk":"P","__proto__":{"x":1}}');
  });
});

describe('keyNamesOf', () => {
  it('reads the Key of item operations', () => {
    expect(keyNamesOf({ operation: 'GetItem', input: { TableName: 'T', Key: { orderId: 'A7', paymentId: 'P-1' } } })).toEqual(['orderId', 'paymentId']);
    expect(keyNamesOf({ operation: 'DeleteItem', input: { TableName: 'T', Key: { id: 'x' } } })).toEqual(['id']);
  });

  it('reads the names a key condition uses, resolving #names and functions', () => {
    const request = {
      operation: 'Query' as const,
      input: {
        TableName: 'Orders',
        IndexName: 'ByStatus',
        KeyConditionExpression: '#s = :status AND begins_with(createdAt, :day)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':status': 'PENDING', ':day': '2026-11' },
      },
    };
    expect(keyNamesOf(request)).toEqual(['status', 'createdAt']);
    expect(keyNamesOf({ operation: 'Query', input: { TableName: 'O', KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b' } })).toEqual(['pk', 'sk']);
  });

  it('knows nothing of a Scan or a PartiQL statement', () => {
    expect(keyNamesOf({ operation: 'Scan', input: { TableName: 'T' } })).toEqual([]);
    expect(keyNamesOf({ operation: 'ExecuteStatement', statementKind: 'select', input: { Statement: 'SELECT * FROM "T"' } })).toEqual([]);
  });
});

describe('projectionOf', () => {
  it('lists ProjectionExpression names in order, top-level, with #names resolved', () => {
    const request = {
      operation: 'Query' as const,
      input: { TableName: 'O', ProjectionExpression: 'orderId, #s, address.city, lines[0], orderId', ExpressionAttributeNames: { '#s': 'status' } },
    };
    expect(projectionOf(request)).toEqual(['orderId', 'status', 'address', 'lines']);
  });

  it('lists a PartiQL select list, and nothing for SELECT *', () => {
    expect(projectionOf({ operation: 'ExecuteStatement', statementKind: 'select', input: { Statement: 'SELECT pk, sk, "status" FROM "Orders" WHERE pk = ?' } })).toEqual([
      'pk',
      'sk',
      'status',
    ]);
    expect(projectionOf({ operation: 'ExecuteStatement', statementKind: 'select', input: { Statement: 'SELECT * FROM "Orders"' } })).toEqual([]);
  });
});
