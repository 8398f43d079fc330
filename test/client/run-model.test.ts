import { describe, expect, it } from 'vitest';
import { cellState } from '../../client/notebook/cell-state.js';
import { isNewer, RunModel, type ModelChange } from '../../client/notebook/run-model.js';
import { alice, approval, bob, execution, run, runbook, step } from './fake-api.js';
import { orders } from './notebook-setup.js';

function model(me = alice, rb = orders) {
  const m = new RunModel(me);
  m.setRunbook(rb);
  const changes: string[] = [];
  m.onChange((c: ModelChange) => changes.push(c.type === 'step' ? `step ${c.step}` : c.type));
  return { m, changes };
}

describe('isNewer (a cell never goes back to an older state of its execution)', () => {
  it('takes a later execution, or a later page of the same one', () => {
    expect(isNewer(undefined, execution('s', 1))).toBe(true);
    expect(isNewer(execution('s', 1), execution('s', 2, { status: 'failed' }))).toBe(true);
    expect(isNewer(execution('s', 1), execution('s', 1, { pages: 2 }))).toBe(true);
    expect(isNewer(execution('s', 1, { pages: 2 }), execution('s', 1, { pages: 2 }))).toBe(true);
  });
  it('ignores an older execution or an earlier page arriving late', () => {
    expect(isNewer(execution('s', 2), execution('s', 1, { pages: 3 }))).toBe(false);
    expect(isNewer(execution('s', 1, { pages: 2 }), execution('s', 1))).toBe(false);
  });
});

describe('RunModel', () => {
  it('shows each step its last execution of the run, and never an older state that arrives late', () => {
    const { m, changes } = model();
    m.applyRun(run({ executions: [execution('find', 1), execution('find', 2, { status: 'failed' }), execution('points', 1)] }));
    expect(changes).toEqual(['run']);
    expect(cellState(m, 'find').execution?.n).toBe(2);
    expect(cellState(m, 'find').status).toEqual({ text: 'Failed', kind: 'failed' });
    expect(cellState(m, 'points').status).toEqual({ text: 'Succeeded', kind: 'succeeded' });
    expect(cellState(m, 'hold').status).toEqual({ text: 'Not run', kind: 'idle' });
    // A refetch that raced a later page keeps the later page.
    m.recordExecution(execution('points', 1, { pages: 2 }));
    m.applyRun(run({ executions: [execution('points', 1)] }));
    expect(cellState(m, 'points').execution?.pages).toBe(2);
  });

  it('says which steps a cell waits for: all it uses before the run, those without items while active, none once ended', () => {
    const { m, changes } = model();
    expect(cellState(m, 'orders').waitingFor).toEqual(['Find the customer']);
    expect(cellState(m, 'orders').runButton).toEqual({ offered: true, enabled: false, text: 'Run' });
    m.applyRun(run());
    m.recordExecution(execution('find', 1, { items: [], itemCount: 0, count: 0 }));
    expect(cellState(m, 'orders').waitingFor).toEqual(['Find the customer']);
    changes.length = 0;
    m.recordExecution(execution('find', 2));
    // The step itself and the one that uses it change.
    expect(changes).toEqual(['step find', 'step orders']);
    expect(cellState(m, 'orders').waitingFor).toEqual([]);
    expect(cellState(m, 'orders').runButton).toEqual({ offered: true, enabled: true, text: 'Run' });
    m.applyRun(run({ status: 'completed', executions: [] }));
    expect(cellState(m, 'orders').waitingFor).toEqual([]);
    expect(cellState(m, 'orders').runButton.enabled).toBe(false);
  });

  it('offers run controls to runners only, disabled on a runbook with errors, absent on a run another process runs', () => {
    expect(model(bob).m.access()).toBe('watch');
    expect(cellState(model(bob).m, 'find').runButton.offered).toBe(false);
    const broken = model(alice, runbook([step('find')], { problems: [{ file: 'f.md', line: 1, column: 1, message: 'bad' }] })).m;
    expect(broken.access()).toBe('blocked');
    expect(cellState(broken, 'find').runButton).toEqual({ offered: true, enabled: false, text: 'Run' });
    const { m } = model();
    m.applyRun(run({ elsewhere: 'runbooks run (pid 42)' }));
    expect(m.runState()).toBe('elsewhere');
    expect(m.runnable()).toBe(false);
    expect(cellState(m, 'find').runButton.offered).toBe(false);
  });

  it('follows the run’s events: started by someone else, finished, approvals, completion; other runs’ events change nothing', () => {
    const { m, changes } = model();
    m.applyRun(run());
    changes.length = 0;
    m.applyEvent({ type: 'step.started', runId: 'other', step: 'find', n: 1, user: 'carol' });
    expect(changes).toEqual([]);
    m.applyEvent({ type: 'step.started', runId: 'r1', step: 'find', n: 1, user: 'carol' });
    expect(cellState(m, 'find').status).toEqual({ text: 'Running (carol)…', kind: 'running' });
    m.applyEvent({ type: 'step.succeeded', runId: 'r1', step: 'find', execution: execution('find', 1, { user: 'carol' }) });
    expect(cellState(m, 'find').status).toEqual({ text: 'Succeeded', kind: 'succeeded' });
    m.applyEvent({ type: 'approval.requested', runId: 'r1', step: 'hold', approval: approval('hold', 'pending') });
    m.applyEvent({ type: 'approval.requested', runId: 'r1', step: 'hold', approval: approval('hold.revert', 'pending') });
    expect(cellState(m, 'hold').status).toEqual({ text: 'Waiting for approval', kind: 'waiting' });
    expect(cellState(m, 'hold').revertApproval?.step).toBe('hold.revert');
    expect(changes).toEqual(['step find', 'step find', 'step orders', 'step hold', 'step hold']);
    m.applyEvent({ type: 'run.completed', run: run({ status: 'completed', executions: [execution('find', 1)] }) });
    expect(m.runState()).toBe('ended');
  });

  it('names the requests completing would cancel, a revert as one', () => {
    const { m } = model();
    m.applyRun(run({ approvals: { hold: approval('hold', 'approved'), 'hold.revert': approval('hold.revert', 'pending'), points: approval('points', 'used') } }));
    expect(m.openApprovals().map((o) => `${o.title}: ${o.approval.status}`)).toEqual(['Put the order on hold: approved', 'Revert of Put the order on hold: pending']);
  });

  it('gives the run bar what it shows', () => {
    const { m, changes } = model(bob);
    expect(m.bar()).toEqual({ run: undefined, watching: true, runnable: false, hasReads: true, runningAll: false, status: undefined });
    m.setBar({ runningAll: true, status: 'Running every read step in order…' });
    expect(m.bar()).toMatchObject({ runningAll: true, status: 'Running every read step in order…' });
    expect(changes).toEqual(['bar']);
    // The run starting meanwhile does not end what the bar says while every read runs…
    m.applyRun(run());
    expect(m.bar().status).toBe('Running every read step in order…');
    // …but a new state of the run ends what it said about its last action.
    m.setBar({ runningAll: false, status: 'All 3 read steps succeeded.' });
    m.applyRun(run({ status: 'completed' }));
    expect(m.bar()).toMatchObject({ runningAll: false, status: undefined, run: { status: 'completed' } });
  });
});
