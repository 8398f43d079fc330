/**
 * The audit log's record format, shared by the writer (audit.ts) and the verifier (audit-verify.ts):
 * one JSON object per line, each carrying its sequence number, the hash of the record before it and
 * its own hash over canonical JSON.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export const GENESIS_HASH = '0'.repeat(64);

/** The type of the signed records (audit-digest.ts). */
export const DIGEST_TYPE = 'audit.digest';
/** The type of the record that says torn bytes were moved aside. */
export const REPAIRED_TYPE = 'log.repaired';

export interface AuditRecord {
  seq: number;
  at: string;
  type: string;
  runId?: string;
  user?: string;
  data?: Record<string, unknown>;
  /** hash of the previous record (GENESIS_HASH for the first) */
  prev: string;
  /** SHA-256 over this record without `hash`, as canonical JSON */
  hash: string;
}

export type AuditEntry = Pick<AuditRecord, 'type' | 'runId' | 'user' | 'data'>;

export function auditLogPath(dataDir: string): string {
  return join(dataDir, 'audit.jsonl');
}

/** JSON with object keys sorted at every level, so the hash does not depend on insertion order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

const HASH = /^[0-9a-f]{64}$/;

export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HASH.test(value);
}

/**
 * A line's record when it is one in form (an object with a positive integer `seq` and hex `hash`);
 * undefined for anything else. Whether its hash holds is the verifier's question, not this one's.
 */
export function parseRecordLine(line: string): AuditRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const rec = value as AuditRecord;
  return Number.isSafeInteger(rec.seq) && rec.seq > 0 && isHash(rec.hash) ? rec : undefined;
}
