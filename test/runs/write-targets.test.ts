/** Which items a write addresses by full key: PartiQL by its WHERE, and why some writes have no before-image. */
import { describe, expect, it } from 'vitest';
import { diffItems, revertRequest, writeTargets } from '../../server/runs/write-images.js';
import type { RenderedRequest } from '../../server/runbook/types.js';

const schemas = async (table: string) => (table === 'Orders' ? { partitionKey: 'pk', sortKey: 'sk', indexes: {} } : { partitionKey: 'id', indexes: {} });
const partiql = (Statement: string, Parameters: unknown[] = []): RenderedRequest =>
  ({ operation: 'ExecuteStatement', statementKind: 'update', input: { Statement, Parameters } }) as unknown as RenderedRequest;

describe('write targets', () => {
  it('reads the full key of a PartiQL UPDATE or DELETE from its WHERE', async () => {
    expect(await writeTargets(partiql(`UPDATE "Orders" SET status = ? WHERE pk = ? AND sk = 'ORDER#1'`, ['PENDING', 'CUSTOMER#C1']), schemas)).toEqual([
      { table: 'Orders', key: { pk: 'CUSTOMER#C1', sk: 'ORDER#1' } },
    ]);
    expect(await writeTargets(partiql(`DELETE FROM "Customers" WHERE id = ?`, ['C1']), schemas)).toEqual([{ table: 'Customers', key: { id: 'C1' } }]);
  });

  it.each([
    [`UPDATE "Orders" SET status = ? WHERE pk = ?`, ['X', 'CUSTOMER#C1']],
    [`UPDATE "Orders" SET status = ? WHERE pk = ? AND sk > ?`, ['X', 'CUSTOMER#C1', 'A']],
    [`UPDATE "Orders" SET status = ? WHERE pk = ? OR sk = ?`, ['X', 'a', 'b']],
    [`INSERT INTO "Customers" VALUE {'id': ?}`, ['C9']],
  ])('says that no before-image is possible for %s', async (statement, parameters) => {
    const out = await writeTargets(partiql(statement, parameters), schemas);
    expect(out).toEqual({ unavailable: expect.stringContaining('full key') });
  });

  it('diffs attribute by attribute and builds the conditional write that puts the item back', () => {
    expect(diffItems({ id: 'a', v: 1, gone: true }, { id: 'a', v: 2, added: [1] })).toEqual([
      { attribute: 'added', change: 'added', after: [1] },
      { attribute: 'gone', change: 'removed', before: true },
      { attribute: 'v', change: 'changed', before: 1, after: 2 },
    ]);
    expect(revertRequest([{ table: 'T', key: { id: 'a' }, before: { id: 'a', v: 1 }, after: { id: 'a', v: 2 } }])).toEqual({
      operation: 'PutItem',
      input: {
        TableName: 'T',
        Item: { id: 'a', v: 1 },
        ConditionExpression: '#a0 = :a0 AND #a1 = :a1',
        ExpressionAttributeNames: { '#a0': 'id', '#a1': 'v' },
        ExpressionAttributeValues: { ':a0': 'a', ':a1': 2 },
        ReturnValues: 'NONE',
      },
    });
    expect(revertRequest([{ table: 'T', key: { id: 'n' }, before: null, after: { id: 'n' } }])).toMatchObject({ operation: 'DeleteItem', input: { Key: { id: 'n' } } });
  });
});
