/**
 * A runbook as a notebook. Without a run it shows the parameter form; the first step run (or
 * "Start run") starts a run with those values and the page becomes that run (`#/runs/<id>`, so a
 * reload keeps it). With a run: the run bar (run-bar.ts), the parameters it runs with, and every
 * cell with its last execution. Other browsers' actions on the same run arrive as events and update
 * the cells as they happen. Run controls are offered only to runners, and not on a run another
 * process runs: the server would refuse them.
 *
 * The page only renders and wires: the run and what each cell shows belong to the run model
 * (notebook/run-model.ts), what the controls do to the actions (notebook/run-actions.ts,
 * notebook/step-actions.ts). The page renders each change the model reports, answers the actions'
 * questions with dialogs, and moves the focus and the scroll.
 */
import { api } from '../api.js';
import type { Run, RunbookView } from '../api-types.js';
import { h, replaceChildren } from '../dom.js';
import { cellState } from '../notebook/cell-state.js';
import { RunActions, type NotebookHooks } from '../notebook/run-actions.js';
import { RunModel, type ModelChange } from '../notebook/run-model.js';
import { StepActions } from '../notebook/step-actions.js';
import { proseElement } from '../prose.js';
import { routeHash } from '../router.js';
import { Cell, type CellControls } from './cell.js';
import type { View, ViewContext } from './context.js';
import { confirmComplete, confirmWrite, offerToComplete, REVERT_WRITE, STEP_WRITE } from './dialogs.js';
import { errorBox } from './error-box.js';
import { failedHeader, runbookHeader } from './notebook-header.js';
import { ParamForm } from './param-form.js';
import { renderRunBar } from './run-bar.js';
import { runParams, storedParams, storeParams } from './run-params.js';
import { takeIntro } from './step-prose.js';
import { paramList } from './watch-only.js';

export class NotebookView implements View {
  readonly element: HTMLElement;
  private readonly model: RunModel;
  private readonly runs: RunActions;
  private readonly steps: StepActions;
  private cells: Cell[] = [];
  private form?: ParamForm;
  /** the run whose parameters the params slot shows (undefined: none, the form or the list) */
  private paramsFor?: string;
  private readonly header = h('div', { class: 'nb-header' });
  private readonly runBar = h('div', { class: 'run-bar card', role: 'region', 'aria-label': 'Run' });
  private readonly paramsSlot = h('div', { class: 'params-slot' });
  private readonly sections = h('div', { class: 'sections' });
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly ctx: ViewContext,
    target: { runbookId: string } | { runId: string },
  ) {
    this.model = new RunModel(ctx.me);
    const hooks = this.hooks();
    this.runs = new RunActions(api, this.model, hooks);
    this.steps = new StepActions(api, this.model, hooks, this.runs);
    this.element = h('div', { class: 'notebook', 'aria-busy': 'true' }, this.header, this.runBar, this.paramsSlot, this.sections);
    this.sections.addEventListener('keydown', (event) => this.onKey(event));
    this.unsubscribe.push(ctx.live.onEvent((event) => this.model.applyEvent(event)));
    this.unsubscribe.push(
      ctx.live.onState((state, reconnected) => {
        // Events sent while disconnected are lost: the run as the server has it now.
        if (state === 'open' && reconnected && this.model.run) void this.runs.refresh();
      }),
    );
    this.header.append(h('p', { class: 'muted' }, 'Loading…'));
    void this.load(target);
  }

  destroy(): void {
    for (const off of this.unsubscribe) off();
  }

  private async load(target: { runbookId: string } | { runId: string }): Promise<void> {
    const loaded = await this.runs.load(target);
    this.element.setAttribute('aria-busy', 'false');
    if (loaded.kind === 'failed') {
      const heading = loaded.notFound ? `${loaded.what === 'run' ? 'Run' : 'Runbook'} not found` : `This ${loaded.what} cannot be shown`;
      replaceChildren(this.header, ...failedHeader(heading, loaded.error, `The ${loaded.what} could not be loaded`));
      return;
    }
    if (loaded.kind === 'run' && loaded.runbookError)
      replaceChildren(this.header, ...failedHeader(loaded.run.title, loaded.runbookError, 'The runbook of this run cannot be loaded'));
    else if (loaded.runbook) this.renderRunbook(loaded.runbook);
    this.renderParams();
    this.unsubscribe.push(this.model.onChange((change) => this.render(change)));
    this.render({ type: 'run' });
  }

  private render(change: ModelChange): void {
    if (change.type === 'step') {
      this.cellOf(change.step)?.update(cellState(this.model, change.step));
      return;
    }
    this.renderBar();
    if (change.type === 'bar') return;
    if (this.paramsFor !== this.model.run?.id) this.renderParams();
    for (const cell of this.cells) cell.update(cellState(this.model, cell.step.name));
  }

  private renderRunbook(rb: RunbookView): void {
    this.ctx.setTitle(rb.title);
    replaceChildren(this.header, ...runbookHeader(rb));
    this.cells = [];
    const nodes: Node[] = [];
    for (const section of rb.sections) {
      if (section.kind === 'prose') {
        nodes.push(proseElement(section.html));
        continue;
      }
      const cell = new Cell(section.step, this.cells.length, this.ctx.me, this.controlsOf(section.step.name), takeIntro(nodes.at(-1), section.step.title) ?? []);
      if (nodes.at(-1)?.textContent?.trim() === '') nodes.pop();
      this.cells.push(cell);
      nodes.push(cell.element);
    }
    this.sections.replaceChildren(...nodes);
  }

  private renderBar(): void {
    renderRunBar(this.runBar, this.model.bar(), this.ctx.me, {
      onRunAll: () => void this.runAllReads(),
      onComplete: () => void this.runs.complete(),
      onNewRun: (event) => this.followNewRun(event),
    });
  }

  private renderParams(): void {
    const { runbook, run } = this.model;
    this.paramsFor = run?.id;
    this.form = undefined;
    if (run) {
      this.paramsSlot.replaceChildren(runParams(run, this.model.access() === 'watch' ? undefined : (event) => this.followNewRun(event, run.params)));
    } else if (runbook && this.model.access() === 'watch') {
      this.paramsSlot.replaceChildren(paramList(runbook.params));
    } else if (runbook) {
      this.form = new ParamForm(runbook.params, storedParams(runbook.id), 'Start run', () => void this.runs.ensureRun());
      this.paramsSlot.replaceChildren(this.form.element);
    }
  }

  private cellOf(step: string): Cell | undefined {
    return this.cells.find((c) => c.step.name === step);
  }

  /** What a cell's controls do: the actions, and where the focus goes after them. */
  private controlsOf(step: string): CellControls {
    return {
      run: () => void this.steps.runStep(step),
      more: () => void this.steps.nextPage(step).then((outcome) => outcome !== 'not-offered' && this.cellOf(step)?.focusResults()),
      revert: (n) => void this.steps.revert(step, n),
      decide: async (approve, comment, kind) => {
        await this.steps.decide(step, approve, comment, kind);
      },
      notice: (notice) => this.model.setNotice(step, notice),
    };
  }

  /** The actions' questions, answered in dialogs; a started run becomes the page's address. */
  private hooks(): NotebookHooks {
    return {
      params: () => (this.form?.validate() ? this.form.values() : undefined),
      runStarted: (run: Run, values) => {
        storeParams(run.runbook, values);
        // replaceState: the page becomes the run without a hashchange re-rendering it.
        history.replaceState(null, '', routeHash({ name: 'run', id: run.id }));
      },
      startFailed: (failure) => {
        if (failure.kind === 'params') this.form?.showServerErrors(failure.problems);
        if (failure.kind === 'error' || failure.problems.length === 0) this.form?.showError(errorBox(failure.error, 'The run did not start'));
      },
      confirmWrite: (step, details, kind) => confirmWrite(step.title, details, kind === 'revert' ? REVERT_WRITE : STEP_WRITE),
      confirmComplete: (open) => confirmComplete(open),
      offerToComplete: (run) => offerToComplete(run.id, run.title),
      announce: (text) => this.ctx.announce(text),
    };
  }

  /** Runs every read step, each cell scrolled into view as it runs; the one that stopped it gets the focus. */
  private async runAllReads(): Promise<void> {
    const result = await this.steps.runAllReads((step) => this.cellOf(step.name)?.element.scrollIntoView({ block: 'nearest' }));
    const stopped = result?.stoppedAt && this.cellOf(result.stoppedAt.name);
    if (stopped) {
      stopped.element.focus();
      stopped.element.scrollIntoView({ block: 'start' });
    }
  }

  /**
   * A link to a new run of the runbook (with `params` filled in) was followed: from a run still in
   * progress that this user may complete, the actions ask first whether to complete it.
   */
  private followNewRun(event: Event, params?: Record<string, unknown>): void {
    const run = this.model.run;
    if (params && run) storeParams(run.runbook, params);
    if (!run || !this.model.offersToComplete()) return;
    event.preventDefault();
    void this.runs.beforeNewRun().then((go) => {
      if (go) location.hash = routeHash({ name: 'runbook', id: run.runbook });
    });
  }

  /** Shift+Enter runs the focused cell and moves to the next, Ctrl+Enter runs it in place (as in Jupyter). */
  private onKey(event: KeyboardEvent): void {
    if (event.key !== 'Enter' || !(event.shiftKey || event.ctrlKey || event.metaKey)) return;
    const target = event.target as HTMLElement;
    if (target.closest('textarea, input, select, dialog')) return;
    if (this.model.access() === 'watch' || this.model.run?.elsewhere) return;
    const section = target.closest('section.cell');
    const index = this.cells.findIndex((c) => c.element === section);
    if (index < 0) return;
    event.preventDefault();
    void this.steps.runStep(this.cells[index].step.name);
    const next = this.cells[index + 1];
    if (event.shiftKey && next) {
      next.element.focus({ preventScroll: true });
      next.element.scrollIntoView({ block: 'nearest' });
    }
  }
}
