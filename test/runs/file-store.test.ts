/**
 * The embedded run store on real files: a header is created once, appends are conditional on the
 * next sequence number (a second writer's append at a taken number is refused, nothing forks), a
 * torn journal tail is moved aside and never appended onto, and items come back in order across
 * chunk files, a page written twice replacing rather than duplicating.
 */
import { appendFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRbError } from '../../server/errors.js';
import { ITEMS_PER_CHUNK, openFileStore } from '../../server/runs/file-store.js';
import type { JournalRecord, RunHeader, RunStore } from '../../server/runs/store.js';

const header = (id: string): RunHeader => ({
  id,
  runbook: 'r',
  title: 'R',
  user: 'alice',
  params: {},
  roleArn: 'arn:aws:iam::000000000000:role/x',
  startedAt: '2026-11-30T08:00:00.000Z',
  source: { text: '# R\n', sha256: 'abc' },
});
const noted = (seq: number): JournalRecord => ({ seq, at: '2026-11-30T08:00:00.000Z', type: 'session.noted', roleId: 'AROA1', sessionsUntil: 'x', sessionsIssuedUntil: 'y' });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isRbError(err)) return err.code;
    throw err;
  }
}

describe('the file run store', () => {
  let dataDir: string;
  let a: RunStore;
  let b: RunStore;
  const repaired: Array<{ runId: string; bytes: number }> = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rb-store-'));
    a = await openFileStore(dataDir, { onRepaired: (runId, info) => repaired.push({ runId, bytes: info.bytes }) });
    // A second store on the same folder stands for another process.
    b = await openFileStore(dataDir);
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates a run once', async () => {
    expect(await code(a.create(header('r1')))).toBe('ok');
    expect(await code(b.create(header('r1')))).toBe('RB_ERR_STORE_CONFLICT');
    expect(await a.list()).toEqual(['r1']);
    expect((await readdir(join(dataDir, 'runs', 'r1'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('appends only at the next sequence number, whichever writer got there first', async () => {
    await a.append('r1', noted(1));
    await b.append('r1', noted(2));
    // a last wrote record 1: its append of 2 is refused, since b took it.
    expect(await code(a.append('r1', noted(2)))).toBe('RB_ERR_STORE_CONFLICT');
    await a.append('r1', noted(3));
    expect((await b.read('r1'))!.records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await a.read('r1', 3))!.records.map((r) => r.seq)).toEqual([3]);
  });

  it('moves a torn tail aside and never appends onto it', async () => {
    const journal = join(dataDir, 'runs', 'r1', 'journal.jsonl');
    await appendFile(journal, '{"seq":4,"at":"2026-11-30T08:00:00.000Z","type":"sess');
    expect((await a.read('r1'))!.records.map((r) => r.seq)).toEqual([1, 2, 3]);
    await a.append('r1', noted(4));
    expect(await code(b.append('r1', noted(4)))).toBe('RB_ERR_STORE_CONFLICT');
    expect(repaired).toEqual([{ runId: 'r1', bytes: 53 }]);
    const lines = (await readFile(journal, 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => (JSON.parse(l) as JournalRecord).seq)).toEqual([1, 2, 3, 4]);
    const aside = (await readdir(join(dataDir, 'runs', 'r1'))).filter((f) => f.startsWith('journal.torn-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(dataDir, 'runs', 'r1', aside[0]), 'utf8')).toBe('{"seq":4,"at":"2026-11-30T08:00:00.000Z","type":"sess');
  });

  it('keeps items in order across chunk files; a page written again replaces itself', async () => {
    const item = (i: number) => ({ id: `i${i}`, n: i });
    const first = Array.from({ length: 700 }, (_, i) => item(i));
    await a.putItems('r1', 'scan', 1, 0, first);
    const second = Array.from({ length: 300 }, (_, i) => item(700 + i));
    await a.putItems('r1', 'scan', 1, 700, second);
    await a.putItems('r1', 'scan', 1, 700, second); // a retry of the same page
    const chunks = await readdir(join(dataDir, 'runs', 'r1', 'items', 'scan.1'));
    expect(chunks.sort()).toEqual(['0.jsonl', '1.jsonl']);
    expect((await a.readItems('r1', 'scan', 1, 0, 1000)).map((x) => x.n)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect((await a.readItems('r1', 'scan', 1, ITEMS_PER_CHUNK - 2, 4)).map((x) => x.n)).toEqual([498, 499, 500, 501]);
    const all: unknown[] = [];
    for await (const x of a.items('r1', 'scan', 1)) all.push(x);
    expect(all).toHaveLength(1000);
    // A first page starts the execution's items afresh.
    await a.putItems('r1', 'scan', 1, 0, [item(0)]);
    expect(await a.readItems('r1', 'scan', 1, 0, 10)).toEqual([item(0)]);
  });

  it('refuses ids that are not run ids', async () => {
    expect(await code(a.append('../x', noted(1)))).toBe('RB_ERR_RUN_NOT_FOUND');
    expect(await code(a.putItems('r1', '../../x', 1, 0, [{ a: 1 }]))).toBe('RB_ERR_STEP_NOT_FOUND');
  });
});
