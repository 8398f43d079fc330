/** Runs, records and outcomes for the run store tests. */
import { isRbError } from '../../server/errors.js';
import type { JournalRecord, RunHeader } from '../../server/runs/store.js';

export const header = (id: string, extra: Partial<RunHeader> = {}): RunHeader => ({
  id,
  runbook: 'r',
  title: 'R',
  user: 'alice',
  params: {},
  roleArn: 'arn:aws:iam::000000000000:role/x',
  startedAt: '2026-11-30T08:00:00.000Z',
  source: { text: '# R\n', sha256: 'abc' },
  ...extra,
});

export const noted = (seq: number): JournalRecord => ({ seq, at: '2026-11-30T08:00:00.000Z', type: 'session.noted', roleId: 'AROA1', sessionsUntil: 'x', sessionsIssuedUntil: 'y' });

/** 'ok', or the RB_ERR_* code the promise rejects with. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isRbError(err)) return err.code;
    throw err;
  }
}
