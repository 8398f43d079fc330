/**
 * What a cell shows, derived from the run model without the DOM: the step's newest execution and
 * approvals, the status line, whether the Run button is offered and may be pressed, which earlier
 * steps it waits for. views/cell.ts renders it.
 */
import type { Approval, Execution, Me, StepView } from '../api-types.js';
import type { CellNotice, RunAccess, RunModel, RunState, StepState } from './run-model.js';

export interface CellState {
  step: StepView;
  runId?: string;
  runState: RunState;
  access: RunAccess;
  /** this page may act on the run's steps (Load more, Revert, run an approved request): a runner, on an active run this server runs */
  canAct: boolean;
  execution?: Execution;
  approval?: Approval;
  /** the approval of a revert of the step's write (`<step>.revert`) */
  revertApproval?: Approval;
  /** titles of the earlier steps whose outputs the step uses and that have not found an item yet */
  waitingFor: string[];
  busy: boolean;
  loadingMore: boolean;
  notice?: CellNotice;
  status: { text: string; kind: 'idle' | 'running' | 'waiting' | 'succeeded' | 'failed' };
  /** the Run button: not offered without run controls; disabled where the step cannot run now */
  runButton: { offered: boolean; enabled: boolean; text: 'Run' | 'Run again' };
}

/** Everything the cell of step `name` renders, as of now. */
export function cellState(model: RunModel, name: string): CellState {
  const step = model.step(name);
  if (!step) throw new Error(`The runbook has no step ${name}.`);
  const s = model.stepState(name);
  const runState = model.runState();
  const access = model.access();
  const approval = model.approval(name, 'step');
  const waitingFor = model.waitingFor(name).map((used) => model.titleOf(used));
  return {
    step,
    runId: model.run?.id,
    runState,
    access,
    canAct: runState === 'active' && access === 'run',
    execution: s.execution,
    approval,
    revertApproval: model.approval(name, 'revert'),
    waitingFor,
    busy: s.busy,
    loadingMore: s.loadingMore,
    notice: s.notice,
    status: statusOf(s, approval, model.me),
    runButton: {
      offered: access !== 'watch' && runState !== 'elsewhere',
      enabled: model.canRun(name),
      text: s.execution ? 'Run again' : 'Run',
    },
  };
}

/** Running (and by whom, when it is someone else), waiting for approval, or how the last execution ended. */
function statusOf(s: Readonly<StepState>, approval: Approval | undefined, me: Me): CellState['status'] {
  if (s.busy || s.startedBy !== undefined || s.execution?.status === 'running') {
    return { text: s.startedBy && s.startedBy.user !== me.user ? `Running (${s.startedBy.user})…` : 'Running…', kind: 'running' };
  }
  if (approval?.status === 'pending') return { text: 'Waiting for approval', kind: 'waiting' };
  if (s.execution?.status === 'succeeded') return { text: 'Succeeded', kind: 'succeeded' };
  if (s.execution?.status === 'failed') return { text: 'Failed', kind: 'failed' };
  return { text: 'Not run', kind: 'idle' };
}
