/**
 * What a cell's controls do, without the DOM: run a step (starting the run first if there is none)
 * through the confirmation and approval answers of a write, run every read step in order, revert a
 * write, load the next page of items, decide an approval. Like run-actions.ts, each takes the API
 * as given, asks the page through its callbacks, changes the model and resolves with its outcome.
 */
import type { ConfirmDetails } from '../api.js';
import { approvalName, itemTotal, type Execution, type StepView } from '../api-types.js';
import { DECISION_REFUSED, decisionSubject, sendDecision, type ApprovalKind, type DecisionOutcome } from '../approvals.js';
import { plural } from '../format.js';
import { toShownError } from '../shown-error.js';
import type { NotebookApi, NotebookHooks, RunActions } from './run-actions.js';
import type { RunModel } from './run-model.js';
import { attemptWrite, type Attempt } from './write-flow.js';

export type StepOutcome = { kind: 'ran'; execution: Execution } | { kind: 'not-run'; why: 'not-offered' | 'blocked' | 'no-run' | 'cancelled' | 'approval' | 'error' };

export type RevertOutcome = 'reverted' | 'not-offered' | 'cancelled' | 'approval' | 'error';

export class StepActions {
  constructor(
    private readonly api: NotebookApi,
    private readonly model: RunModel,
    private readonly hooks: NotebookHooks,
    private readonly runs: RunActions,
  ) {}

  /** Runs one step (starting a run first if needed), through confirmation where the server asks for it. */
  async runStep(name: string): Promise<StepOutcome> {
    const { model } = this;
    const step = model.step(name);
    // On a run, what its Run button allows; before one, anyone but a watcher (a runbook with errors is answered below).
    if (!step || (model.run ? !model.canRun(name) : model.access() === 'watch')) return notRun('not-offered');
    if (!model.runnable()) {
      model.setNotice(name, { kind: 'warning', text: 'This runbook has errors (listed at the top); fix them before running any step.' });
      return notRun('blocked');
    }
    const start = await this.runs.ensureRun();
    if (start.kind !== 'active') {
      if (start.kind === 'ended') model.setNotice(name, { kind: 'warning', text: 'This run has ended. Start a new run to run steps again.' });
      else if (start.kind === 'error') model.setNotice(name, { kind: 'error', title: 'The run did not start', error: start.error });
      else model.setNotice(name, { kind: 'warning', text: 'Not run: fix the parameters above first.' });
      return notRun('no-run');
    }
    const runId = start.run.id;
    model.setNotice(name, undefined);
    model.setBusy(name, true);
    try {
      const attempt = await attemptWrite(
        (confirm) => this.api.execute(runId, name, confirm),
        (details) => this.confirmIdle(step, details, 'step'),
      );
      if (attempt.kind !== 'ran') return notRun(this.settle(name, attempt, 'Not run: you cancelled the write, so nothing was written.'));
      const execution = attempt.result;
      model.recordExecution(execution);
      // A write that was performed but not yet recorded: say so plainly; the run is held.
      if (execution.unrecorded) model.setNotice(name, { kind: 'warning', text: execution.unrecorded.message });
      return { kind: 'ran', execution };
    } catch (err) {
      model.setNotice(name, { kind: 'error', title: 'The step could not run', error: toShownError(err) });
      this.runs.refreshIfEnded(err);
      return notRun('error');
    } finally {
      model.setBusy(name, false);
    }
  }

  /** Runs every read step in order; stops at the first that does not succeed. `before` sees each step first. */
  async runAllReads(before?: (step: StepView) => void): Promise<{ ran: number; stoppedAt?: StepView } | undefined> {
    const { model } = this;
    if (model.runningAll) return undefined;
    model.setBar({ runningAll: true, status: 'Running every read step in order…' });
    let stoppedAt: StepView | undefined;
    let ran = 0;
    try {
      for (const step of model.steps) {
        if (step.write) continue;
        before?.(step);
        const outcome = await this.runStep(step.name);
        if (outcome.kind !== 'ran' || outcome.execution.status !== 'succeeded') {
          stoppedAt = step;
          break;
        }
        ran += 1;
      }
    } finally {
      model.runningAll = false;
    }
    const message = stoppedAt
      ? `Stopped at “${stoppedAt.title}”: it did not succeed. ${plural(ran, 'read step')} succeeded before it.`
      : `All ${plural(ran, 'read step')} succeeded.`;
    model.setBar({ status: message });
    this.hooks.announce(message);
    return { ran, stoppedAt };
  }

  /** Puts back the before-images of execution `n`: a write, confirmed (and approved) like the step's own. */
  async revert(name: string, n: number): Promise<RevertOutcome> {
    const { model } = this;
    const run = model.run;
    const step = model.step(name);
    if (!run || !step || !model.runnable() || run.status !== 'active') return 'not-offered';
    model.setNotice(name, undefined);
    model.setBusy(name, true);
    try {
      const attempt = await attemptWrite(
        (confirm) => this.api.revert(run.id, name, n, confirm),
        (details) => this.confirmIdle(step, details, 'revert'),
      );
      if (attempt.kind !== 'ran') return this.settle(name, attempt, 'Not reverted: you cancelled, so nothing was written.');
      if (attempt.result) model.recordExecution(attempt.result);
      this.hooks.announce(`Reverted execution ${n} of ${step.title}.`);
      // The reverted execution now names the one that reverted it.
      await this.runs.refresh();
      return 'reverted';
    } catch (err) {
      model.setNotice(name, { kind: 'error', title: 'The write was not reverted', error: toShownError(err) });
      this.runs.refreshIfEnded(err);
      return 'error';
    } finally {
      model.setBusy(name, false);
    }
  }

  /** Loads the next page of a step's last execution. */
  async nextPage(name: string): Promise<'loaded' | 'not-offered' | 'error'> {
    const { model } = this;
    const run = model.run;
    if (!run) return 'not-offered';
    model.setLoadingMore(name, true);
    try {
      const execution = await this.api.more(run.id, name);
      model.recordExecution(execution);
      model.setNotice(name, undefined);
      this.hooks.announce(`${plural(itemTotal(execution), 'item')} loaded for ${model.titleOf(name)}.`);
      return 'loaded';
    } catch (err) {
      model.setNotice(name, { kind: 'error', title: 'More items could not be loaded', error: toShownError(err) });
      return 'error';
    } finally {
      model.setLoadingMore(name, false);
    }
  }

  /** Decides the pending request of a step, or of a revert of its write. */
  async decide(name: string, approve: boolean, comment: string, kind: ApprovalKind): Promise<DecisionOutcome | undefined> {
    const { model } = this;
    const run = model.run;
    if (!run) return undefined;
    const subject = decisionSubject(model.titleOf(name), kind);
    const outcome = await sendDecision(this.api, { runId: run.id, name: approvalName(name, kind === 'revert'), approve, comment, subject });
    if (outcome.approval) model.recordApproval(outcome.approval);
    if (outcome.kind === 'refused') {
      model.setNotice(name, { kind: 'error', title: DECISION_REFUSED, error: outcome.error });
    } else {
      model.setNotice(name, undefined);
      this.hooks.announce(outcome.message);
    }
    return outcome;
  }

  /** The step is not busy while its confirmation waits for the user. */
  private async confirmIdle(step: StepView, details: ConfirmDetails, kind: ApprovalKind): Promise<boolean> {
    this.model.setBusy(step.name, false);
    const ok = await this.hooks.confirmWrite(step, details, kind);
    if (ok) this.model.setBusy(step.name, true);
    return ok;
  }

  /** A write that did not run: cancelled in its dialog, or waiting for approval. */
  private settle(name: string, attempt: Exclude<Attempt<unknown>, { kind: 'ran' }>, cancelled: string): 'cancelled' | 'approval' {
    if (attempt.kind === 'cancelled') this.model.setNotice(name, { kind: 'info', text: cancelled });
    else if (attempt.approval) this.model.recordApproval(attempt.approval);
    else this.model.setNotice(name, { kind: 'warning', text: attempt.message });
    return attempt.kind;
  }
}

function notRun(why: Extract<StepOutcome, { kind: 'not-run' }>['why']): StepOutcome {
  return { kind: 'not-run', why };
}
