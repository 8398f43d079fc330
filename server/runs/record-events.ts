/**
 * The events a run's records announce (docs/api.md, "Events"), for viewers of a replica that did not
 * make the change itself: it learns of it from the store and announces it as the replica that made
 * it did. Only what is recorded can be announced so: `step.started` and `session.issued` happen
 * before anything is recorded, and reach the viewers of the replica doing the work alone.
 */
import { lastExecution } from './run-state.js';
import type { JournalRecord } from './store.js';
import type { Run, RunEvent } from './types.js';

/** The events of `record`, once applied to `run`. */
export function eventsOf(run: Run, record: JournalRecord): RunEvent[] {
  switch (record.type) {
    case 'execution':
    case 'page': {
      const [step, n] = record.type === 'execution' ? [record.execution.step, record.execution.n] : [record.step, record.n];
      const execution = run.executions.find((e) => e.step === step && e.n === n) ?? lastExecution(run, step);
      if (!execution) return [];
      return [{ type: execution.status === 'failed' ? 'step.failed' : 'step.succeeded', runId: run.id, step, execution }];
    }
    case 'approval': {
      const { approval } = record;
      const type = approval.status === 'pending' ? 'approval.requested' : approval.status === 'approved' || approval.status === 'denied' ? 'approval.decided' : 'approval.updated';
      return [{ type, runId: run.id, step: approval.step, approval }];
    }
    case 'run.ended':
      return [
        { type: 'session.revoked', runId: run.id, sessions: run.executions.flatMap((e) => (e.session ? [e.session] : [])), revocation: record.revocation },
        { type: 'run.completed', run },
      ];
    default:
      return [];
  }
}
