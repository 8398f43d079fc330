/**
 * The recorder writes an execution's items alongside its audit record: the two overlap, and the
 * journal record that counts the items comes only once both are on disk; items that could not be
 * written leave a journal record that counts none.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditLog } from '../../server/runs/audit.js';
import { Recorder } from '../../server/runs/recorder.js';
import { initialState } from '../../server/runs/run-state.js';
import type { JournalEntry, JournalRecord, RunHeader, RunStore } from '../../server/runs/store.js';
import type { StoredExecution } from '../../server/runs/store.js';

const header: RunHeader = {
  id: 'r1',
  runbook: 'bench',
  title: 'Bench',
  user: 'alice',
  params: {},
  roleArn: 'arn:aws:iam::000000000000:role/runner',
  startedAt: '2026-01-01T00:00:00.000Z',
  source: { text: '', sha256: '' },
};

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** An audit log and a store that note what happened in order; the audit append waits for `auditGate`. */
function fakes(auditGate: Promise<void>) {
  const log: string[] = [];
  const journal: JournalRecord[] = [];
  const audit = {
    async append(entry: AuditEntry) {
      log.push(`audit started: ${entry.type}`);
      await auditGate;
      log.push('audit on disk');
      return { hash: 'h1' };
    },
  } as unknown as AuditLog;
  const store = {
    async append(_id: string, record: JournalRecord) {
      log.push('journal');
      journal.push(record);
    },
  } as unknown as RunStore;
  return { log, journal, recorder: new Recorder(audit, store, () => new Date('2026-01-01T00:00:01.000Z')) };
}

const execution = (itemCount: number) =>
  ({
    n: 1,
    step: 'orders',
    user: 'alice',
    status: 'succeeded',
    startedAt: '2026-01-01T00:00:00.500Z',
    request: { operation: 'Query', input: {} },
    itemCount,
    count: 3,
    hasMore: false,
    pages: 1,
    confirmed: false,
  }) as unknown as StoredExecution;
const entry = (itemCount: number): JournalEntry => ({ type: 'execution', execution: execution(itemCount) });

describe('the recorder, with items written alongside', () => {
  for (const last of ['items', 'audit'] as const) {
    it(`writes the journal record once both are on disk (the ${last} last)`, async () => {
      const auditGate = deferred();
      const items = deferred<unknown>();
      const { log, journal, recorder } = fakes(auditGate.promise);
      const state = initialState(header);
      const committed = recorder.commit(state, [], {
        entry: entry(3),
        audit: [{ type: 'step.executed', runId: 'r1', user: 'alice' }],
        firstItems: [{ id: 1 }, { id: 2 }, { id: 3 }],
        alongside: {
          failed: items.promise.then(() => {
            log.push('items on disk');
            return undefined;
          }),
          without: entry(0),
        },
      });
      await new Promise((r) => setTimeout(r, 10));
      // The audit append runs while the items are still being written.
      expect(log).toEqual(['audit started: step.executed']);
      if (last === 'items') {
        auditGate.resolve();
        await new Promise((r) => setTimeout(r, 10));
        expect(log).not.toContain('journal');
        items.resolve(undefined);
      } else {
        items.resolve(undefined);
        await new Promise((r) => setTimeout(r, 10));
        expect(log).not.toContain('journal');
        auditGate.resolve();
      }
      await committed;
      expect(log.at(-1)).toBe('journal');
      expect(journal).toHaveLength(1);
      expect(journal[0]).toMatchObject({ seq: 1, auditHash: 'h1', execution: { itemCount: 3 } });
      expect(state.run.executions[0].items).toHaveLength(3);
    });
  }

  it('records the execution without its items when they could not be written', async () => {
    const { journal, recorder } = fakes(Promise.resolve());
    const state = initialState(header);
    await recorder.commit(state, [], {
      entry: entry(3),
      audit: [{ type: 'step.executed', runId: 'r1', user: 'alice' }],
      firstItems: [{ id: 1 }],
      alongside: { failed: Promise.resolve(new Error('ENOSPC')), without: entry(0) },
    });
    expect(journal[0]).toMatchObject({ seq: 1, execution: { itemCount: 0 } });
    expect(state.run.executions[0]).toMatchObject({ itemCount: 0, items: [] });
  });
});
