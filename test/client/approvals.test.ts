import { describe, expect, it } from 'vitest';
import type { Run } from '../../client/api-types.js';
import { approvalTitle, decisionSubject, mayDecide, pendingApprovals, requestTitle, sendDecision } from '../../client/approvals.js';
import { alice, apiError, approval, bob, fakeApi, run } from './fake-api.js';

describe('who may decide, and what a request is called', () => {
  it('lets an approver decide a request of someone else, never their own', () => {
    expect(mayDecide(bob, approval('hold', 'pending'))).toBe(true);
    expect(mayDecide({ user: 'bob', roles: ['admin'] }, approval('hold', 'pending'))).toBe(true);
    expect(mayDecide(alice, approval('hold', 'pending'))).toBe(false);
    expect(mayDecide({ user: 'alice', roles: ['approver'] }, approval('hold', 'pending'))).toBe(false);
  });

  it('titles a revert of a write apart from the step, in the cell, the page and the complete dialog alike', () => {
    expect(requestTitle('Put the order on hold', 'step')).toBe('Put the order on hold');
    expect(requestTitle('Put the order on hold', 'revert')).toBe('Revert of Put the order on hold');
    const titles: Record<string, string> = { hold: 'Put the order on hold' };
    expect(approvalTitle('hold.revert', (s) => titles[s])).toBe('Revert of Put the order on hold');
    expect(approvalTitle('gone', (s) => titles[s])).toBe('gone');
    expect(decisionSubject('Put the order on hold', 'step')).toBe('step Put the order on hold');
    expect(decisionSubject('hold', 'revert', 'r1')).toBe('revert of step hold of run r1');
  });

  it('lists pending requests of active runs only, oldest first', () => {
    const runWith = (id: string, status: Run['status'], approvals: ReturnType<typeof approval>[]) =>
      run({ id, status, approvals: Object.fromEntries(approvals.map((a) => [a.step, a])) });
    const runs = [
      runWith('r1', 'active', [approval('b', 'pending', { requestedAt: '2026-11-27T10:05:00Z' }), approval('c', 'approved', { requestedAt: '2026-11-27T10:00:00Z' })]),
      runWith('r2', 'active', [approval('a', 'pending', { requestedAt: '2026-11-27T10:01:00Z' })]),
      runWith('r3', 'completed', [approval('d', 'pending', { requestedAt: '2026-11-27T09:00:00Z' })]),
    ];
    expect(pendingApprovals(runs).map((p) => `${p.run.id}/${p.approval.step}`)).toEqual(['r2/a', 'r1/b']);
  });
});

describe('sendDecision', () => {
  it('sends the decision with its comment and says what was decided', async () => {
    const api = fakeApi({ decide: async (_run, name, approve, comment) => approval(name, approve ? 'approved' : 'denied', { decidedBy: 'bob', comment }) });
    const outcome = await sendDecision(api, { runId: 'r1', name: 'hold', approve: true, comment: 'SUP-311', subject: 'step hold of run r1' });
    expect(api.calls).toEqual(['decide r1 hold true SUP-311']);
    expect(outcome).toMatchObject({ kind: 'recorded', approval: { status: 'approved', comment: 'SUP-311' }, message: 'Approved step hold of run r1.' });
  });

  it('brings back the new state of a request that expired meanwhile, with the error', async () => {
    const expired = approval('hold', 'expired', { reason: 'The request expired.' });
    const api = fakeApi({ decide: async () => Promise.reject(apiError('RB_ERR_APPROVAL_NOT_PENDING', { approval: expired })) });
    const outcome = await sendDecision(api, { runId: 'r1', name: 'hold', approve: false, comment: '', subject: 'step hold' });
    expect(outcome).toEqual({ kind: 'refused', approval: expired, error: { code: 'RB_ERR_APPROVAL_NOT_PENDING', message: 'RB_ERR_APPROVAL_NOT_PENDING (from the test)' } });
  });
});
