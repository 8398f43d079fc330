/**
 * What only the embedded file store has (its contract, shared with the DynamoDB store, is in
 * store-contract.test.ts): no temporary file left by a create, a torn journal tail moved aside and
 * never appended onto, and chunk files of ITEMS_PER_CHUNK items.
 */
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITEMS_PER_CHUNK, openFileStore } from '../../server/runs/file-store.js';
import type { JournalRecord, RunStore } from '../../server/runs/store.js';
import { code, header, noted } from '../helpers/store.js';

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
    await a.create(header('r1'));
    await a.append('r1', noted(1));
    await b.append('r1', noted(2));
    await a.append('r1', noted(3));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves no temporary file behind a create', async () => {
    expect(await code(b.create(header('r1')))).toBe('RB_ERR_STORE_CONFLICT');
    expect((await readdir(join(dataDir, 'runs', 'r1'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
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

  it('keeps items in chunk files of ITEMS_PER_CHUNK items', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ n: i }));
    await a.putItems('r1', 'scan', 1, 0, items.slice(0, 700));
    await a.putItems('r1', 'scan', 1, 700, items.slice(700));
    expect(ITEMS_PER_CHUNK).toBe(500);
    expect((await readdir(join(dataDir, 'runs', 'r1', 'items'))).sort()).toEqual(['scan.1.0.jsonl', 'scan.1.1.jsonl']);
  });

  it('starts a first page afresh, and reads the items of earlier versions from their folder', async () => {
    await a.create(header('r2'));
    await a.putItems(
      'r2',
      'scan',
      1,
      0,
      Array.from({ length: 600 }, (_, i) => ({ n: i })),
    );
    // An attempt whose record never made it left 600 items; the execution's first page replaces them all.
    await a.putItems('r2', 'scan', 1, 0, [{ n: 'again' }]);
    expect(await a.readItems('r2', 'scan', 1, 0, 1000)).toEqual([{ n: 'again' }]);
    expect((await readdir(join(dataDir, 'runs', 'r2', 'items'))).sort()).toEqual(['scan.1.0.jsonl']);
    // A folder an execution, as runs recorded before kept them.
    const folder = join(dataDir, 'runs', 'r2', 'items', 'scan.2');
    await mkdir(folder);
    await writeFile(join(folder, '0.jsonl'), Array.from({ length: 500 }, (_, i) => JSON.stringify({ n: i })).join('\n') + '\n');
    await writeFile(join(folder, '1.jsonl'), '{"n":500}\n');
    const old = await a.readItems('r2', 'scan', 2, 498, 10);
    expect(old).toEqual([{ n: 498 }, { n: 499 }, { n: 500 }]);
  });
});
