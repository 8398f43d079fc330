/**
 * Recording a change of a run (docs/security.md, "Audit model"): first its audit record (durable
 * before anything is reported as done), then its journal record, then the run's state in memory —
 * so the state never runs ahead of the disk.
 *
 * An execution's items may still be on their way to disk when its change is committed: they are
 * written alongside its audit record (`alongside`), so that the two fsyncs overlap instead of one
 * waiting for the other, and both are on disk before the journal record that counts the items.
 *
 * A change whose audit record is written but whose journal record is not, and a write DynamoDB
 * performed whose records cannot be written at all, are kept as the run's backlog: the run is held
 * (RB_ERR_RUN_HELD) until the next request manages to write them, in order. Nothing is lost and
 * nothing is recorded twice.
 */
import { RbError, isRbError } from '../errors.js';
import type { AuditEntry, AuditSink } from './audit.js';
import { applyRecord, type RunState } from './run-state.js';
import type { JournalEntry, JournalRecord, RunStore } from './store.js';

export interface Change {
  entry: JournalEntry;
  /** its audit records, in order (none for bookkeeping such as noting a session's expiry) */
  audit?: AuditEntry[];
  /** the first page of an execution's items, for the in-memory state */
  firstItems?: Record<string, unknown>[];
  /** DynamoDB performed it: when it cannot be recorded, hold the run instead of failing */
  performed?: boolean;
  /**
   * Items `entry` counts that are being written meanwhile: `failed` settles once they are on disk,
   * with their write's error if it failed (never rejecting), and then `without` — the same record
   * counting none of them — is written instead, since the audit record may be written already.
   */
  alongside?: { failed: Promise<unknown>; without: JournalEntry };
}

interface Pending extends Change {
  at: string;
  /** audit records already written, and the hash of the last */
  audited: number;
  auditHash?: string;
}

export class Recorder {
  constructor(
    private readonly audit: AuditSink,
    private readonly store: RunStore,
    private readonly clock: () => Date,
  ) {}

  /** Writes the backlog, if any, then `change`. Throws RB_ERR_RUN_HELD when a backlog remains. */
  async commit(state: RunState, backlog: Change[], change: Change): Promise<JournalRecord | undefined> {
    const pending: Pending = { ...change, at: this.clock().toISOString(), audited: 0 };
    if (backlog.length > 0) {
      // A performed write joins the queue, so that it is recorded in its turn whatever happens.
      if (change.performed) backlog.push(pending);
      await this.flush(state, backlog);
      if (change.performed) return undefined;
    }
    try {
      return await this.write(state, pending);
    } catch (err) {
      if (pending.audited === 0 && !change.performed) throw err;
      backlog.push(pending);
      throw held(state.run.id, err);
    }
  }

  /** Writes what the run still owes its records; RB_ERR_RUN_HELD if that still fails. */
  async flush(state: RunState, backlog: Change[]): Promise<void> {
    while (backlog.length > 0) {
      try {
        await this.write(state, backlog[0] as Pending);
      } catch (err) {
        throw held(state.run.id, err);
      }
      backlog.shift();
    }
  }

  private async write(state: RunState, change: Pending): Promise<JournalRecord> {
    const audit = change.audit ?? [];
    while (change.audited < audit.length) {
      change.auditHash = (await this.audit.append(audit[change.audited])).hash;
      change.audited += 1;
    }
    const lost = change.alongside ? await change.alongside.failed : undefined;
    const entry = lost === undefined ? change.entry : change.alongside!.without;
    const record = { ...entry, seq: state.seq + 1, at: change.at, ...(change.auditHash ? { auditHash: change.auditHash } : {}) };
    await this.store.append(state.run.id, record);
    applyRecord(state, record, lost === undefined ? change.firstItems : []);
    return record;
  }
}

function held(runId: string, err: unknown): RbError {
  const cause = isRbError(err) ? err.message : 'the records could not be written';
  return new RbError(
    'RB_ERR_RUN_HELD',
    `Run ${runId} is held: a change could not be recorded (${cause}). Nothing more runs in it until its records are written; free disk space on the data folder and try again.`,
    { cause: isRbError(err) ? err.code : 'RB_ERR_INTERNAL' },
  );
}
