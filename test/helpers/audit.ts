/** The audit chain the verification tests tamper with, in a file or in DynamoDB, and their rechaining. */
import { GENESIS_HASH, hashRecord, type AuditRecord, type AuditSink } from '../../server/runs/audit.js';

/**
 * Appends three runs to `log` — r1 with two steps, r2 and r3 with one — each started, executed and
 * completed by alice; `completed` gets each run's last record.
 */
export async function appendThreeRuns(log: AuditSink, completed?: (runId: string, last: AuditRecord) => Promise<void>): Promise<void> {
  const runs: Array<[string, number]> = [
    ['r1', 2],
    ['r2', 1],
    ['r3', 1],
  ];
  for (const [runId, steps] of runs) {
    await log.append({ type: 'run.started', runId, user: 'alice', data: { runbook: 'shop/customer' } });
    for (let n = 1; n <= steps; n++) await log.append({ type: 'step.executed', runId, user: 'alice', data: { step: 'read', n } });
    const last = await log.append({ type: 'run.completed', runId, user: 'alice', data: { status: 'completed' } });
    await completed?.(runId, last);
  }
}

/** The record types of the three runs' chain: each run.completed followed by its digest. */
export const THREE_RUNS_TYPES = [
  'run.started',
  'step.executed',
  'step.executed',
  'run.completed',
  'audit.digest',
  'run.started',
  'step.executed',
  'run.completed',
  'audit.digest',
  'run.started',
  'step.executed',
  'run.completed',
  'audit.digest',
];

/** Recomputes the chain from index `from` on, as someone without the key would after a change. */
export function rechain(recs: AuditRecord[], from: number): AuditRecord[] {
  for (let i = from; i < recs.length; i++) {
    const { hash: _old, ...body } = { ...recs[i], prev: i === 0 ? GENESIS_HASH : recs[i - 1].hash };
    recs[i] = { ...body, hash: hashRecord(body) };
  }
  return recs;
}
