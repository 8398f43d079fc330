import { describe, expect, it } from 'vitest';
import { cellState } from '../../client/notebook/cell-state.js';
import { alice, apiError, approval, bob, execution, run } from './fake-api.js';
import { notebook, orders } from './notebook-setup.js';

describe('loading the page', () => {
  it('loads a run with its own copy of the runbook, each cell with its last execution', async () => {
    const { runs, model, api } = notebook({ api: { run: async () => run({ executions: [execution('find', 1)] }), runRunbook: async () => orders } });
    expect(await runs.load({ runId: 'r1' })).toMatchObject({ kind: 'run', run: { id: 'r1' }, runbook: { id: 'shop/orders' } });
    expect(api.calls).toEqual(['run r1', 'runRunbook r1']);
    expect(cellState(model, 'find').status.text).toBe('Succeeded');
  });

  it('keeps the run when its runbook cannot be read, and says when a run does not exist', async () => {
    const unreadable = notebook({ api: { run: async () => run(), runRunbook: async () => Promise.reject(apiError('RB_ERR_RUNBOOK_GONE', undefined, 410)) } });
    expect(await unreadable.runs.load({ runId: 'r1' })).toMatchObject({ kind: 'run', runbookError: { code: 'RB_ERR_RUNBOOK_GONE' } });
    expect(unreadable.model.run?.id).toBe('r1');
    const missing = notebook({ api: { run: async () => Promise.reject(apiError('RB_ERR_RUN_NOT_FOUND', undefined, 404)) } });
    expect(await missing.runs.load({ runId: 'r9' })).toMatchObject({ kind: 'failed', what: 'run', notFound: true });
  });
});

describe('starting a run', () => {
  it('starts one run with the values given, however many controls ask at once, and the page becomes it', async () => {
    const started: string[] = [];
    const { runs, model, api, said } = notebook({
      api: { startRun: async () => run() },
      hooks: { runStarted: (r, values) => started.push(`${r.id} ${JSON.stringify(values)}`) },
    });
    const [a, b] = await Promise.all([runs.ensureRun(), runs.ensureRun()]);
    expect(a).toEqual({ kind: 'active', run: model.run });
    expect(b).toBe(a);
    // Empty values are not given: the server applies the defaults.
    expect(api.calls).toEqual(['startRun shop/orders {"customerId":"C1"}']);
    expect(started).toEqual(['r1 {"customerId":"C1","note":""}']);
    expect(said).toEqual(['Run r1 started.']);
    expect(await runs.ensureRun()).toEqual({ kind: 'active', run: model.run });
  });

  it('starts nothing while the form shows invalid values, and hands the server’s refusals to the form', async () => {
    const invalid = notebook({ hooks: { params: () => undefined } });
    expect(await invalid.runs.ensureRun()).toEqual({ kind: 'invalid' });
    expect(invalid.api.calls).toEqual([]);
    const failures: string[] = [];
    const problems = [{ param: 'customerId', message: 'must match ^C\\d+$' }];
    const refused = notebook({
      api: { startRun: async () => Promise.reject(apiError('RB_ERR_PARAM_INVALID', { params: problems }, 400)) },
      hooks: { startFailed: (f) => failures.push(f.kind) },
    });
    expect(await refused.runs.ensureRun()).toMatchObject({ kind: 'params', problems });
    expect(failures).toEqual(['params']);
    expect(refused.model.run).toBeUndefined();
  });

  it('runs nothing more on a run that has ended', async () => {
    const { runs } = notebook({ run: run({ status: 'completed' }) });
    expect(await runs.ensureRun()).toEqual({ kind: 'ended' });
  });
});

describe('completing the run', () => {
  const withRequests = () => run({ approvals: { hold: approval('hold', 'pending'), 'hold.revert': approval('hold.revert', 'approved', { decidedBy: 'bob' }) } });

  it('asks first when completing cancels open requests, naming them; declined, it completes nothing', async () => {
    const { runs, api, asked } = notebook({ run: withRequests(), hooks: { confirmComplete: async (open) => (asked.push(`${open.length} open`), false) } });
    expect(await runs.complete()).toBe('cancelled');
    expect(asked).toEqual(['2 open']);
    expect(api.calls).toEqual([]);
  });

  it('completes, revoking the sessions, and says so', async () => {
    const { runs, model, api, asked, said } = notebook({
      run: withRequests(),
      api: { complete: async () => run({ status: 'completed', endReason: 'complete', revocation: { at: '', sessions: 2, iam: 'off' } }) },
    });
    expect(await runs.complete()).toBe('completed');
    expect(asked).toEqual(['complete? Put the order on hold: pending, Revert of Put the order on hold: approved']);
    expect(api.calls).toEqual(['complete r1']);
    expect(model.runState()).toBe('ended');
    expect(model.barStatus).toBeUndefined();
    expect(said).toEqual(['Run completed: 2 sessions revoked.']);
  });

  it('shows a refusal in the run bar and, when the run had already ended, the run as it is now instead', async () => {
    const { runs, model, api } = notebook({
      run: run(),
      api: { complete: async () => Promise.reject(apiError('RB_ERR_RUN_NOT_ACTIVE')), run: async () => run({ status: 'expired', endReason: 'idle' }) },
    });
    const statuses: unknown[] = [];
    model.onChange((c) => c.type === 'bar' && statuses.push(model.barStatus));
    expect(await runs.complete()).toBe('failed');
    expect(statuses.at(-1)).toMatchObject({ title: 'The run could not be completed', error: { code: 'RB_ERR_RUN_NOT_ACTIVE' } });
    await new Promise((r) => setTimeout(r, 0));
    expect(api.calls).toEqual(['complete r1', 'run r1']);
    // The run as it is now says why: it ended before.
    expect(model.runState()).toBe('ended');
    expect(model.barStatus).toBeUndefined();
  });
});

describe('before a new run', () => {
  it('offers to complete the run in progress: complete, keep, or stay', async () => {
    const completing = notebook({ run: run(), api: { complete: async () => run({ status: 'completed' }) } });
    expect(await completing.runs.beforeNewRun()).toBe(true);
    expect(completing.asked).toEqual(['complete r1 first?']);
    expect(completing.api.calls).toEqual(['complete r1']);
    const keeping = notebook({ run: run(), hooks: { offerToComplete: async () => 'keep' } });
    expect(await keeping.runs.beforeNewRun()).toBe(true);
    expect(keeping.api.calls).toEqual([]);
    const staying = notebook({ run: run(), hooks: { offerToComplete: async () => 'cancel' } });
    expect(await staying.runs.beforeNewRun()).toBe(false);
  });

  it('stays when completing failed, and asks nothing of a user who may not complete the run', async () => {
    const failing = notebook({ run: run(), api: { complete: async () => Promise.reject(apiError('NETWORK', undefined, 0)) } });
    expect(await failing.runs.beforeNewRun()).toBe(false);
    const watcher = notebook({ me: bob, run: run() });
    expect(await watcher.runs.beforeNewRun()).toBe(true);
    expect(watcher.asked).toEqual([]);
    expect(notebook({ me: alice, run: run({ status: 'completed' }) }).model.offersToComplete()).toBe(false);
  });
});
