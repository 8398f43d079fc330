import { describe, expect, it } from 'vitest';
import { compareValues, ItemOrder } from '../../client/item-order.js';
import { ItemSource, type Item } from '../../client/item-source.js';

const orders: Item[] = [
  { pk: 'C#1', sk: 'ORDER#A10', total: 30, status: 'shipped' },
  { pk: 'C#1', sk: 'ORDER#A2', total: 5, status: 'pending' },
  { pk: 'C#2', sk: 'ORDER#A1', status: 'pending' },
  { pk: 'C#2', sk: 'ORDER#B7', total: 30, status: { code: 'held', by: 'bob' } },
];

/** The first `first` of `items` came with the execution; the rest are fetched through `fetchPage`. */
function source(items: Item[], first = items.length, fail = false) {
  const fetched: number[] = [];
  const s = new ItemSource({
    run: 'r',
    step: 's',
    n: 1,
    first: items.slice(0, first),
    total: items.length,
    chunkSize: 2,
    fetchPage: async (offset, limit) => {
      fetched.push(offset);
      if (fail) throw new Error('The server cannot be reached.');
      return { n: 1, offset, total: items.length, items: items.slice(offset, offset + limit) };
    },
  });
  return { s, fetched };
}

describe('compareValues', () => {
  it('orders numbers by value, texts naturally, and numbers before texts', () => {
    expect(['A10', 'A2', 'a1'].sort(compareValues)).toEqual(['a1', 'A2', 'A10']);
    expect([10, 9, 100].sort(compareValues)).toEqual([9, 10, 100]);
    expect(['x', 3, null, true, { a: 1 }].sort(compareValues)).toEqual([3, 'x', true, null, { a: 1 }]);
  });
});

describe('ItemOrder', () => {
  it('sorts by a column ascending, then descending, then back to the stored order', async () => {
    const order = new ItemOrder();
    const { s } = source(orders);
    expect(order.active).toBe(false);
    expect(await order.indices(s)).toEqual({ kind: 'shown', indices: undefined });
    order.toggleSort('sk');
    expect(await order.indices(s)).toEqual({ kind: 'shown', indices: [2, 1, 0, 3] });
    expect(order.describe(4, 4)).toBe('Sorted by sk, ascending.');
    order.toggleSort('sk');
    expect(await order.indices(s)).toEqual({ kind: 'shown', indices: [3, 0, 1, 2] });
    order.toggleSort('sk');
    expect(order.sort).toBeUndefined();
    expect(await order.indices(s)).toEqual({ kind: 'shown', indices: undefined });
    expect(order.describe(4, 4)).toBe('');
  });

  it('puts items without the attribute last either way, and keeps the stored order among equals', async () => {
    const order = new ItemOrder();
    const { s } = source(orders);
    order.toggleSort('total');
    expect(await order.indices(s)).toEqual({ kind: 'shown', indices: [1, 0, 3, 2] });
    order.toggleSort('total');
    expect(await order.indices(s)).toEqual({ kind: 'shown', indices: [0, 3, 1, 2] });
  });

  it('filters on every value as the table shows it, case-insensitively, and says how many matched', async () => {
    const order = new ItemOrder();
    const { s } = source(orders);
    expect(order.setFilter('  PENDING ')).toBe(true);
    expect(order.setFilter('PENDING')).toBe(false);
    expect(await order.indices(s)).toEqual({ kind: 'shown', indices: [1, 2] });
    expect(order.describe(4, 2)).toBe('2 of 4 items contain “PENDING”.');
    order.setFilter('held');
    order.toggleSort('sk');
    expect(await order.indices(s)).toEqual({ kind: 'shown', indices: [3] });
    expect(order.describe(4, 1)).toBe('1 of 4 items contain “held”, sorted by sk, ascending.');
    order.setFilter('nothing like it');
    expect(await order.indices(s)).toEqual({ kind: 'shown', indices: [] });
    expect(order.describe(4, 0)).toBe('No item contains “nothing like it”.');
  });

  it('fetches the items not here yet before it sorts, saying so meanwhile', async () => {
    const order = new ItemOrder();
    const { s, fetched } = source(orders, 1);
    const said: string[] = [];
    order.toggleSort('sk');
    expect(await order.indices(s, (text) => said.push(text))).toEqual({ kind: 'shown', indices: [2, 1, 0, 3] });
    expect(fetched).toEqual([0, 2]);
    expect(said).toEqual(['Fetching 4 items to sort them…']);
  });

  it('drops an answer a later request superseded', async () => {
    const order = new ItemOrder();
    const { s } = source(orders, 1);
    order.toggleSort('sk');
    const first = order.indices(s);
    order.cancel();
    expect(await first).toEqual({ kind: 'stale' });
  });

  it('goes back to the stored order when the items cannot be fetched', async () => {
    const order = new ItemOrder();
    const { s } = source(orders, 1, true);
    order.setFilter('pending');
    order.toggleSort('total');
    expect(await order.indices(s)).toEqual({ kind: 'failed', message: 'The items could not be fetched, so the rows are as stored: The server cannot be reached.' });
    expect(order.active).toBe(false);
  });
});
