/**
 * A runbook as a notebook. Without a run it shows the parameter form; the first step run (or
 * "Start run") starts a run with those values and the page becomes that run (`#/runs/<id>`, so a
 * reload keeps it). With a run: the run bar (run-bar.ts), the parameters it runs with, and every
 * cell with its last execution. Other browsers' actions on the same run arrive as events and update
 * the cells as they happen. Run controls are offered only to runners, and not on a run another
 * process runs: the server would refuse them.
 */
import { api, ApiError } from '../api.js';
import { approvalName, approvalTarget, hasRole, itemTotal, type Approval, type Execution, type Run, type RunbookDetail, type RunEvent } from '../api-types.js';
import { approvalTitle, DECISION_REFUSED, decisionSubject, sendDecision, type ApprovalKind } from '../approvals.js';
import { h, replaceChildren } from '../dom.js';
import { plural } from '../format.js';
import type { FormValues } from '../param-check.js';
import { proseElement } from '../prose.js';
import { routeHash } from '../router.js';
import { toShownError, type ShownError } from '../shown-error.js';
import { Cell, type CellHost, type RunAccess } from './cell.js';
import type { View, ViewContext } from './context.js';
import { confirmComplete, offerToComplete, confirmWrite, REVERT_WRITE } from './dialogs.js';
import { errorBox } from './error-box.js';
import { ParamForm } from './param-form.js';
import { renderRunBar } from './run-bar.js';
import { takeIntro } from './step-prose.js';
import { paramList } from './watch-only.js';
import { attemptWrite, type Attempt } from './write-flow.js';

const STORED_PARAMS = 'rb:params:';

function storedParams(runbookId: string): FormValues {
  try {
    return JSON.parse(sessionStorage.getItem(STORED_PARAMS + runbookId) ?? '{}') as FormValues;
  } catch {
    return {};
  }
}

function storeParams(runbookId: string, values: Record<string, unknown>): void {
  const strings: FormValues = {};
  for (const [k, v] of Object.entries(values)) strings[k] = String(v);
  sessionStorage.setItem(STORED_PARAMS + runbookId, JSON.stringify(strings));
}

export class NotebookView implements View, CellHost {
  readonly element: HTMLElement;
  readonly me;
  private runbook?: RunbookDetail;
  private run?: Run;
  private cells: Cell[] = [];
  private form?: ParamForm;
  private starting?: Promise<Run | undefined>;
  /** why the last attempt to start a run failed, when it was not the parameters */
  private startError?: ShownError;
  private runningAll = false;
  /** the run whose parameters the params slot shows (undefined: the form) */
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
    this.me = ctx.me;
    this.element = h('div', { class: 'notebook', 'aria-busy': 'true' }, this.header, this.runBar, this.paramsSlot, this.sections);
    this.sections.addEventListener('keydown', (event) => this.onKey(event));
    this.unsubscribe.push(ctx.live.onEvent((event) => this.onEvent(event)));
    this.unsubscribe.push(
      ctx.live.onState((state, reconnected) => {
        // Events sent while disconnected are lost: the run as the server has it now.
        if (state === 'open' && reconnected && this.run) void this.refresh();
      }),
    );
    this.header.append(h('p', { class: 'muted' }, 'Loading…'));
    void this.load(target);
  }

  destroy(): void {
    for (const off of this.unsubscribe) off();
  }

  runId(): string | undefined {
    return this.run?.id;
  }

  // -- loading -----------------------------------------------------------------------------------

  private async load(target: { runbookId: string } | { runId: string }): Promise<void> {
    try {
      if ('runId' in target) {
        this.run = await api.run(target.runId);
        this.runbook = await api.runRunbook(this.run.id).catch((err: unknown) => {
          this.header.replaceChildren(this.breadcrumbs(this.run?.title ?? this.run?.runbook ?? ''), h('h1', {}, this.run?.title ?? 'Run'), errorBox(toShownError(err), 'The runbook of this run cannot be loaded'));
          return undefined;
        });
        if (!this.runbook) {
          this.element.setAttribute('aria-busy', 'false');
          this.renderRunBar();
          this.renderParams();
          return;
        }
      } else {
        this.runbook = await api.runbook(target.runbookId);
      }
    } catch (err) {
      this.element.setAttribute('aria-busy', 'false');
      const what = 'runId' in target ? 'run' : 'runbook';
      const heading = err instanceof ApiError && err.status === 404 ? `${what === 'run' ? 'Run' : 'Runbook'} not found` : `This ${what} cannot be shown`;
      this.header.replaceChildren(this.breadcrumbs(heading), h('h1', {}, heading), errorBox(toShownError(err), `The ${what} could not be loaded`));
      return;
    }
    this.element.setAttribute('aria-busy', 'false');
    this.renderRunbook(this.runbook);
    if (this.run) this.applyRun(this.run);
    else {
      this.renderRunBar();
      this.renderParams();
      for (const cell of this.cells) cell.setRunState('none', this.access());
      this.renderWaiting();
    }
  }

  private async refresh(): Promise<void> {
    if (!this.run) return;
    try {
      this.applyRun(await api.run(this.run.id));
    } catch {
      // The next reconnect or action shows the error where it happens.
    }
  }

  private breadcrumbs(current: string): HTMLElement {
    return h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumbs' }, h('a', { href: '#/' }, 'Runbooks'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', { 'aria-current': 'page' }, current));
  }

  /** What this user may do with steps here (a run another process runs is handled as a run state). */
  private access(): RunAccess {
    if (!hasRole(this.ctx.me, 'runner')) return 'watch';
    return (this.runbook?.problems.length ?? 0) === 0 ? 'run' : 'blocked';
  }

  private runnable(): boolean {
    // A run another process runs (`runbooks run`, another server on the data folder) is only watched here.
    return this.access() === 'run' && !this.run?.elsewhere;
  }

  private renderRunbook(rb: RunbookDetail): void {
    this.ctx.setTitle(rb.title);
    replaceChildren(
      this.header,
      this.breadcrumbs(rb.title),
      h('h1', {}, rb.title),
      rb.description ? h('p', { class: 'description' }, rb.description) : null,
      h(
        'p',
        { class: 'nb-facts' },
        h('code', { class: 'chip' }, rb.id),
        rb.tags.map((t) => h('span', { class: 'tag' }, t)),
        h('span', { class: 'muted' }, `${plural(rb.sections.filter((s) => s.kind === 'step').length, 'step')} · sessions last up to ${Math.round(rb.access.duration / 60)} min · approval: ${rb.access.approval}`),
      ),
      rb.problems.length > 0
        ? h(
            'div',
            { class: 'error-box', role: 'alert' },
            h('p', { class: 'error-title' }, h('strong', {}, 'This runbook has errors and cannot run until they are fixed')),
            h('ul', { class: 'problems' }, rb.problems.map((p) => h('li', { class: 'mono' }, `${p.file}:${p.line}:${p.column}: ${p.message}`))),
            h('p', { class: 'error-advice' }, 'Fix each line named above (`runbooks check` lists the same errors), then reload.'),
          )
        : null,
    );
    this.cells = [];
    const nodes: Node[] = [];
    for (const section of rb.sections) {
      if (section.kind === 'prose') {
        nodes.push(proseElement(section.html));
        continue;
      }
      const cell = new Cell(section.step, this.cells.length, this, takeIntro(nodes.at(-1), section.step.title) ?? []);
      if (nodes.at(-1)?.textContent?.trim() === '') nodes.pop();
      this.cells.push(cell);
      nodes.push(cell.element);
    }
    this.sections.replaceChildren(...nodes);
  }

  // -- run bar and parameters --------------------------------------------------------------------

  private renderRunBar(status?: Node | string): void {
    renderRunBar(this.runBar, {
      run: this.run,
      me: this.ctx.me,
      watching: this.access() === 'watch',
      runnable: this.runnable(),
      hasReads: this.cells.some((c) => !c.step.write),
      runningAll: this.runningAll,
      status,
      onRunAll: () => void this.runAllReads(),
      onComplete: () => void this.complete(),
      onNewRun: (event) => void this.startNew(event),
    });
  }

  private renderParams(): void {
    const rb = this.runbook;
    this.paramsFor = this.run?.id;
    if (!this.run) {
      if (!rb) return;
      if (this.access() === 'watch') {
        this.form = undefined;
        this.paramsSlot.replaceChildren(paramList(rb.params));
        return;
      }
      this.form = new ParamForm(rb.params, storedParams(rb.id), 'Start run', () => void this.ensureRun());
      this.paramsSlot.replaceChildren(this.form.element);
      return;
    }
    this.form = undefined;
    const run = this.run;
    const entries = Object.entries(run.params);
    this.paramsSlot.replaceChildren(
      h(
        'section',
        { class: 'card params-summary', 'aria-label': 'Parameters of this run' },
        h('h2', {}, 'Parameters'),
        entries.length === 0 ? h('p', { class: 'muted' }, 'This run has no parameters.') : h('dl', { class: 'param-values' }, entries.map(([k, v]) => [h('dt', { class: 'mono' }, k), h('dd', { class: 'mono' }, String(v))])),
        h(
          'p',
          { class: 'muted' },
          'A run keeps its parameters. ',
          this.access() === 'watch'
            ? null
            : h('a', { href: routeHash({ name: 'runbook', id: run.runbook }), onclick: (event: Event) => void this.startNew(event, run.params) }, 'Start a new run with other values'),
        ),
      ),
    );
  }

  // -- starting and applying runs ----------------------------------------------------------------

  /** The active run, starting one from the form when there is none. Undefined when it cannot. */
  private ensureRun(): Promise<Run | undefined> {
    if (this.run) return Promise.resolve(this.run.status === 'active' ? this.run : undefined);
    if (this.starting) return this.starting;
    const rb = this.runbook;
    const form = this.form;
    this.startError = undefined;
    if (!rb || !form || !form.validate()) return Promise.resolve(undefined);
    const values = form.values();
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (v !== '') params[k] = v;
    this.starting = api
      .startRun(rb.id, params)
      .then((run) => {
        storeParams(rb.id, values);
        // replaceState: the page becomes the run without a hashchange re-rendering it.
        history.replaceState(null, '', routeHash({ name: 'run', id: run.id }));
        this.applyRun(run);
        this.ctx.announce(`Run ${run.id} started.`);
        return run;
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'RB_ERR_PARAM_INVALID') {
          const list = (err.details as { params?: Array<{ param: string; message: string }> } | undefined)?.params ?? [];
          form.showServerErrors(list);
          if (list.length === 0) form.showError(errorBox(toShownError(err), 'The run did not start'));
        } else {
          this.startError = toShownError(err);
          form.showError(errorBox(this.startError, 'The run did not start'));
        }
        return undefined;
      })
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }

  private applyRun(run: Run): void {
    this.run = run;
    const state = run.status !== 'active' ? 'ended' : run.elsewhere ? 'elsewhere' : 'active';
    for (const cell of this.cells) {
      const last = lastExecution(run, cell.step.name);
      cell.setApproval(run.approvals[cell.step.name]);
      cell.setApproval(run.approvals[approvalName(cell.step.name, true)], 'revert');
      cell.setRunState(state, this.access());
      if (last) cell.setExecution(last);
    }
    this.renderWaiting();
    this.renderRunBar();
    if (this.paramsFor !== run.id) this.renderParams();
  }

  /** Tells each cell which of the steps it takes values from have not yet found an item in this run. */
  private renderWaiting(): void {
    const run = this.run;
    const titleOf = (name: string) => this.cells.find((c) => c.step.name === name)?.step.title ?? name;
    for (const cell of this.cells) {
      const missing = (cell.step.uses ?? []).filter((name) => {
        const last = run ? lastExecution(run, name) : undefined;
        return !last || last.status !== 'succeeded' || itemTotal(last) === 0;
      });
      // Before the run starts nothing has run; after it ends nothing can.
      cell.setWaitingFor(!run ? (cell.step.uses ?? []) : run.status === 'active' ? missing : [], titleOf);
    }
  }

  private recordExecution(execution: Execution): void {
    if (!this.run) return;
    const list = this.run.executions;
    const i = list.findIndex((e) => e.step === execution.step && e.n === execution.n);
    if (i >= 0) list[i] = execution;
    else list.push(execution);
  }

  /** Keeps an approval (of a step, or of a revert of its write) and shows it in its step's cell. */
  private showApproval(approval: Approval): void {
    if (this.run) this.run.approvals[approval.step] = approval;
    const target = approvalTarget(approval.step);
    this.cells.find((c) => c.step.name === target.step)?.setApproval(approval, target.revert ? 'revert' : 'step');
  }

  // -- actions -----------------------------------------------------------------------------------

  /** Runs one cell (starting a run first if needed); resolves true when the execution succeeded. */
  async runCell(cell: Cell): Promise<boolean> {
    if (cell.runButton.disabled && this.run) return false;
    if (this.access() === 'watch' || this.run?.elsewhere) return false;
    if (!this.runnable()) {
      cell.setNotice({ kind: 'warning', text: 'This runbook has errors (listed at the top); fix them before running any step.' });
      return false;
    }
    const run = await this.ensureRun();
    if (!run) {
      if (this.run && this.run.status !== 'active') cell.setNotice({ kind: 'warning', text: 'This run has ended. Start a new run to run steps again.' });
      else if (this.startError) cell.setNotice({ kind: 'error', title: 'The run did not start', error: this.startError });
      else cell.setNotice({ kind: 'warning', text: 'Not run: fix the parameters above first.' });
      return false;
    }
    cell.setNotice(undefined);
    cell.setBusy(true);
    try {
      const attempt = await attemptWrite(
        (confirm) => api.execute(run.id, cell.step.name, confirm),
        (details) => this.confirmIn(cell, () => confirmWrite(cell.step.title, details)),
      );
      if (attempt.kind !== 'ran') {
        this.settle(cell, attempt, 'Not run: you cancelled the write, so nothing was written.');
        return false;
      }
      const execution = attempt.result;
      this.recordExecution(execution);
      cell.setExecution(execution);
      this.renderWaiting();
      // A write that was performed but not yet recorded: say so plainly; the run is held.
      if (execution.unrecorded) cell.setNotice({ kind: 'warning', text: execution.unrecorded.message });
      return execution.status === 'succeeded';
    } catch (err) {
      cell.setNotice({ kind: 'error', title: 'The step could not run', error: toShownError(err) });
      if (err instanceof ApiError && err.code === 'RB_ERR_RUN_NOT_ACTIVE') void this.refresh();
      return false;
    } finally {
      cell.setBusy(false);
    }
  }

  /** The cell is not busy while its confirmation dialog waits for the user. */
  private async confirmIn(cell: Cell, ask: () => Promise<boolean>): Promise<boolean> {
    cell.setBusy(false);
    const ok = await ask();
    if (ok) cell.setBusy(true);
    return ok;
  }

  /** A write that did not run: cancelled in its dialog, or waiting for approval. */
  private settle(cell: Cell, attempt: Exclude<Attempt<unknown>, { kind: 'ran' }>, cancelled: string): void {
    if (attempt.kind === 'cancelled') {
      cell.setNotice({ kind: 'info', text: cancelled });
    } else if (attempt.approval) {
      this.showApproval(attempt.approval);
    } else {
      cell.setNotice({ kind: 'warning', text: attempt.message });
    }
  }

  /** Puts back the before-images of execution `n`: a write, confirmed (and approved) like the step's own. */
  revert(cell: Cell, n: number): void {
    void this.revertExecution(cell, n);
  }

  private async revertExecution(cell: Cell, n: number): Promise<void> {
    const run = this.run;
    if (!run || !this.runnable() || run.status !== 'active') return;
    cell.setNotice(undefined);
    cell.setBusy(true);
    try {
      const attempt = await attemptWrite(
        (confirm) => api.revert(run.id, cell.step.name, n, confirm),
        (details) => this.confirmIn(cell, () => confirmWrite(cell.step.title, details, REVERT_WRITE)),
      );
      if (attempt.kind !== 'ran') {
        this.settle(cell, attempt, 'Not reverted: you cancelled, so nothing was written.');
        return;
      }
      if (attempt.result) {
        this.recordExecution(attempt.result);
        cell.setExecution(attempt.result);
      }
      this.ctx.announce(`Reverted execution ${n} of ${cell.step.title}.`);
      // The reverted execution now names the one that reverted it.
      await this.refresh();
    } catch (err) {
      cell.setNotice({ kind: 'error', title: 'The write was not reverted', error: toShownError(err) });
      if (err instanceof ApiError && err.code === 'RB_ERR_RUN_NOT_ACTIVE') void this.refresh();
    } finally {
      cell.setBusy(false);
    }
  }

  runStep(cell: Cell): void {
    void this.runCell(cell);
  }

  more(cell: Cell): void {
    const run = this.run;
    if (!run) return;
    cell.setLoadingMore(true);
    api
      .more(run.id, cell.step.name)
      .then((execution) => {
        this.recordExecution(execution);
        cell.setExecution(execution);
        cell.setNotice(undefined);
        this.ctx.announce(`${plural(itemTotal(execution), 'item')} loaded for ${cell.step.title}.`);
      })
      .catch((err: unknown) => cell.setNotice({ kind: 'error', title: 'More items could not be loaded', error: toShownError(err) }))
      .finally(() => {
        cell.setLoadingMore(false);
        const next = cell.element.querySelector<HTMLElement>('button[aria-label^="Load more"]') ?? cell.element.querySelector<HTMLElement>('.table-scroll');
        next?.focus();
      });
  }

  async decide(cell: Cell, approve: boolean, comment: string, kind: ApprovalKind): Promise<void> {
    const run = this.run;
    if (!run) return;
    const subject = decisionSubject(cell.step.title, kind);
    const outcome = await sendDecision(api, { runId: run.id, name: approvalName(cell.step.name, kind === 'revert'), approve, comment, subject });
    if (outcome.approval) this.showApproval(outcome.approval);
    if (outcome.kind === 'refused') {
      cell.setNotice({ kind: 'error', title: DECISION_REFUSED, error: outcome.error });
      return;
    }
    cell.setNotice(undefined);
    this.ctx.announce(outcome.message);
  }

  /** Runs every read step in order; stops at the first that does not succeed. */
  private async runAllReads(): Promise<void> {
    if (this.runningAll) return;
    this.runningAll = true;
    this.renderRunBar('Running every read step in order…');
    let stoppedAt: Cell | undefined;
    let ran = 0;
    try {
      for (const cell of this.cells) {
        if (cell.step.write) continue;
        cell.element.scrollIntoView({ block: 'nearest' });
        if (!(await this.runCell(cell))) {
          stoppedAt = cell;
          break;
        }
        ran += 1;
      }
    } finally {
      this.runningAll = false;
    }
    const message = stoppedAt ? `Stopped at “${stoppedAt.step.title}”: it did not succeed. ${plural(ran, 'read step')} succeeded before it.` : `All ${plural(ran, 'read step')} succeeded.`;
    this.renderRunBar(message);
    this.ctx.announce(message);
    if (stoppedAt) {
      stoppedAt.element.focus();
      stoppedAt.element.scrollIntoView({ block: 'start' });
    }
  }

  /**
   * Follows a link to a new run of the runbook (with `params` filled in): from a run still in
   * progress that this user may complete, asks first whether to complete it, so that runs are not
   * left active behind each new attempt.
   */
  private async startNew(event: Event, params?: Record<string, unknown>): Promise<void> {
    const run = this.run;
    if (params && run) storeParams(run.runbook, params);
    if (!run || run.status !== 'active' || !this.runnable()) return;
    event.preventDefault();
    const choice = await offerToComplete(run.id, run.title);
    if (choice === 'cancel') return;
    if (choice === 'complete') {
      await this.complete();
      if (this.run?.status === 'active') return;
    }
    location.hash = routeHash({ name: 'runbook', id: run.runbook });
  }

  private async complete(): Promise<void> {
    const run = this.run;
    if (!run) return;
    // Completing cancels requests still pending or approved but unused: ask first, naming them.
    const open = Object.values(run.approvals).filter((a) => a.status === 'pending' || a.status === 'approved');
    if (open.length > 0) {
      const stepTitle = (name: string) => this.cells.find((c) => c.step.name === name)?.step.title;
      if (!(await confirmComplete(open.map((approval) => ({ title: approvalTitle(approval.step, stepTitle), approval }))))) return;
      if (this.run !== run || run.status !== 'active') return;
    }
    this.renderRunBar('Completing the run and revoking its sessions…');
    try {
      const done = await api.complete(run.id);
      this.applyRun(done);
      this.ctx.announce(`Run completed: ${plural(done.revocation?.sessions ?? 0, 'session')} revoked.`);
    } catch (err) {
      this.renderRunBar(errorBox(toShownError(err), 'The run could not be completed'));
      if (err instanceof ApiError && err.code === 'RB_ERR_RUN_NOT_ACTIVE') void this.refresh();
    }
  }

  // -- keyboard and live events ------------------------------------------------------------------

  /** Shift+Enter runs the focused cell and moves to the next, Ctrl+Enter runs it in place (as in Jupyter). */
  private onKey(event: KeyboardEvent): void {
    if (event.key !== 'Enter' || !(event.shiftKey || event.ctrlKey || event.metaKey)) return;
    const target = event.target as HTMLElement;
    if (target.closest('textarea, input, select, dialog')) return;
    if (this.access() === 'watch' || this.run?.elsewhere) return;
    const el = target.closest<HTMLElement>('section.cell');
    const index = this.cells.findIndex((c) => c.element === el);
    if (index < 0) return;
    event.preventDefault();
    void this.runCell(this.cells[index]);
    if (event.shiftKey) {
      const next = this.cells[index + 1];
      if (next) {
        next.element.focus({ preventScroll: true });
        next.element.scrollIntoView({ block: 'nearest' });
      }
    }
  }

  private onEvent(event: RunEvent): void {
    const run = this.run;
    if (!run) return;
    if (event.type === 'run.started') return;
    if (event.type === 'run.completed') {
      if (event.run.id === run.id) this.applyRun(event.run);
      return;
    }
    if (event.runId !== run.id) return;
    const cell = 'step' in event ? this.cells.find((c) => c.step.name === event.step) : undefined;
    switch (event.type) {
      case 'step.started':
        cell?.markStarted(event.n, event.user);
        break;
      case 'step.succeeded':
      case 'step.failed':
        this.recordExecution(event.execution);
        cell?.setExecution(event.execution);
        this.renderWaiting();
        break;
      case 'approval.requested':
      case 'approval.decided':
      case 'approval.updated':
        this.showApproval(event.approval);
        break;
      case 'session.revoked':
      case 'session.issued':
        break;
    }
  }
}

function lastExecution(run: Run, step: string): Execution | undefined {
  for (let i = run.executions.length - 1; i >= 0; i--) if (run.executions[i].step === step) return run.executions[i];
  return undefined;
}
