/**
 * Verifying an audit chain: the hash chain from the first record, every digest against the audit
 * key, that nothing follows the last digest unsigned, that every run's last recorded hash (the last
 * record of each run's journal that names one) is still in the chain, and optionally that a
 * transcript's audit hash is. The first problem is reported with its kind; chain and digest problems
 * by position, then cuts found through runs and transcripts, then unsigned records.
 *
 * One core (`verifyAuditChain`) checks records given as their text, with the same rules for both
 * places a chain lives: a data folder's file (`verifyAuditLog`: positions are lines) and the store's
 * DynamoDB table shared by replicas (`verifyDynamoAudit`: positions are the items' `seq` keys).
 */
import type { KeyObject } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RbError } from '../errors.js';
import { digestSignatureHolds, parseDigestData } from './audit-digest.js';
import { defaultAuditKeyPath, keyFingerprint, readAuditKey } from './audit-key.js';
import { auditLogPath, DIGEST_TYPE, GENESIS_HASH, hashRecord, parseRecordLine, type AuditRecord } from './audit-record.js';

export type AuditProblemKind =
  /** the last line is not a whole record: a write was cut short */
  | 'torn'
  /** a record does not match its hash, or is not a record */
  | 'edited'
  /** records are missing from the chain */
  | 'removed'
  /** records are out of order or duplicated */
  | 'reordered'
  /** a digest signs records the log no longer holds */
  | 'truncated'
  /** a digest not signed by the audit key */
  | 'forged-digest'
  /** the chain is consistent but not the one a digest signed, or a digest was altered */
  | 'rewritten'
  /** records after the last digest: chained, not signed */
  | 'unsigned'
  /** a run's last recorded hash is not in the log */
  | 'run-cut'
  /** a transcript's audit hash is not in the log */
  | 'transcript';

interface Problem {
  kind: AuditProblemKind;
  /** the record's sequence number (what it claims, or where the missing ones would be) */
  seq?: number;
  reason: string;
}

export interface AuditProblem extends Problem {
  /** 1-based line of the file */
  line: number;
}

export interface DynamoAuditProblem extends Problem {
  /** the `seq` key of the audit table's item (where the file log says line) */
  item: number;
}

/** A problem found by the core, at the position of the record (see ChainInput.positions). */
export interface ChainProblem extends Problem {
  position: number;
}

export interface ChainVerification<P = ChainProblem> {
  ok: boolean;
  /** records that verify before the first problem; all of them when ok */
  records: number;
  /** digests that verify before the first problem */
  digests: number;
  /** the fingerprint of the key the digests were checked against */
  fingerprint?: string;
  firstBad?: P;
  /** with `transcript`: its audit hash and the record that has it */
  transcript?: { auditHash: string; seq?: number };
}

export type AuditVerification = ChainVerification<AuditProblem>;
export type DynamoAuditVerification = ChainVerification<DynamoAuditProblem> & {
  /** the audit table read */
  table: string;
};

/** What the core checks: the records as their text, in order, and the runs' last hashes. */
export interface ChainInput {
  /** each record's text (a line of the file, the value of a table item), in order */
  lines: string[];
  /** each record's position, reported with a problem: default its 1-based index (the file's line) */
  positions?: number[];
  /**
   * A file's last line can be torn (a write cut short): whether it ended with its newline. Leave it
   * out where a record is written whole or not at all (a DynamoDB item): an unreadable last record
   * is then `edited`, never `torn`.
   */
  terminated?: boolean;
  /** each run's last recorded audit hash */
  runs: Array<{ id: string; auditHash: string }>;
}

export interface VerifyOptions {
  /** the key digests must be signed with; default: the public half of the key file at keyPath */
  publicKey?: KeyObject;
  /** the signing key's file (default: defaultAuditKeyPath()) */
  keyPath?: string;
  /** a transcript (md, json or html) whose audit hash must be in the log */
  transcript?: string;
}

/** The audit hash a transcript shows: `auditHash` in JSON, the "Audit hash" row in Markdown and HTML. */
export function transcriptAuditHash(text: string): string | undefined {
  try {
    const doc = JSON.parse(text) as { auditHash?: unknown };
    if (typeof doc.auditHash === 'string') return doc.auditHash;
  } catch {
    // Markdown or HTML.
  }
  return /Audit hash[\s\S]{0,80}?\b([0-9a-f]{64})\b/.exec(text)?.[1];
}

/** Each run's last recorded audit hash: the last journal record that names one (runs/<id>/journal.jsonl). */
async function runHashes(dataDir: string): Promise<Array<{ id: string; auditHash: string }>> {
  const dir = join(dataDir, 'runs');
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: Array<{ id: string; auditHash: string }> = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const text = await readFile(join(dir, entry.name, 'journal.jsonl'), 'utf8').catch(() => '');
    let auditHash: string | undefined;
    for (const line of text.split('\n')) {
      try {
        const record = JSON.parse(line) as { auditHash?: unknown };
        if (typeof record.auditHash === 'string') auditHash = record.auditHash;
      } catch {
        // a torn line says nothing about the log
      }
    }
    if (auditHash) out.push({ id: entry.name, auditHash });
  }
  return out;
}

const range = (a: number, b: number) => (a === b ? `record ${a}` : `records ${a}–${b}`);

/** Verifies the data folder's audit log; a missing log verifies as empty (records 0). */
export async function verifyAuditLog(dataDir: string, options: VerifyOptions = {}): Promise<AuditVerification> {
  const text = await readFile(auditLogPath(dataDir), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const lines = text === '' ? [] : text.split('\n');
  const terminated = text.endsWith('\n');
  if (terminated) lines.pop();
  const result = await verifyAuditChain({ lines, terminated, runs: await runHashes(dataDir) }, options);
  const { firstBad, ...rest } = result;
  if (!firstBad) return rest;
  const { position, ...problem } = firstBad;
  return { ...rest, firstBad: { ...problem, line: position } };
}

/**
 * Verifies the audit chain of the DynamoDB store under `prefix` (default `runbooks-`): the table
 * `<prefix>audit` read in order, each run's last `auditHash` from the journal table. An empty chain
 * verifies as empty (records 0). Read failures are RB_ERR_STORE_WRITE with the AWS code.
 */
export async function verifyDynamoAudit(store: { client: DynamoDBClient; prefix?: string }, options: VerifyOptions = {}): Promise<DynamoAuditVerification> {
  // Loaded here, so that verifying a file does not load the AWS SDK.
  const { readAuditChain, runAuditHashes } = await import('./dynamo-audit.js');
  const [chain, runs] = await Promise.all([readAuditChain(store.client, store.prefix), runAuditHashes(store.client, store.prefix)]);
  const result = await verifyAuditChain({ lines: chain.lines, positions: chain.positions, runs }, options);
  const { firstBad, ...rest } = result;
  if (!firstBad) return { ...rest, table: chain.table };
  const { position, ...problem } = firstBad;
  return { ...rest, table: chain.table, firstBad: { ...problem, item: position } };
}

/** Checks records given as text (see ChainInput); the rules every audit chain is held to. */
export async function verifyAuditChain(input: ChainInput, options: VerifyOptions = {}): Promise<ChainVerification> {
  const { lines } = input;
  const tearable = input.terminated !== undefined;
  const terminated = input.terminated ?? true;
  const position = (i: number): number => {
    const at = input.positions;
    if (!at) return i + 1;
    if (i < at.length) return at[i];
    return (at.length > 0 ? at[at.length - 1] : 0) + (i - at.length + 1);
  };
  const recs = lines.map(parseRecordLine);

  let publicKey = options.publicKey;
  let keyMissing: string | undefined;
  if (!publicKey) {
    const path = options.keyPath ?? defaultAuditKeyPath();
    const key = await readAuditKey(path);
    if (key) publicKey = key.publicKey;
    else keyMissing = path;
  }
  const fingerprint = publicKey ? keyFingerprint(publicKey) : undefined;

  let digests = 0;
  const fail = (i: number, problem: Problem): ChainVerification => ({
    ok: false,
    records: i,
    digests,
    ...(fingerprint ? { fingerprint } : {}),
    firstBad: { ...problem, position: position(i) },
  });

  const hashes = new Map<string, number>();
  for (const r of recs) if (r) hashes.set(r.hash, r.seq);
  let prev = GENESIS_HASH;
  let lastDigest: AuditRecord | undefined;
  for (let i = 0; i < lines.length; i++) {
    const rec = recs[i];
    const expected = i + 1;
    if (tearable && i === lines.length - 1 && (!rec || !terminated)) {
      const why = rec ? 'it lacks its final newline' : 'it is not valid JSON or not a whole record';
      return fail(i, { kind: 'torn', seq: rec?.seq ?? expected, reason: `the last record is torn: ${why} (a write was cut short; the next writer moves it aside)` });
    }
    if (!rec) return fail(i, { kind: 'edited', seq: expected, reason: 'not a record: not valid JSON, or without its sequence number and hash (the line was edited)' });
    if (rec.seq !== expected) {
      const later = rec.seq > expected && recs.slice(i + 1).some((r) => r?.seq === expected);
      const kind = rec.seq < expected || later ? 'reordered' : 'removed';
      const why = kind === 'removed' ? `${range(expected, rec.seq - 1)} ${rec.seq - expected === 1 ? 'was' : 'were'} removed` : 'records were moved or duplicated';
      return fail(i, { kind, seq: rec.seq, reason: `sequence number ${rec.seq} where ${expected} was expected (${why})` });
    }
    const { hash, ...body } = rec;
    if (hashRecord(body) !== hash) {
      return fail(i, { kind: 'edited', seq: rec.seq, reason: 'its content does not match its hash (the record was edited)' });
    }
    if (rec.prev !== prev) {
      const elsewhere = hashes.has(rec.prev);
      return fail(i, {
        kind: elsewhere ? 'reordered' : 'removed',
        seq: rec.seq,
        reason: elsewhere
          ? `its previous-record hash is that of record ${hashes.get(rec.prev)}, not of the record before it (records were reordered)`
          : 'its previous-record hash matches no record in the log (the record before it was removed or replaced)',
      });
    }
    if (rec.type === DIGEST_TYPE) {
      const data = parseDigestData(rec.data);
      if (!data) return fail(i, { kind: 'forged-digest', seq: rec.seq, reason: 'a digest record without the fields of a digest' });
      if (!publicKey) {
        throw new RbError(
          'RB_ERR_AUDIT_KEY',
          `No key to check the log's digests with: ${keyMissing} does not exist. Pass --key with the writer's public key (\`runbooks audit key\` prints it), or --audit-key with its key file.`,
        );
      }
      if (data.fingerprint !== fingerprint) {
        return fail(i, { kind: 'forged-digest', seq: rec.seq, reason: `the digest is signed by key ${data.fingerprint}, not by the audit key ${fingerprint}` });
      }
      if (!digestSignatureHolds(data, publicKey)) {
        return fail(i, { kind: 'rewritten', seq: rec.seq, reason: 'its signature does not hold for what it says (the digest was altered, as a rewritten chain needs)' });
      }
      const previous = lastDigest ? { seq: lastDigest.seq, hash: lastDigest.hash } : null;
      if (data.previous?.seq !== previous?.seq || data.previous?.hash !== previous?.hash) {
        const named = data.previous ? `digest ${data.previous.seq} (${data.previous.hash})` : 'no previous digest';
        return fail(i, {
          kind: 'rewritten',
          seq: rec.seq,
          reason: `it signed ${named} as the one before it, which is not the log's (digests or records before it were removed and the chain rebuilt)`,
        });
      }
      const first = (previous?.seq ?? 0) + 1;
      if (data.first !== first || data.last > rec.seq - 1) {
        return fail(i, {
          kind: 'truncated',
          seq: rec.seq,
          reason: `it signed ${range(data.first, data.last)}, but the log holds ${range(first, rec.seq - 1)} before it (signed records are missing)`,
        });
      }
      if (data.last < rec.seq - 1) {
        return fail(i, {
          kind: 'rewritten',
          seq: rec.seq,
          reason: `it signed ${range(data.first, data.last)}, but the log holds ${range(first, rec.seq - 1)} before it (records were inserted)`,
        });
      }
      if (data.head !== rec.prev) {
        return fail(i, {
          kind: 'rewritten',
          seq: rec.seq,
          reason: `${range(data.first, data.last)} do not end in the head hash it signed (${data.head}): one of them was changed and the chain after it recomputed`,
        });
      }
      lastDigest = rec;
      digests++;
    }
    prev = hash;
  }

  const count = lines.length;
  const end = (problem: Omit<Problem, 'seq'>): ChainVerification => fail(count, { ...problem, seq: count + 1 });
  for (const run of input.runs) {
    if (!hashes.has(run.auditHash)) {
      return end({ kind: 'run-cut', reason: `run ${run.id}'s last record ${run.auditHash} is not in the log (records were cut from its end, or rewritten)` });
    }
  }
  let transcript: AuditVerification['transcript'];
  if (options.transcript) {
    const auditHash = transcriptAuditHash(await readFile(options.transcript, 'utf8'));
    if (!auditHash) throw new RbError('RB_ERR_CLI_USAGE', `${options.transcript} shows no audit hash: pass a transcript exported by runbooks (md, json or html).`);
    if (!hashes.has(auditHash)) {
      return end({ kind: 'transcript', reason: `the transcript's audit hash ${auditHash} is not in the log (records were cut from its end, or rewritten)` });
    }
    transcript = { auditHash, seq: hashes.get(auditHash) };
  }
  const signedTo = lastDigest?.seq ?? 0;
  if (signedTo < count) {
    return fail(signedTo, {
      kind: 'unsigned',
      seq: signedTo + 1,
      reason: `${range(signedTo + 1, count)} ${count - signedTo === 1 ? 'follows' : 'follow'} the last digest: chained but not signed (appended since the writer's last digest, or forged; a server signs its records when it stops)`,
    });
  }
  return { ok: true, records: count, digests, ...(fingerprint ? { fingerprint } : {}), ...(transcript ? { transcript } : {}) };
}
