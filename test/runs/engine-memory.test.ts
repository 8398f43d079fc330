/**
 * What an engine keeps in memory over a long life: ended runs beyond the last fifty are let go of
 * (their list form stays; the whole run is read back from the store when asked for), and a sync
 * running while runs start never takes a run this process is starting for another process's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunbook } from '../../server/runbook/parse.js';
import type { RunEngine } from '../../server/runs/engine.js';
import { testEngine } from '../helpers/engine.js';

const TEXT = `---
title: Memory
params:
  n: { type: integer }
---
# Count
\`\`\`dynamodb {"name":"describe"}
operation: DescribeTable
TableName: Customers
\`\`\`
`;
const { runbook } = parseRunbook(TEXT, 'memory.md', { id: 'memory' });

describe('an engine over many runs', () => {
  let dataDir: string;
  let engine: RunEngine;
  let now = Date.parse('2026-12-07T10:00:00Z');

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rb-memory-'));
    engine = await testEngine({ dataDir, clock: () => new Date(now) });
  });
  afterAll(async () => {
    await engine?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = (n: number) => engine.startRun({ runbook: runbook!, source: TEXT, runbookId: 'memory', params: { n }, user: 'alice' });

  it("never takes a run it is starting for another process's, however often it syncs meanwhile", async () => {
    let syncing = true;
    const syncs = (async () => {
      while (syncing) await engine.sync();
    })();
    const runs = await Promise.all(Array.from({ length: 30 }, (_, i) => start(i)));
    syncing = false;
    await syncs;
    for (const run of runs) {
      expect(engine.getRun(run.id)?.elsewhere).toBeUndefined();
      expect((await engine.executeStep(run.id, 'describe', { user: 'alice' })).status).toBe('succeeded');
      await engine.complete(run.id, { user: 'alice' });
    }
  });

  it('keeps the last fifty ended runs whole and the rest in list form, read back when asked for', async () => {
    const first = await start(1000);
    await engine.executeStep(first.id, 'describe', { user: 'alice' });
    await engine.complete(first.id, { user: 'alice' });
    for (let i = 0; i < 110; i++) {
      const run = await start(i);
      await engine.complete(run.id, { user: 'alice' });
    }
    // A minute on, the next end lets go of the oldest.
    now += 120_000;
    const last = await start(2000);
    await engine.complete(last.id, { user: 'alice' });

    expect(engine.getRun(first.id)).toBeUndefined();
    expect(engine.getRun(last.id)?.status).toBe('completed');
    const listed = engine.listRuns();
    expect(listed).toHaveLength(30 + 1 + 110 + 1);
    expect(listed.find((r) => r.id === first.id)).toMatchObject({ status: 'completed', executions: [{ step: 'describe', status: 'succeeded' }] });

    const back = await engine.current(first.id);
    expect(back).toMatchObject({ id: first.id, status: 'completed', params: { n: 1000 } });
    expect(back!.executions[0].items.length).toBeGreaterThan(0);
    expect(engine.getRun(first.id)?.id).toBe(first.id);
    // An ended run let go of still refuses to run anything, as an ended run does.
    await expect(engine.complete(first.id, { user: 'alice' })).rejects.toMatchObject({ code: 'RB_ERR_RUN_NOT_ACTIVE' });
  });

  it('lists the newest ended runs from memory and pages back to older ones from the store', async () => {
    const small = await testEngine({ dataDir: await mkdtemp(join(tmpdir(), 'rb-memory-list-')), clock: () => new Date(now), kept: { whole: 2, listed: 3 } });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        now += 1000;
        const run = await small.startRun({ runbook: runbook!, source: TEXT, runbookId: 'memory', params: { n: i }, user: 'alice' });
        await small.complete(run.id, { user: 'alice' });
        ids.push(run.id);
      }
      now += 60_000;
      const active = await small.startRun({ runbook: runbook!, source: TEXT, runbookId: 'memory', params: { n: 99 }, user: 'bob' });
      await small.complete((await small.startRun({ runbook: runbook!, source: TEXT, runbookId: 'memory', params: { n: 100 }, user: 'bob' })).id, { user: 'bob' });
      // Active runs, and the newest ended ones in list form: the rest counted, not held.
      const listed = small.listRuns();
      expect(listed[0].id).toBe(active.id);
      expect(listed.slice(1).map((r) => r.params.n)).toEqual([100, 7, 6, 5, 4].slice(0, listed.length - 1));
      expect(small.unlistedRuns + listed.length).toBe(10);
      expect(small.unlistedRuns).toBeGreaterThan(0);
      // Paging back reads them from the store, newest first, until none is left.
      const seen: number[] = [];
      for (let before = listed.at(-1)!.startedAt; ;) {
        const page = await small.olderRuns(before, 2);
        if (page.length === 0) break;
        expect(page.every((r) => r.status === 'completed')).toBe(true);
        seen.push(...page.map((r) => r.params.n as number));
        before = page.at(-1)!.startedAt;
      }
      expect([...listed.slice(1).map((r) => r.params.n), ...seen]).toEqual([100, 7, 6, 5, 4, 3, 2, 1, 0]);
      expect(seen.length).toBe(small.unlistedRuns);
      // And any of them is still there when asked for by id.
      expect((await small.current(ids[0]))?.params).toEqual({ n: 0 });
    } finally {
      await small.close();
    }
  });
});
