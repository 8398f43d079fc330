/**
 * A data folder from before runs were journalled (`runs/<id>.json`, rewritten whole at every change)
 * keeps its history: the engine converts each run once to a header and a journal, its items to the
 * item store, and moves the old file aside; a run left active there is ended as interrupted.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testEngine } from '../helpers/engine.js';
import type { Run } from '../../server/runs/types.js';
import { roleArn } from '../helpers/sandbox.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const execution = (n: number, items: Record<string, unknown>[]) => ({
  n,
  step: 'orders',
  user: 'alice',
  status: 'succeeded' as const,
  startedAt: `2026-11-01T10:0${n}:00.000Z`,
  durationMs: 12,
  request: { operation: 'Query' as const, input: { TableName: 'Orders' } },
  items,
  count: items.length,
  hasMore: false,
  pages: 1,
  confirmed: false,
});

describe('runs of the earlier layout', () => {
  it('are converted to journals, with their items, and the old files moved aside', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rb-legacy-'));
    dirs.push(dataDir);
    await mkdir(join(dataDir, 'runs'));
    const ended: Run = {
      id: 'aaaa000001',
      runbook: 'orders/recent-orders',
      title: 'Recent orders',
      user: 'alice',
      status: 'completed',
      params: { customerId: 'C1001' },
      roleArn: roleArn('runbook-tester'),
      startedAt: '2026-11-01T10:00:00.000Z',
      lastActivityAt: '2026-11-01T10:05:00.000Z',
      endedAt: '2026-11-01T10:05:00.000Z',
      endReason: 'complete',
      executions: [
        execution(1, [{ pk: 'a' }]),
        execution(
          2,
          Array.from({ length: 150 }, (_, i) => ({ pk: `p${i}` })),
        ),
      ],
      approvals: {},
      revocation: { at: '2026-11-01T10:05:00.000Z', sessions: 2, iam: 'off' },
      auditHash: 'f'.repeat(64),
    };
    const active: Run = { ...ended, id: 'aaaa000002', status: 'active', executions: [], endedAt: undefined, endReason: undefined, revocation: undefined };
    await writeFile(join(dataDir, 'runs', `${ended.id}.json`), JSON.stringify(ended));
    await writeFile(join(dataDir, 'runs', `${active.id}.json`), JSON.stringify(active));

    const engine = await testEngine({ dataDir });
    try {
      const run = engine.getRun(ended.id)!;
      expect(run).toMatchObject({ status: 'completed', endReason: 'complete', auditHash: 'f'.repeat(64), params: { customerId: 'C1001' } });
      expect(run.executions.map((e) => [e.n, e.itemCount, e.items.length])).toEqual([
        [1, 1, 0],
        [2, 150, 100],
      ]);
      const page = await engine.items(ended.id, 'orders', { offset: 140, limit: 100 });
      expect(page).toMatchObject({ n: 2, total: 150 });
      expect(page.items.map((i) => i.pk)).toEqual(Array.from({ length: 10 }, (_, i) => `p${140 + i}`));
      expect(engine.getRun(active.id)).toMatchObject({ status: 'interrupted', endReason: 'interrupted' });
      // Hidden: the owner file this process's journal locks link to while the store is open (audit-lock.ts).
      const names = (await readdir(join(dataDir, 'runs'))).filter((n) => !n.startsWith('.lock-owner-'));
      expect(names.sort()).toEqual([ended.id, `${ended.id}.json.migrated`, active.id, `${active.id}.json.migrated`].sort());
    } finally {
      await engine.close();
    }
    // Opened again, nothing is converted twice.
    const again = await testEngine({ dataDir });
    expect(again.getRun(ended.id)?.executions).toHaveLength(2);
    await again.close();
  });
});
