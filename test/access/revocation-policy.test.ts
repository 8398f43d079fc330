import { describe, expect, it } from 'vitest';
import {
  INLINE_POLICY_MAX_CHARS,
  PRUNE_GRACE_MS,
  addEntry,
  compactEntries,
  planRevocation,
  policySize,
  pruneEntries,
  pruneState,
  readEntries,
  revocationDocument,
  stateDocument,
  type RevocationState,
} from '../../server/access/revocation-policy.js';

const ROLE = 'AROAEXAMPLE0000000001';
const at = (iso: string) => new Date(iso);

describe('the revocation policy document', () => {
  it('denies everything to the sessions of a run, its expiry in the Sid', () => {
    const doc = revocationDocument(addEntry([], `${ROLE}:rb-r1-*`, at('2026-11-27T10:00:00Z')));
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: expect.stringMatching(/^RbUntil1795773600R[0-9a-f]{10}$/),
          Effect: 'Deny',
          Action: ['*'],
          Resource: ['*'],
          Condition: { StringLike: { 'aws:userid': `${ROLE}:rb-r1-*` } },
        },
      ],
    });
  });

  it('reads back what it wrote, and keeps statements that are not its own', () => {
    const foreign = { Sid: 'Manual', Effect: 'Deny' as const, Action: ['dynamodb:DeleteTable'], Resource: ['*'] };
    let entries = addEntry([], `${ROLE}:rb-r1-*`, at('2026-11-27T10:00:00Z'));
    entries = addEntry(entries, `${ROLE}:rb-r2-*`, at('2026-11-27T11:00:00Z'));
    const back = readEntries(revocationDocument(entries, [foreign]));
    expect(back.foreign).toEqual([foreign]);
    expect(back.entries).toEqual(entries);
  });

  it('extends, never shortens, the entry of a run revoked twice', () => {
    let entries = addEntry([], `${ROLE}:rb-r1-*`, at('2026-11-27T11:00:00Z'));
    entries = addEntry(entries, `${ROLE}:rb-r1-*`, at('2026-11-27T10:00:00Z'));
    expect(entries).toEqual([{ patterns: [`${ROLE}:rb-r1-*`], until: at('2026-11-27T11:00:00Z') }]);
  });

  it('prunes the entries whose sessions have all expired, after a grace for clock skew', () => {
    const entries = [
      { patterns: ['a'], until: at('2026-11-27T10:00:00Z') },
      { patterns: ['b'], until: at('2026-11-27T12:00:00Z') },
    ];
    expect(pruneEntries(entries, new Date(at('2026-11-27T10:00:00Z').getTime() + PRUNE_GRACE_MS - 1))).toEqual(entries);
    expect(pruneEntries(entries, at('2026-11-27T11:00:00Z'))).toEqual([entries[1]]);
  });

  it("compacts many runs into one statement with the latest expiry, to stay under IAM's limit", () => {
    let entries: ReturnType<typeof addEntry> = [];
    for (let i = 0; i < 80; i++) entries = addEntry(entries, `${ROLE}:rb-run${String(i).padStart(6, '0')}-*`, new Date(Date.UTC(2026, 10, 27, 10, i)));
    const loose = revocationDocument(entries);
    expect(policySize(loose)).toBeGreaterThan(INLINE_POLICY_MAX_CHARS);
    const compact = compactEntries(entries);
    expect(compact).toHaveLength(1);
    expect(compact[0].patterns).toHaveLength(80);
    expect(compact[0].until).toEqual(new Date(Date.UTC(2026, 10, 27, 10, 79)));
    expect(policySize(revocationDocument(compact))).toBeLessThan(INLINE_POLICY_MAX_CHARS);
  });
});

describe('planning a revocation within a size', () => {
  const now = at('2026-11-27T10:00:00.400Z');
  const fill = (n: number) => {
    let state: RevocationState = { entries: [], foreign: [] };
    let folds = 0;
    for (let i = 0; i < n; i++) {
      const plan = planRevocation(state, {
        roleId: ROLE,
        pattern: `${ROLE}:rb-r${String(i).padStart(9, '0')}-*`,
        until: at('2026-11-27T10:15:00Z'),
        issued: at('2026-11-27T09:59:58Z'),
        now,
        maxChars: INLINE_POLICY_MAX_CHARS,
      });
      state = plan.state;
      if (plan.folded) folds++;
      expect(policySize(stateDocument(state))).toBeLessThanOrEqual(INLINE_POLICY_MAX_CHARS);
    }
    return { state, folds };
  };

  it('keeps one entry per run while they fit', () => {
    const { state, folds } = fill(20);
    expect(folds).toBe(0);
    expect(state.entries).toHaveLength(20);
    expect(state.cutoff).toBeUndefined();
  });

  it('folds into a cutoff on aws:TokenIssueTime at the next whole second when even compacted they would not fit', () => {
    const { state, folds } = fill(1000);
    expect(folds).toBeGreaterThan(0);
    expect(state.cutoff).toEqual({ roleId: ROLE, issuedBefore: at('2026-11-27T10:00:01Z'), until: at('2026-11-27T10:15:00Z') });
    const doc = stateDocument(state);
    expect(doc.Statement).toContainEqual({
      Sid: 'RbIssuedBefore1795773601U1795774500',
      Effect: 'Deny',
      Action: ['*'],
      Resource: ['*'],
      Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-11-27T10:00:01Z' }, StringLike: { 'aws:userid': `${ROLE}:rb-*` } },
    });
    expect(readEntries(doc)).toEqual(state);
  });

  it('drops entries the cutoff already covers, and the cutoff once its sessions have expired', () => {
    const cutoff = { roleId: ROLE, issuedBefore: at('2026-11-27T10:00:01Z'), until: at('2026-11-27T10:15:00Z') };
    const plan = planRevocation(
      { entries: [], foreign: [], cutoff },
      { roleId: ROLE, pattern: `${ROLE}:rb-old-*`, until: at('2026-11-27T10:15:00Z'), issued: at('2026-11-27T09:59:00Z'), now, maxChars: INLINE_POLICY_MAX_CHARS },
    );
    expect(plan.state.entries).toEqual([]);
    expect(pruneState(plan.state, at('2026-11-27T10:15:00Z')).cutoff).toEqual(cutoff);
    expect(pruneState(plan.state, new Date(at('2026-11-27T10:15:00Z').getTime() + PRUNE_GRACE_MS + 1)).cutoff).toBeUndefined();
  });
});
