/**
 * A run's state is its header folded with its journal (./store.ts): this module is that fold, pure
 * and the same for every store, so that what the notebook, the transcripts and the audit say is
 * always derived from the records alone. Items are not part of it: the engine hands each step's
 * last execution its first page (./store.ts `firstPage`).
 */
import type { Cursor } from '../dynamo/execute.js';
import type { JournalRecord, RunHeader } from './store.js';
import type { Run, StepExecution } from './types.js';

export interface RunState {
  run: Run;
  /** the last journal record applied */
  seq: number;
  /** step → continuation of its last execution, for the next page */
  cursors: Map<string, Cursor>;
  /** `<step>#<n>` → the items of an execution its record holds (store.ts, INLINE_ITEMS): the store has no others */
  inline: Map<string, Record<string, unknown>[]>;
}

export const inlineKey = (step: string, n: number): string => `${step}#${n}`;

export function initialState(header: RunHeader): RunState {
  return {
    run: {
      id: header.id,
      runbook: header.runbook,
      title: header.title,
      user: header.user,
      status: 'active',
      params: header.params,
      roleArn: header.roleArn,
      startedAt: header.startedAt,
      lastActivityAt: header.startedAt,
      executions: [],
      approvals: {},
      runbookSha256: header.source.sha256,
      ...(header.redact && header.redact.length > 0 ? { redact: header.redact } : {}),
    },
    seq: 0,
    cursors: new Map(),
    inline: new Map(),
  };
}

/** The last execution of a step, if any. */
export function lastExecution(run: Run, step: string): StepExecution | undefined {
  for (let i = run.executions.length - 1; i >= 0; i--) if (run.executions[i].step === step) return run.executions[i];
  return undefined;
}

/**
 * Applies one record. `firstItems` are the first page of an execution record's items (the step's
 * earlier executions drop theirs: only each step's last execution carries a first page).
 */
export function applyRecord(state: RunState, record: JournalRecord, firstItems: Record<string, unknown>[] = []): void {
  const { run } = state;
  if (record.seq !== state.seq + 1) throw new Error(`run ${run.id}: record ${record.seq} applied after ${state.seq}`);
  state.seq = record.seq;
  run.lastActivityAt = record.at;
  if (record.auditHash) run.auditHash = record.auditHash;
  switch (record.type) {
    case 'session.noted':
      run.roleId = record.roleId;
      run.sessionsUntil = record.sessionsUntil;
      run.sessionsIssuedUntil = record.sessionsIssuedUntil;
      break;
    case 'execution': {
      const previous = lastExecution(run, record.execution.step);
      if (previous) previous.items = [];
      const { revertOf, step, status } = record.execution;
      if (revertOf !== undefined && status === 'succeeded') {
        const reverted = run.executions.find((e) => e.step === step && e.n === revertOf);
        if (reverted) reverted.revertedBy = record.execution.n;
      }
      run.executions.push({ ...record.execution, items: record.items ?? firstItems });
      if (record.items) state.inline.set(inlineKey(record.execution.step, record.execution.n), record.items);
      if (record.cursor) state.cursors.set(record.execution.step, record.cursor);
      else state.cursors.delete(record.execution.step);
      break;
    }
    case 'page': {
      const execution = lastExecution(run, record.step);
      if (!execution || execution.n !== record.n) break;
      execution.itemCount = record.itemCount;
      execution.count = record.count;
      if (record.scannedCount !== undefined) execution.scannedCount = record.scannedCount;
      if (record.consumedCapacity !== undefined) execution.consumedCapacity = record.consumedCapacity;
      execution.hasMore = record.hasMore;
      execution.pages = record.pages;
      execution.durationMs = record.durationMs;
      if (record.error) execution.error = record.error;
      if (execution.items.length < (execution.itemCount ?? 0)) execution.items.push(...firstItems);
      if (record.cursor) state.cursors.set(record.step, record.cursor);
      else state.cursors.delete(record.step);
      break;
    }
    case 'approval': {
      const current = run.approvals[record.approval.step];
      if (record.past && current) (run.pastApprovals ??= []).push(current);
      run.approvals[record.approval.step] = record.approval;
      break;
    }
    case 'run.ended': {
      run.status = record.status;
      run.endReason = record.reason;
      run.endedAt = record.endedAt;
      run.revocation = record.revocation;
      const revoked = new Set(record.revokedSessions);
      for (const e of run.executions) if (e.session && revoked.has(e.session.assumedRoleId)) e.session.revoked = true;
      state.cursors.clear();
      break;
    }
  }
}
