/**
 * The inline deny policy that revokes completed runs' sessions, as plain data: one Deny statement
 * per run, matching `aws:userid` `<role id>:rb-<run>-*`, its Sid carrying the time after which every
 * session it matches has expired and the latest time one of them was issued
 * (`RbUntil<epoch s>I<epoch s>R<hash>`), so pruning and folding need nothing else.
 *
 * IAM caps the inline policies of a role at 10,240 characters in total, whitespace not counted, so
 * the policy must stay bounded whatever the number of runs (docs/security.md, "Revocation"). When it
 * would not fit: expired entries are pruned; then all entries are compacted into one statement; then,
 * if that is still too large, every entry is folded into one cutoff, AWS's own "revoke active
 * sessions": deny every session of the tool on the role (`<role id>:rb-*`) issued before an instant
 * (`aws:TokenIssueTime`). Each step of a run gets a fresh session anyway, so active runs only have
 * to assume their next session after that instant. A session is only ever denied longer, never
 * shorter.
 */
import { createHash } from 'node:crypto';
import type { PolicyDocument, PolicyStatement } from './derive-policy.js';

export const REVOCATION_POLICY_NAME = 'runbooks-revoked-sessions';
export const INLINE_POLICY_MAX_CHARS = 10_240;
/** Entries are kept this long past their expiry, for clock skew between this server and AWS. */
export const PRUNE_GRACE_MS = 5 * 60_000;

const SID = /^RbUntil(\d+)(?:I(\d+))?R[0-9a-f]+$/;
const CUTOFF_SID = /^RbIssuedBefore(\d+)U(\d+)$/;

export interface RevocationEntry {
  /** `aws:userid` patterns, `<role id>:rb-<run>-*` */
  patterns: string[];
  /** when every session these patterns match has expired */
  until: Date;
  /** the latest issue time of those sessions, when known (STS's clock: expiry − duration) */
  issued?: Date;
}

/** Every session of the tool on a role (`<role id>:rb-*`) issued before `issuedBefore` is denied. */
export interface RevocationCutoff {
  roleId: string;
  issuedBefore: Date;
  /** when every session it was put for has expired: pruned after that */
  until: Date;
}

export interface RevocationState {
  entries: RevocationEntry[];
  cutoff?: RevocationCutoff;
  /** statements that are not this module's, kept as they are */
  foreign: PolicyStatement[];
}

/** The entries and cutoff of a revocation policy, and any statement it holds that is neither. */
export function readEntries(doc: PolicyDocument | undefined): RevocationState {
  const entries: RevocationEntry[] = [];
  const foreign: PolicyStatement[] = [];
  let cutoff: RevocationCutoff | undefined;
  const statements = doc?.Statement ?? [];
  for (const s of Array.isArray(statements) ? statements : [statements]) {
    const sid = typeof s.Sid === 'string' ? s.Sid : '';
    const raw = s.Condition?.StringLike?.['aws:userid'];
    const patterns = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
    const m = SID.exec(sid);
    const c = CUTOFF_SID.exec(sid);
    if (m && s.Effect === 'Deny' && patterns.length > 0) {
      entries.push({ patterns: [...patterns], until: new Date(Number(m[1]) * 1000), ...(m[2] ? { issued: new Date(Number(m[2]) * 1000) } : {}) });
    } else if (c && s.Effect === 'Deny' && patterns.length === 1 && patterns[0].endsWith(':rb-*')) {
      cutoff = { roleId: patterns[0].slice(0, -':rb-*'.length), issuedBefore: new Date(Number(c[1]) * 1000), until: new Date(Number(c[2]) * 1000) };
    } else {
      foreign.push(s);
    }
  }
  return { entries, foreign, ...(cutoff ? { cutoff } : {}) };
}

/** Adds (or extends) the entry of one pattern: it is denied until the later of both expiries. */
export function addEntry(entries: RevocationEntry[], pattern: string, until: Date, issued?: Date): RevocationEntry[] {
  let latest = until.getTime();
  let lastIssued = issued?.getTime();
  const rest: RevocationEntry[] = [];
  for (const e of entries) {
    if (e.patterns.includes(pattern)) {
      latest = Math.max(latest, e.until.getTime());
      if (e.issued) lastIssued = Math.max(lastIssued ?? 0, e.issued.getTime());
      const others = e.patterns.filter((p) => p !== pattern);
      if (others.length > 0) rest.push({ ...e, patterns: others });
    } else {
      rest.push(e);
    }
  }
  return [...rest, { patterns: [pattern], until: new Date(latest), ...(lastIssued !== undefined ? { issued: new Date(lastIssued) } : {}) }];
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
  const issued = entries.every((e) => e.issued) ? new Date(Math.max(...entries.map((e) => e.issued!.getTime()))) : undefined;
  return [{ patterns, until, ...(issued ? { issued } : {}) }];
}

/**
 * Folds every entry (and an earlier cutoff) into one cutoff that denies every session of the tool on
 * the role issued up to the later of `now` and the entries' latest issue time. `aws:TokenIssueTime`
 * counts whole seconds, so the cutoff is the next whole second: sessions issued within the current
 * second are denied too, and the broker waits for that second to pass before using a new one.
 */
export function foldEntries(state: RevocationState, roleId: string, now: Date): RevocationCutoff {
  const issuedTimes = state.entries.flatMap((e) => (e.issued ? [e.issued.getTime()] : []));
  const latestIssue = Math.max(now.getTime(), ...issuedTimes);
  const issuedBefore = Math.floor(latestIssue / 1000) * 1000 + 1000;
  const untils = [...state.entries.map((e) => e.until.getTime()), state.cutoff?.until.getTime() ?? 0];
  return {
    roleId,
    issuedBefore: new Date(Math.max(issuedBefore, state.cutoff?.issuedBefore.getTime() ?? 0)),
    until: new Date(Math.max(...untils)),
  };
}

/**
 * The next state of a role's revocation policy after revoking one run: added, pruned, and then only
 * as coarse as it must be to fit in `maxChars` (compacted, then folded into a cutoff). Entries whose
 * sessions were all issued before the cutoff add nothing and are dropped.
 */
export function planRevocation(
  state: RevocationState,
  input: { roleId: string; pattern: string; until: Date; issued?: Date; now: Date; maxChars: number },
): { state: RevocationState; folded: boolean } {
  const cutoff = state.cutoff && state.cutoff.until.getTime() + PRUNE_GRACE_MS > input.now.getTime() ? state.cutoff : undefined;
  const covered = (e: RevocationEntry) => cutoff !== undefined && e.issued !== undefined && e.issued < cutoff.issuedBefore;
  const added = pruneEntries(addEntry(state.entries, input.pattern, input.until, input.issued), input.now).filter((e) => !covered(e));
  let next: RevocationState = { entries: added, foreign: state.foreign, ...(cutoff ? { cutoff } : {}) };
  if (policySize(stateDocument(next)) <= input.maxChars) return { state: next, folded: false };
  next = { ...next, entries: compactEntries(added) };
  if (policySize(stateDocument(next)) <= input.maxChars) return { state: next, folded: false };
  return { state: { entries: [], foreign: state.foreign, cutoff: foldEntries(next, input.roleId, input.now) }, folded: true };
}

/** Drops a cutoff whose sessions have all expired, and entries likewise. */
export function pruneState(state: RevocationState, now: Date): RevocationState {
  const cutoff = state.cutoff && state.cutoff.until.getTime() + PRUNE_GRACE_MS > now.getTime() ? state.cutoff : undefined;
  return { entries: pruneEntries(state.entries, now), foreign: state.foreign, ...(cutoff ? { cutoff } : {}) };
}

/** The policy document of a revocation state. */
export function stateDocument(state: RevocationState): PolicyDocument {
  return revocationDocument(state.entries, state.foreign, state.cutoff);
}

/** `aws:TokenIssueTime` as AWS writes it: ISO 8601 to the second. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The policy document of a set of entries (and foreign statements, and a cutoff), sorted by expiry. */
export function revocationDocument(entries: RevocationEntry[], foreign: PolicyStatement[] = [], cutoff?: RevocationCutoff): PolicyDocument {
  const cutoffStatements: PolicyStatement[] = cutoff
    ? [
        {
          Sid: `RbIssuedBefore${Math.floor(cutoff.issuedBefore.getTime() / 1000)}U${Math.ceil(cutoff.until.getTime() / 1000)}`,
          Effect: 'Deny',
          Action: ['*'],
          Resource: ['*'],
          Condition: { DateLessThan: { 'aws:TokenIssueTime': isoSeconds(cutoff.issuedBefore) }, StringLike: { 'aws:userid': `${cutoff.roleId}:rb-*` } },
        },
      ]
    : [];
  const statements = [...entries]
    .sort((a, b) => a.until.getTime() - b.until.getTime() || (a.patterns[0] < b.patterns[0] ? -1 : 1))
    .map((e): PolicyStatement => {
      const patterns = [...e.patterns].sort();
      const hash = createHash('sha256').update(patterns.join('\n')).digest('hex').slice(0, 10);
      const issued = e.issued ? `I${Math.floor(e.issued.getTime() / 1000)}` : '';
      return {
        Sid: `RbUntil${Math.ceil(e.until.getTime() / 1000)}${issued}R${hash}`,
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { StringLike: { 'aws:userid': patterns.length === 1 ? patterns[0] : patterns } },
      };
    });
  return { Version: '2012-10-17', Statement: [...foreign, ...cutoffStatements, ...statements] };
}

/** The size IAM counts against its limit: the document without whitespace. */
export function policySize(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}
