/**
 * The inline deny policy that revokes completed runs' sessions, as plain data: one Deny statement
 * per run, matching `aws:userid` `<role id>:rb-<run>-*`, its Sid carrying the time after which every
 * session it matches has expired (`RbUntil<epoch seconds>R<hash>`), so pruning needs nothing else.
 *
 * IAM caps the inline policies of a role at 10,240 characters in total, whitespace not counted.
 * When the policy would not fit, expired entries are pruned first, then all entries are compacted
 * into one statement (one pattern per run, the latest expiry): it stays correct, since a run's
 * sessions are only ever denied longer, never shorter.
 */
import { createHash } from 'node:crypto';
import type { PolicyDocument, PolicyStatement } from './derive-policy.js';

export const REVOCATION_POLICY_NAME = 'runbooks-revoked-sessions';
export const INLINE_POLICY_MAX_CHARS = 10_240;
/** Entries are kept this long past their expiry, for clock skew between this server and AWS. */
export const PRUNE_GRACE_MS = 5 * 60_000;

const SID = /^RbUntil(\d+)R[0-9a-f]+$/;

export interface RevocationEntry {
  /** `aws:userid` patterns, `<role id>:rb-<run>-*` */
  patterns: string[];
  /** when every session these patterns match has expired */
  until: Date;
}

/** The entries of a revocation policy, and any statement it holds that is not one (kept as is). */
export function readEntries(doc: PolicyDocument | undefined): { entries: RevocationEntry[]; foreign: PolicyStatement[] } {
  const entries: RevocationEntry[] = [];
  const foreign: PolicyStatement[] = [];
  const statements = doc?.Statement ?? [];
  for (const s of Array.isArray(statements) ? statements : [statements]) {
    const m = typeof s.Sid === 'string' ? SID.exec(s.Sid) : null;
    const raw = s.Condition?.StringLike?.['aws:userid'];
    const patterns = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
    if (m && s.Effect === 'Deny' && patterns.length > 0) entries.push({ patterns: [...patterns], until: new Date(Number(m[1]) * 1000) });
    else foreign.push(s);
  }
  return { entries, foreign };
}

/** Adds (or extends) the entry of one pattern: it is denied until the later of both expiries. */
export function addEntry(entries: RevocationEntry[], pattern: string, until: Date): RevocationEntry[] {
  let latest = until.getTime();
  const rest: RevocationEntry[] = [];
  for (const e of entries) {
    if (e.patterns.includes(pattern)) {
      latest = Math.max(latest, e.until.getTime());
      const others = e.patterns.filter((p) => p !== pattern);
      if (others.length > 0) rest.push({ patterns: others, until: e.until });
    } else {
      rest.push(e);
    }
  }
  return [...rest, { patterns: [pattern], until: new Date(latest) }];
}

/** Drops the entries whose sessions have all expired (with PRUNE_GRACE_MS of margin). */
export function pruneEntries(entries: RevocationEntry[], now: Date): RevocationEntry[] {
  return entries.filter((e) => e.until.getTime() + PRUNE_GRACE_MS > now.getTime());
}

/** Merges all entries into one: one statement's overhead instead of one per run. */
export function compactEntries(entries: RevocationEntry[]): RevocationEntry[] {
  if (entries.length <= 1) return entries;
  const patterns = [...new Set(entries.flatMap((e) => e.patterns))].sort();
  const until = new Date(Math.max(...entries.map((e) => e.until.getTime())));
  return [{ patterns, until }];
}

/** The policy document of a set of entries (and foreign statements), sorted by expiry. */
export function revocationDocument(entries: RevocationEntry[], foreign: PolicyStatement[] = []): PolicyDocument {
  const statements = [...entries]
    .sort((a, b) => a.until.getTime() - b.until.getTime() || (a.patterns[0] < b.patterns[0] ? -1 : 1))
    .map((e): PolicyStatement => {
      const patterns = [...e.patterns].sort();
      const hash = createHash('sha256').update(patterns.join('\n')).digest('hex').slice(0, 10);
      return {
        Sid: `RbUntil${Math.ceil(e.until.getTime() / 1000)}R${hash}`,
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { StringLike: { 'aws:userid': patterns.length === 1 ? patterns[0] : patterns } },
      };
    });
  return { Version: '2012-10-17', Statement: [...foreign, ...statements] };
}

/** The size IAM counts against its limit: the document without whitespace. */
export function policySize(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}
