import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../client/api.js';
import { ItemSource } from '../../client/item-source.js';

const item = (i: number): Record<string, unknown> => ({ pk: `P#${i}`, i, ...(i >= 1000 ? { late: true } : {}) });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => item(from + k));

/** A stand-in for the items route: `stored` items of execution 2 of step `s` in run `r/1`. */
function route(stored: { count: number; n?: number }) {
  const calls: string[] = [];
  const fetch = vi.fn(async (input: string | URL) => {
    const url = new URL(String(input), 'http://localhost');
    calls.push(`${url.pathname}${url.search}`);
    if (!url.pathname.endsWith('/items')) return new Response('', { status: 404 });
    const offset = Number(url.searchParams.get('offset'));
    const limit = Number(url.searchParams.get('limit'));
    const body = { n: stored.n ?? Number(url.searchParams.get('n')), offset, total: stored.count, items: range(offset, Math.min(stored.count, offset + limit)) };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fetch);
  return { calls, fetch };
}

const source = (first: number, total: number, chunkSize?: number) => new ItemSource({ run: 'r/1', step: 's', n: 2, first: range(0, first), total, chunkSize });

beforeEach(() => vi.unstubAllGlobals());
afterEach(() => vi.unstubAllGlobals());

describe('ItemSource', () => {
  it('never calls the route when the execution brought all its items', async () => {
    const { fetch } = route({ count: 50 });
    const all = source(50, 50);
    expect(all.total).toBe(50);
    expect(all.missing(0, 50)).toBe(false);
    await all.ensure(0, 50);
    expect(all.get(49)).toEqual(item(49));
    expect(all.get(50)).toBeUndefined();
    expect(await all.all()).toEqual(range(0, 50));
    // A later page of such an execution: all its items again, more of them.
    all.update(range(0, 80), 80);
    expect(all.missing(0, 80)).toBe(false);
    expect(all.get(79)).toEqual(item(79));
    expect(fetch).not.toHaveBeenCalled();
  });

  it('fetches the chunk a range needs, once, and keeps it', async () => {
    const { calls } = route({ count: 1234 });
    const s = source(100, 1234);
    expect(s.get(99)).toEqual(item(99));
    expect(s.get(100)).toBeUndefined();
    expect(s.missing(0, 100)).toBe(false);
    expect(s.missing(90, 120)).toBe(true);
    // Two views asking at once share one request.
    await Promise.all([s.ensure(90, 120), s.ensure(110, 130)]);
    expect(calls).toEqual(['/api/runs/r%2F1/steps/s/items?n=2&offset=0&limit=500']);
    expect(s.get(120)).toEqual(item(120));
    await s.ensure(0, 500);
    expect(calls).toHaveLength(1);
    await s.ensure(480, 520);
    expect(calls.at(-1)).toBe('/api/runs/r%2F1/steps/s/items?n=2&offset=500&limit=500');
    expect(s.get(999)).toEqual(item(999));
    expect(s.get(1000)).toBeUndefined();
  });

  it('fetches every missing item for all(), in order, without refetching what it has', async () => {
    const { calls } = route({ count: 1234 });
    const s = source(100, 1234, 300);
    await s.ensure(300, 310);
    expect(calls).toHaveLength(1);
    const all = await s.all();
    expect(all).toEqual(range(0, 1234));
    expect(calls.map((c) => new URL(c, 'http://x').searchParams.get('offset')).sort((a, b) => Number(a) - Number(b))).toEqual(['0', '300', '600', '900', '1200']);
    // Attribute names of every fetched item, for the table's columns.
    expect([...s.names].sort()).toEqual(['i', 'late', 'pk']);
  });

  it('keeps its chunks when the execution grows, refetching only the one that was short', async () => {
    const stored = { count: 700 };
    const { calls } = route(stored);
    const s = source(100, 700);
    await s.ensure(0, 700);
    expect(calls).toHaveLength(2);
    stored.count = 1200;
    s.update(range(0, 100), 1200);
    expect(s.total).toBe(1200);
    expect(s.missing(0, 500)).toBe(false);
    expect(s.missing(650, 720)).toBe(true);
    await s.ensure(650, 720);
    expect(calls.at(-1)).toContain('offset=500');
    expect(s.get(719)).toEqual(item(719));
    expect(calls).toHaveLength(3);
  });

  it('rejects with the API error and tries again on the next call', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ error: { code: 'RB_ERR_NOT_FOUND', message: 'no such execution' } }), { status: 404 })),
    );
    const s = source(100, 600);
    await expect(s.ensure(100, 200)).rejects.toBeInstanceOf(ApiError);
    await expect(s.all()).rejects.toMatchObject({ code: 'RB_ERR_NOT_FOUND' });
    const { calls } = route({ count: 600 });
    await s.ensure(100, 200);
    expect(calls).toHaveLength(1);
    expect(s.get(150)).toEqual(item(150));
  });

  it('refuses items of another execution', async () => {
    route({ count: 600, n: 3 });
    const s = source(100, 600);
    await expect(s.ensure(100, 200)).rejects.toThrow(/execution 3/);
    expect(s.get(150)).toBeUndefined();
  });

  it('says so when the server has fewer items than the execution claims', async () => {
    route({ count: 550 });
    const s = source(100, 600);
    await expect(s.all()).rejects.toThrow('Item 551 of 600 could not be fetched.');
  });
});
