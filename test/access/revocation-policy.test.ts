import { describe, expect, it } from 'vitest';
import {
  INLINE_POLICY_MAX_CHARS,
  PRUNE_GRACE_MS,
  addEntry,
  compactEntries,
  policySize,
  pruneEntries,
  readEntries,
  revocationDocument,
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

  it('compacts many runs into one statement with the latest expiry, to stay under IAM\'s limit', () => {
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
