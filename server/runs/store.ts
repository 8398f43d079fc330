/**
 * The run store (docs/architecture.md, "Runs and their records"): a run is a header written once
 * plus an append-only journal of records, and its result items are stored apart, in pages. Nothing
 * is ever rewritten, so recording costs the same at the 1,000th execution as at the first, and the
 * server's memory does not grow with the items a run returns.
 *
 * Every write is conditional, so that several writers can share one store without losing or
 * forking anything: a header is created only where none exists, and a journal record is appended
 * only at the next sequence number (a file lock and a tail check on the embedded file store; a
 * conditional put on the key (run, seq) on a DynamoDB store).
 */
import type { Approval, EndReason, ExecutionError, RevocationInfo, RunStatus, StepExecution } from './types.js';
import type { ParamValues } from '../runbook/types.js';
import type { Cursor } from '../dynamo/execute.js';

/** What a run is from its start, written once. */
export interface RunHeader {
  id: string;
  runbook: string;
  title: string;
  user: string;
  params: ParamValues;
  roleArn: string;
  startedAt: string;
  /** the runbook exactly as it was run: its text and SHA-256 (views and transcripts use this copy) */
  source: { text: string; sha256: string };
  /** what the run's results are redacted by, from its start (docs/format.md, "Redaction") */
  redact?: string[];
  /** the process that owns the run on the embedded store: a run whose owner died is `interrupted` */
  owner?: { pid: number; host: string; instance: string };
}

/** The records of a run's journal, each one state change. */
export type JournalEntry =
  | { type: 'session.noted'; roleId: string; sessionsUntil: string; sessionsIssuedUntil: string }
  /**
   * one execution, finished (succeeded or failed); its items are in the item store, or, when they
   * are few and there are no more pages (INLINE_ITEMS, INLINE_BYTES), all of them in `items` here
   * and none in the item store: a step's usual few items cost no file or item of their own
   */
  | { type: 'execution'; execution: StoredExecution; cursor?: Cursor; items?: Record<string, unknown>[] }
  /** a further page of the step's last execution */
  | {
      type: 'page';
      step: string;
      n: number;
      itemCount: number;
      count: number;
      scannedCount?: number;
      consumedCapacity?: unknown;
      hasMore: boolean;
      pages: number;
      durationMs: number;
      error?: ExecutionError;
      cursor?: Cursor;
    }
  /** an approval's new state; `past: true` moves the step's current approval to the past ones first */
  | { type: 'approval'; approval: Approval; past?: boolean }
  | { type: 'run.ended'; status: Exclude<RunStatus, 'active'>; reason: EndReason; endedAt: string; revocation: RevocationInfo; revokedSessions: string[] };

export type JournalRecord = JournalEntry & {
  /** 1-based, contiguous within the run */
  seq: number;
  at: string;
  /** hash of the audit record of this change */
  auditHash?: string;
};

/** An execution as journalled: everything but its items, which the item store holds. */
export type StoredExecution = Omit<StepExecution, 'items'>;

export interface RunStore {
  /** Creates a run; RB_ERR_STORE_CONFLICT if one with that id exists. */
  create(header: RunHeader): Promise<void>;
  /** Appends `record` at `record.seq`; RB_ERR_STORE_CONFLICT if another writer took that number. */
  append(runId: string, record: JournalRecord): Promise<void>;
  /** A run's header and its records from `fromSeq` (default 1); undefined for an unknown run. */
  read(runId: string, fromSeq?: number): Promise<{ header: RunHeader; records: JournalRecord[] } | undefined>;
  /** The ids of every run in the store. */
  list(): Promise<string[]>;
  /** Stores the next items of execution `n` of `step`, starting at item `offset`. */
  putItems(runId: string, step: string, n: number, offset: number, items: readonly Record<string, unknown>[]): Promise<void>;
  /** Items `offset` to `offset + limit` of execution `n` of `step`, in order. */
  readItems(runId: string, step: string, n: number, offset: number, limit: number): Promise<Record<string, unknown>[]>;
  /** Every item of an execution, in order, a page at a time (for exports of any size). */
  items(runId: string, step: string, n: number): AsyncIterable<Record<string, unknown>>;
  close(): Promise<void>;
  /**
   * Set where result items expire (a retention period): an execution's few items are then stored
   * as items too, never kept in its record, which does not expire (INLINE_ITEMS).
   */
  readonly itemsExpire?: boolean;
  /** Present where several processes share the store as equals (DynamoDB): see SharedStore. */
  readonly shared?: SharedStore;
}

/**
 * What replicas on one store need beyond the records (docs/deploy.md, "Replicas"). Changes of a run
 * are made under its lease, so that a replica reads the run's latest records, decides and appends
 * while no other does: an approval is used once, a run ends once. Appends stay conditional on their
 * sequence number all the same, so a replica that lost its lease (paused past its end) cannot fork
 * the journal. What the others changed is learnt from the store's change feed.
 */
export interface SharedStore {
  /** Runs `fn` holding run `runId`'s lease (renewed meanwhile); waits while another holds it (RB_ERR_RUN_BUSY). */
  hold<T>(runId: string, fn: () => Promise<T>): Promise<T>;
  /** The runs created (seq 0) or appended to (seq ≥ 1) at or after `since` by their writers' clocks. */
  changes(since: Date): Promise<Array<{ run: string; seq: number }>>;
}

/** At most this many items, of at most INLINE_BYTES as JSON, are kept in an execution's record. */
export const INLINE_ITEMS = 100;
export const INLINE_BYTES = 8 * 1024;

/** Whether an execution's items, all of them, are kept in its record (a result without more pages). */
export function fitsInline(items: readonly Record<string, unknown>[]): boolean {
  if (items.length > INLINE_ITEMS) return false;
  let bytes = 0;
  for (const item of items) {
    bytes += JSON.stringify(item).length;
    if (bytes > INLINE_BYTES) return false;
  }
  return true;
}

/** The items a run view carries for each step's last execution (more through the items route). */
export const FIRST_PAGE_ITEMS = 100;
export const FIRST_PAGE_BYTES = 48 * 1024;

/** The leading items of a list that fit a first page: at most FIRST_PAGE_ITEMS and FIRST_PAGE_BYTES (at least one). */
export function firstPage(items: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let bytes = 0;
  for (const item of items) {
    if (out.length >= FIRST_PAGE_ITEMS) break;
    bytes += JSON.stringify(item).length;
    if (out.length > 0 && bytes > FIRST_PAGE_BYTES) break;
    out.push(item);
  }
  return out;
}
