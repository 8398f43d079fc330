/**
 * A notebook without a page, for unit tests of its model and actions: the run model, the run and
 * step actions over a fake API (fake-api.ts), and the page's answers as the test scripts them,
 * each question and announcement recorded.
 */
import type { Api } from '../../client/api.js';
import type { Me, Run, RunbookView } from '../../client/api-types.js';
import { RunActions, type NotebookHooks } from '../../client/notebook/run-actions.js';
import { RunModel } from '../../client/notebook/run-model.js';
import { StepActions } from '../../client/notebook/step-actions.js';
import { alice, fakeApi, runbook, step } from './fake-api.js';

export const orders = runbook([
  step('find', { title: 'Find the customer' }),
  step('orders', { title: 'Their orders', uses: ['find'] }),
  step('hold', { title: 'Put the order on hold', write: true, needsApproval: true }),
  step('points', { title: 'Loyalty points' }),
]);

export function notebook(setup: { api?: Partial<Api>; me?: Me; runbook?: RunbookView; run?: Run; hooks?: Partial<NotebookHooks> }) {
  const api = fakeApi(setup.api ?? {});
  const model = new RunModel(setup.me ?? alice);
  model.setRunbook(setup.runbook ?? orders);
  if (setup.run) model.applyRun(setup.run);
  const said: string[] = [];
  const asked: string[] = [];
  const hooks: NotebookHooks = {
    params: () => ({ customerId: 'C1', note: '' }),
    runStarted: () => undefined,
    startFailed: () => undefined,
    confirmWrite: async (s, _details, kind) => {
      asked.push(`confirm ${kind} ${s.name} (busy: ${model.stepState(s.name).busy})`);
      return true;
    },
    confirmComplete: async (open) => {
      asked.push(`complete? ${open.map((o) => `${o.title}: ${o.approval.status}`).join(', ')}`);
      return true;
    },
    offerToComplete: async (run) => {
      asked.push(`complete ${run.id} first?`);
      return 'complete';
    },
    announce: (text) => said.push(text),
    ...setup.hooks,
  };
  const runs = new RunActions(api, model, hooks);
  const steps = new StepActions(api, model, hooks, runs);
  return { api, model, runs, steps, said, asked };
}
