/**
 * An execution's items are written while its audit record is: both are on disk before the journal
 * record that counts them, and items that cannot be written leave an execution recorded without
 * them (the audit record stands), answered with RB_ERR_STORE_WRITE.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RbError } from '../../server/errors.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import { auditLogPath, type AuditRecord } from '../../server/runs/audit.js';
import type { RunEngine } from '../../server/runs/engine.js';
import type { RunStore } from '../../server/runs/store.js';
import { testEngine } from '../helpers/engine.js';
import { CUSTOMER_READS } from '../helpers/runbooks.js';

describe('items written alongside the audit record', () => {
  let dataDir: string;
  let engine: RunEngine;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rb-alongside-'));
    engine = await testEngine({ dataDir });
  });
  afterAll(async () => {
    await engine.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the items of a read, and records one whose items could not be written without them', async () => {
    const { runbook } = parseRunbook(CUSTOMER_READS, 'reads.md');
    const run = await engine.startRun({ runbook: runbook!, source: CUSTOMER_READS, runbookId: 'reads', params: { customerId: 'C1001' }, user: 'alice' });
    for (const step of ['customer', 'orders']) {
      const ok = await engine.executeStep(run.id, step, { user: 'alice' });
      expect(ok.itemCount).toBeGreaterThan(0);
      expect((await engine.items(run.id, step, { offset: 0, limit: 10 })).items).toHaveLength(ok.itemCount!);
    }

    // The store private to the engine, made to fail its item writes (as a full disk would).
    const store = (engine as unknown as { store: RunStore }).store;
    const putItems = store.putItems;
    store.putItems = async () => {
      throw new RbError('RB_ERR_STORE_WRITE', 'The run store is not writable: storing the items failed (ENOSPC).');
    };
    try {
      for (const step of ['customer', 'orders']) {
        const err = await engine.executeStep(run.id, step, { user: 'alice' }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'RB_ERR_STORE_WRITE' });
      }
    } finally {
      store.putItems = putItems;
    }
    const executions = engine.getRun(run.id)!.executions;
    expect(executions.map((e) => `${e.step}#${e.n}:${e.status}:${e.itemCount}`)).toEqual([
      'customer#1:succeeded:1',
      'orders#1:succeeded:3',
      'customer#2:succeeded:0',
      'orders#2:succeeded:0',
    ]);
    expect(executions.slice(2).every((e) => e.items.length === 0)).toBe(true);
    const audited = (await readFile(auditLogPath(dataDir), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord)
      .filter((r) => r.type === 'step.executed' && r.runId === run.id);
    expect(audited).toHaveLength(4);
    // The run goes on.
    expect((await engine.executeStep(run.id, 'orders', { user: 'alice' })).itemCount).toBe(3);
  });
});
