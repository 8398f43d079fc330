/**
 * The sandbox's session table: a session's record is forgotten a day after it expires (its key is
 * then unknown, as an unrecognised AWS key is), and pruning looks only at the oldest sessions, so
 * issuing stays as quick with 40,000 sessions issued as with a few.
 */
import { describe, expect, it } from 'vitest';
import { Identities } from '../../server/sandbox/gateway/identities.js';

const DAY = 24 * 3600_000;
const role = { name: 'r', maxSessionDuration: 43200, policies: [] };

describe('the sandbox session table', () => {
  it('forgets sessions a day after they expire, whatever their durations', () => {
    let now = Date.UTC(2026, 10, 30, 8);
    const ids = new Identities('000000000000', [role], () => now);
    const state = ids.roles.get('r')!;
    const issue = (durationSeconds: number) => ids.issueSession({ role: state, sessionName: 's', tags: [], durationSeconds });
    const short = issue(900);
    const long = issue(43200);
    expect(ids.lookup(short.accessKeyId, short.sessionToken)).toMatchObject({ ok: true });
    now += 900_000;
    expect(ids.lookup(short.accessKeyId, short.sessionToken)).toMatchObject({ ok: false, failure: 'expired' });
    now += DAY + 1000;
    issue(900); // pruning happens as sessions are issued
    expect(ids.lookup(short.accessKeyId, short.sessionToken)).toMatchObject({ ok: false, failure: 'unknown-key' });
    expect(ids.lookup(long.accessKeyId, long.sessionToken)).toMatchObject({ ok: false, failure: 'expired' });
    now += 12 * 3600_000;
    issue(900);
    expect(ids.lookup(long.accessKeyId, long.sessionToken)).toMatchObject({ ok: false, failure: 'unknown-key' });
    expect(ids.sessionCount).toBe(2);
  });

  it("keeps the table to the sessions of the last day and a session's lifetime", () => {
    let now = Date.UTC(2026, 10, 30, 8);
    const ids = new Identities('000000000000', [role], () => now);
    const state = ids.roles.get('r')!;
    // 40,000 sessions over ten days, one every 21.6 s.
    for (let i = 0; i < 40_000; i++) {
      ids.issueSession({ role: state, sessionName: `s${i}`, tags: [], durationSeconds: 900 });
      now += 21_600;
    }
    // Those issued within a day and fifteen minutes of now: about 4,040.
    expect(ids.sessionCount).toBeGreaterThan(4000);
    expect(ids.sessionCount).toBeLessThan(4100);
  });
});
