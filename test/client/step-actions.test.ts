import { describe, expect, it } from 'vitest';
import { cellState } from '../../client/notebook/cell-state.js';
import { alice, apiError, approval, bob, execution, run, runbook, step } from './fake-api.js';
import { notebook } from './notebook-setup.js';

const confirmDetails = { request: { operation: 'UpdateItem', input: { TableName: 'Orders' } }, policy: {} };

describe('running a step', () => {
  it('starts the run first when there is none, then runs the step and shows its execution', async () => {
    const { steps, model, api } = notebook({ api: { startRun: async () => run(), execute: async (_r, s) => execution(s, 1) } });
    const busy: boolean[] = [];
    model.onChange((c) => c.type === 'step' && c.step === 'find' && busy.push(model.stepState('find').busy));
    expect(await steps.runStep('find')).toMatchObject({ kind: 'ran', execution: { step: 'find', n: 1 } });
    expect(api.calls).toEqual(['startRun shop/orders {"customerId":"C1"}', 'execute r1 find false']);
    expect(cellState(model, 'find')).toMatchObject({ status: { text: 'Succeeded' }, runButton: { text: 'Run again' }, busy: false });
    expect(busy).toContain(true);
  });

  it('confirms a write before sending it again confirmed, the cell not busy while the dialog waits', async () => {
    const { steps, api, asked } = notebook({
      run: run(),
      api: { execute: async (_r, s, confirm) => (confirm ? execution(s, 1, { confirmed: true }) : Promise.reject(apiError('RB_ERR_RUN_CONFIRM_REQUIRED', confirmDetails))) },
    });
    expect(await steps.runStep('hold')).toMatchObject({ kind: 'ran', execution: { confirmed: true } });
    expect(asked).toEqual(['confirm step hold (busy: false)']);
    expect(api.calls).toEqual(['execute r1 hold false', 'execute r1 hold true']);
  });

  it('writes nothing when the confirmation is cancelled, and says so', async () => {
    const { steps, model, api } = notebook({
      run: run(),
      api: { execute: async () => Promise.reject(apiError('RB_ERR_RUN_CONFIRM_REQUIRED', confirmDetails)) },
      hooks: { confirmWrite: async () => false },
    });
    expect(await steps.runStep('hold')).toEqual({ kind: 'not-run', why: 'cancelled' });
    expect(api.calls).toEqual(['execute r1 hold false']);
    expect(model.stepState('hold')).toMatchObject({ busy: false, notice: { kind: 'info', text: 'Not run: you cancelled the write, so nothing was written.' } });
  });

  it('shows the approval request a write must wait for', async () => {
    const pending = approval('hold', 'pending');
    const { steps, model } = notebook({ run: run(), api: { execute: async () => Promise.reject(apiError('RB_ERR_RUN_APPROVAL_REQUIRED', { approval: pending })) } });
    expect(await steps.runStep('hold')).toEqual({ kind: 'not-run', why: 'approval' });
    expect(cellState(model, 'hold')).toMatchObject({ approval: pending, status: { text: 'Waiting for approval', kind: 'waiting' } });
  });

  it('shows why a step could not run, and refetches a run that ended meanwhile', async () => {
    const { steps, model, api } = notebook({
      run: run(),
      api: { execute: async () => Promise.reject(apiError('RB_ERR_RUN_NOT_ACTIVE')), run: async () => run({ status: 'expired' }) },
    });
    expect(await steps.runStep('find')).toEqual({ kind: 'not-run', why: 'error' });
    expect(model.stepState('find').notice).toMatchObject({ kind: 'error', title: 'The step could not run', error: { code: 'RB_ERR_RUN_NOT_ACTIVE' } });
    await new Promise((r) => setTimeout(r, 0));
    expect(api.calls).toEqual(['execute r1 find false', 'run r1']);
    expect(model.runState()).toBe('ended');
  });

  it('runs nothing where the server would refuse: no runner role, errors in the runbook, an ended run, missing inputs', async () => {
    const watcher = notebook({ me: bob, run: run() });
    expect(await watcher.steps.runStep('find')).toEqual({ kind: 'not-run', why: 'not-offered' });
    const broken = notebook({ runbook: runbook([step('find')], { problems: [{ file: 'f.md', line: 3, column: 1, message: 'bad' }] }) });
    expect(await broken.steps.runStep('find')).toEqual({ kind: 'not-run', why: 'blocked' });
    expect(broken.model.stepState('find').notice).toEqual({ kind: 'warning', text: 'This runbook has errors (listed at the top); fix them before running any step.' });
    const waiting = notebook({ run: run() });
    expect(await waiting.steps.runStep('orders')).toEqual({ kind: 'not-run', why: 'not-offered' });
    const ended = notebook({ run: run({ status: 'completed' }) });
    expect(await ended.steps.runStep('find')).toEqual({ kind: 'not-run', why: 'not-offered' });
    for (const n of [watcher, broken, waiting, ended]) expect(n.api.calls).toEqual([]);
  });

  it('says when the run did not start, and why', async () => {
    const failing = notebook({ api: { startRun: async () => Promise.reject(apiError('NETWORK', undefined, 0)) } });
    expect(await failing.steps.runStep('find')).toEqual({ kind: 'not-run', why: 'no-run' });
    expect(failing.model.stepState('find').notice).toMatchObject({ kind: 'error', title: 'The run did not start', error: { code: 'NETWORK' } });
    const invalid = notebook({ hooks: { params: () => undefined } });
    await invalid.steps.runStep('find');
    expect(invalid.model.stepState('find').notice).toEqual({ kind: 'warning', text: 'Not run: fix the parameters above first.' });
  });
});

describe('running every read step', () => {
  it('runs the reads in order, skipping writes, and stops at the first that does not succeed', async () => {
    const { steps, model, api, said } = notebook({
      run: run(),
      api: { execute: async (_r, s) => execution(s, 1, s === 'points' ? { status: 'failed', items: [], itemCount: 0 } : {}) },
    });
    const seen: string[] = [];
    const result = await steps.runAllReads((s) => seen.push(s.name));
    expect(seen).toEqual(['find', 'orders', 'points']);
    expect(api.calls).toEqual(['execute r1 find false', 'execute r1 orders false', 'execute r1 points false']);
    expect(result).toMatchObject({ ran: 2, stoppedAt: { name: 'points' } });
    const message = 'Stopped at “Loyalty points”: it did not succeed. 2 read steps succeeded before it.';
    expect(model.bar()).toMatchObject({ runningAll: false, status: message });
    expect(said).toEqual([message]);
  });

  it('says when every read succeeded, and runs only once at a time', async () => {
    const { steps, model } = notebook({ run: run(), api: { execute: async (_r, s) => execution(s, 1) } });
    const [first, second] = await Promise.all([steps.runAllReads(), steps.runAllReads()]);
    expect(first).toEqual({ ran: 3 });
    expect(second).toBeUndefined();
    expect(model.barStatus).toBe('All 3 read steps succeeded.');
  });
});

describe('reverting a write', () => {
  it('confirms the revert like a write, then shows the run as it is now', async () => {
    const { steps, api, asked, said } = notebook({
      run: run({ executions: [execution('hold', 1)] }),
      api: {
        revert: async (_r, s, n, confirm) => (confirm ? execution(s, 2, { revertOf: n }) : Promise.reject(apiError('RB_ERR_RUN_CONFIRM_REQUIRED', confirmDetails))),
        run: async () => run({ executions: [execution('hold', 1, { revertedBy: 2 }), execution('hold', 2, { revertOf: 1 })] }),
      },
    });
    expect(await steps.revert('hold', 1)).toBe('reverted');
    expect(asked).toEqual(['confirm revert hold (busy: false)']);
    expect(api.calls).toEqual(['revert r1 hold 1 false', 'revert r1 hold 1 true', 'run r1']);
    expect(said).toEqual(['Reverted execution 1 of Put the order on hold.']);
  });
});

describe('the next page', () => {
  it('says it is loading, then shows the longer execution', async () => {
    const { steps, model, said } = notebook({
      run: run({ executions: [execution('find', 1, { hasMore: true })] }),
      api: { more: async () => execution('find', 1, { pages: 2, itemCount: 150 }) },
    });
    const loading: boolean[] = [];
    model.onChange(() => loading.push(model.stepState('find').loadingMore));
    expect(await steps.nextPage('find')).toBe('loaded');
    expect(loading[0]).toBe(true);
    expect(model.stepState('find')).toMatchObject({ loadingMore: false, execution: { pages: 2 } });
    expect(said).toEqual(['150 items loaded for Find the customer.']);
  });

  it('shows why the page could not be loaded', async () => {
    const { steps, model } = notebook({ run: run(), api: { more: async () => Promise.reject(apiError('RB_ERR_RUN_NOT_ACTIVE')) } });
    expect(await steps.nextPage('find')).toBe('error');
    expect(model.stepState('find').notice).toMatchObject({ title: 'More items could not be loaded' });
  });
});

describe('deciding an approval in a cell', () => {
  it('records the decision on the step’s request or on its revert’s', async () => {
    const { steps, model, api, said } = notebook({
      me: bob,
      run: run({ approvals: { 'hold.revert': approval('hold.revert', 'pending') } }),
      api: { decide: async (_r, name, approve) => approval(name, approve ? 'approved' : 'denied', { decidedBy: 'bob' }) },
    });
    await steps.decide('hold', true, 'ok', 'revert');
    expect(api.calls).toEqual(['decide r1 hold.revert true ok']);
    expect(cellState(model, 'hold').revertApproval).toMatchObject({ status: 'approved', decidedBy: 'bob' });
    expect(said).toEqual(['Approved revert of step Put the order on hold.']);
  });

  it('shows a request that expired meanwhile as it is now, with why the decision was not recorded', async () => {
    const expired = approval('hold', 'expired', { reason: 'The request expired.' });
    const { steps, model } = notebook({
      me: { user: 'carol', roles: ['approver', 'runner'] },
      run: run({ approvals: { hold: approval('hold', 'pending', { requestedBy: alice.user }) } }),
      api: { decide: async () => Promise.reject(apiError('RB_ERR_APPROVAL_NOT_PENDING', { approval: expired })) },
    });
    expect(await steps.decide('hold', false, '', 'step')).toMatchObject({ kind: 'refused' });
    expect(cellState(model, 'hold')).toMatchObject({ approval: expired, notice: { kind: 'error', title: 'Your decision was not recorded' } });
  });
});
