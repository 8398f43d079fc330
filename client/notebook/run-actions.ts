/**
 * What the notebook does with its run as a whole, without the DOM, as JupyterLab's notebook actions:
 * load the page's run or runbook, refetch the run, start one from the form's values, complete it
 * (asking first when that cancels open approval requests), and offer to complete it before a new
 * run. step-actions.ts does what a cell's controls do. Both take the API as given (tests give a
 * fake), ask the page through callbacks where a person must answer, change the model (which the
 * views render), and resolve with their outcome.
 */
import { ApiError, type Api, type ConfirmDetails } from '../api.js';
import type { Run, RunbookView, StepView } from '../api-types.js';
import type { ApprovalKind } from '../approvals.js';
import { plural } from '../format.js';
import type { FormValues } from '../param-check.js';
import { toShownError, type ShownError } from '../shown-error.js';
import type { OpenApproval, RunModel } from './run-model.js';

export type NotebookApi = Pick<Api, 'run' | 'runbook' | 'runRunbook' | 'startRun' | 'execute' | 'revert' | 'more' | 'decide' | 'complete'>;

/** What to do with the run in progress when starting a new one. */
export type NewRunChoice = 'complete' | 'keep' | 'cancel';

/** Why a run did not start: the server refused parameters (listed), or something else failed. */
export type StartFailure = { kind: 'params'; problems: Array<{ param: string; message: string }>; error: ShownError } | { kind: 'error'; error: ShownError };

/** The page's answers where the actions need a person or the browser. */
export interface NotebookHooks {
  /** the values to start a run with, or undefined when the form shows why they are not valid */
  params(): FormValues | undefined;
  /** a run started with these values: the page becomes that run */
  runStarted(run: Run, values: FormValues): void;
  startFailed(failure: StartFailure): void;
  /** asks to confirm a write of the step (or the revert of one), showing exactly what will run; true sends it */
  confirmWrite(step: StepView, details: ConfirmDetails, kind: ApprovalKind): Promise<boolean>;
  /** completing cancels these requests: true completes anyway */
  confirmComplete(open: OpenApproval[]): Promise<boolean>;
  /** a new run from this one, still active: complete it first, keep it, or stay */
  offerToComplete(run: Run): Promise<NewRunChoice>;
  /** says something to screen readers */
  announce(text: string): void;
}

export type LoadOutcome =
  | { kind: 'runbook'; runbook: RunbookView }
  /** a run, with its own copy of the runbook unless that could not be read */
  | { kind: 'run'; run: Run; runbook?: RunbookView; runbookError?: ShownError }
  | { kind: 'failed'; what: 'run' | 'runbook'; notFound: boolean; error: ShownError };

/** The active run (started now or before), or why there is none. */
export type StartOutcome = { kind: 'active'; run: Run } | { kind: 'ended' } | { kind: 'invalid' } | StartFailure;

export class RunActions {
  private starting?: Promise<StartOutcome>;

  constructor(
    private readonly api: NotebookApi,
    private readonly model: RunModel,
    private readonly hooks: NotebookHooks,
  ) {}

  /** Loads the run (with its own copy of the runbook) or the runbook into the model. */
  async load(target: { runbookId: string } | { runId: string }): Promise<LoadOutcome> {
    const what = 'runId' in target ? 'run' : 'runbook';
    let outcome: LoadOutcome;
    try {
      if ('runId' in target) {
        const run = await this.api.run(target.runId);
        outcome = await this.api.runRunbook(run.id).then(
          (runbook): LoadOutcome => ({ kind: 'run', run, runbook }),
          (err: unknown): LoadOutcome => ({ kind: 'run', run, runbookError: toShownError(err) }),
        );
      } else {
        outcome = { kind: 'runbook', runbook: await this.api.runbook(target.runbookId) };
      }
    } catch (err) {
      return { kind: 'failed', what, notFound: err instanceof ApiError && err.status === 404, error: toShownError(err) };
    }
    if (outcome.kind !== 'failed' && outcome.runbook) this.model.setRunbook(outcome.runbook);
    if (outcome.kind === 'run') this.model.applyRun(outcome.run);
    return outcome;
  }

  /** The run as the server has it now; a failure is shown by the next action where it happens. */
  async refresh(): Promise<void> {
    const run = this.model.run;
    if (!run) return;
    try {
      this.model.applyRun(await this.api.run(run.id));
    } catch {
      // The next reconnect or action shows the error where it happens.
    }
  }

  /** The active run, starting one with the form's values when there is none. */
  ensureRun(): Promise<StartOutcome> {
    const { model } = this;
    if (model.run) return Promise.resolve(model.run.status === 'active' ? { kind: 'active', run: model.run } : { kind: 'ended' });
    if (this.starting) return this.starting;
    const runbook = model.runbook;
    const values = runbook ? this.hooks.params() : undefined;
    if (!runbook || !values) return Promise.resolve({ kind: 'invalid' });
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (v !== '') params[k] = v;
    this.starting = this.api
      .startRun(runbook.id, params)
      .then(
        (run): StartOutcome => {
          this.hooks.runStarted(run, values);
          model.applyRun(run);
          this.hooks.announce(`Run ${run.id} started.`);
          return { kind: 'active', run };
        },
        (err: unknown): StartOutcome => {
          const error = toShownError(err);
          const failure: StartFailure =
            err instanceof ApiError && err.code === 'RB_ERR_PARAM_INVALID'
              ? { kind: 'params', problems: (err.details as { params?: Array<{ param: string; message: string }> } | undefined)?.params ?? [], error }
              : { kind: 'error', error };
          this.hooks.startFailed(failure);
          return failure;
        },
      )
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }

  /** Completes the run; asks first when that cancels open approval requests, naming them. */
  async complete(): Promise<'completed' | 'cancelled' | 'failed' | 'not-offered'> {
    const { model } = this;
    const run = model.run;
    if (!run) return 'not-offered';
    const open = model.openApprovals();
    if (open.length > 0) {
      if (!(await this.hooks.confirmComplete(open))) return 'cancelled';
      // It may have ended meanwhile (in another browser, or by idling out).
      if (model.run?.id !== run.id || model.run.status !== 'active') return 'cancelled';
    }
    model.setBar({ status: 'Completing the run and revoking its sessions…' });
    try {
      const done = await this.api.complete(run.id);
      model.applyRun(done);
      this.hooks.announce(`Run completed: ${plural(done.revocation?.sessions ?? 0, 'session')} revoked.`);
      return 'completed';
    } catch (err) {
      model.setBar({ status: { title: 'The run could not be completed', error: toShownError(err) } });
      this.refreshIfEnded(err);
      return 'failed';
    }
  }

  /**
   * Before leaving for a new run of the runbook: from a run still in progress that this user may
   * complete, asks whether to complete it first, so that runs are not left active behind each new
   * attempt. Resolves true to go on to the new run.
   */
  async beforeNewRun(): Promise<boolean> {
    const { model } = this;
    const run = model.run;
    if (!run || !model.offersToComplete()) return true;
    const choice = await this.hooks.offerToComplete(run);
    if (choice === 'cancel') return false;
    if (choice === 'complete') {
      await this.complete();
      if (model.run?.status === 'active') return false;
    }
    return true;
  }

  /** A run that ended meanwhile refuses every action: show it as it is. */
  refreshIfEnded(err: unknown): void {
    if (err instanceof ApiError && err.code === 'RB_ERR_RUN_NOT_ACTIVE') void this.refresh();
  }
}
