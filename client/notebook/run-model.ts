/**
 * The notebook's run without the DOM, as JupyterLab keeps a notebook's model apart from its
 * widgets: the runbook's steps, the run, and for each step what its cell shows (its newest
 * execution, its approvals, who started it in another browser, whether this page is busy with it,
 * the last notice, the earlier steps whose outputs it still waits for), and what the run bar shows.
 * The actions (run-actions.ts, step-actions.ts) and live events change it through its methods;
 * each change is reported to the listeners, the views, which render it (views/notebook.ts, with
 * what a cell shows derived in cell-state.ts).
 */
import {
  approvalName,
  approvalTarget,
  hasRole,
  itemTotal,
  type Approval,
  type Execution,
  type Me,
  type Run,
  type RunbookView,
  type RunEvent,
  type StepView,
} from '../api-types.js';
import { approvalTitle, type ApprovalKind } from '../approvals.js';
import type { ShownError } from '../shown-error.js';

/**
 * Run state as a cell sees it: no run yet, an active run, an ended one (nothing can run), or an
 * active run another process runs (its steps run there; this page watches, and may decide approvals).
 */
export type RunState = 'none' | 'active' | 'ended' | 'elsewhere';

/**
 * What the user may do with steps: `run`; `blocked`, a runner on a runbook with errors (controls
 * shown, disabled); `watch`, no runner role (no run controls at all).
 */
export type RunAccess = 'run' | 'blocked' | 'watch';

/** A message about the last attempt that is not an execution: cancelled, refused, unreachable. */
export type CellNotice = { kind: 'info' | 'warning'; text: string } | { kind: 'error'; title: string; error: ShownError };

/** What the run bar's status line says about its last action. */
export type BarStatus = string | { title: string; error: ShownError };

/** An approval that completing the run would cancel, with the title of its request. */
export interface OpenApproval {
  title: string;
  approval: Approval;
}

/** What the run bar renders. */
export interface BarView {
  run?: Run;
  /** no runner role: no run controls, a line saying what the user can do instead */
  watching: boolean;
  /** steps may run here: a runner, on a runbook without errors, not on a run another process runs */
  runnable: boolean;
  hasReads: boolean;
  runningAll: boolean;
  status?: BarStatus;
}

/** What changed: the run as a whole (every cell, the bar, the parameters), one step's cell, or the bar. */
export type ModelChange = { type: 'run' } | { type: 'step'; step: string } | { type: 'bar' };

/** One step's state beyond the run's record (cell-state.ts derives what its cell shows). */
export interface StepState {
  execution?: Execution;
  startedBy?: { n: number; user: string };
  busy: boolean;
  loadingMore: boolean;
  notice?: CellNotice;
}

/** True when `next` is the same or a later state of the execution than `current`. */
export function isNewer(current: Execution | undefined, next: Execution): boolean {
  if (!current || next.n > current.n) return true;
  if (next.n < current.n) return false;
  return current.status === 'running' || next.pages >= current.pages;
}

export class RunModel {
  runbook?: RunbookView;
  run?: Run;
  steps: StepView[] = [];
  runningAll = false;
  barStatus?: BarStatus;
  private readonly states = new Map<string, StepState>();
  private readonly listeners = new Set<(change: ModelChange) => void>();

  constructor(readonly me: Me) {}

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (change: ModelChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setRunbook(runbook: RunbookView): void {
    this.runbook = runbook;
    this.steps = runbook.sections.flatMap((s) => (s.kind === 'step' ? [s.step] : []));
  }

  step(name: string): StepView | undefined {
    return this.steps.find((s) => s.name === name);
  }

  titleOf(name: string): string {
    return this.step(name)?.title ?? name;
  }

  /** A step's state beyond the run's record. */
  stepState(name: string): Readonly<StepState> {
    return this.state(name);
  }

  /** The current approval of a step's request, or of a revert of its write. */
  approval(name: string, kind: ApprovalKind): Approval | undefined {
    return this.run?.approvals[approvalName(name, kind === 'revert')];
  }

  /** What this user may do with steps here (a run another process runs is a run state). */
  access(): RunAccess {
    if (!hasRole(this.me, 'runner')) return 'watch';
    return (this.runbook?.problems.length ?? 0) === 0 ? 'run' : 'blocked';
  }

  /** Steps may run from this page: a run another process runs (`runbooks run`, another server) is only watched. */
  runnable(): boolean {
    return this.access() === 'run' && !this.run?.elsewhere;
  }

  runState(): RunState {
    const run = this.run;
    return !run ? 'none' : run.status !== 'active' ? 'ended' : run.elsewhere ? 'elsewhere' : 'active';
  }

  /** Step `name` may run now: not busy, no run yet or an active one here, a runner, and nothing it waits for. */
  canRun(name: string): boolean {
    const runState = this.runState();
    return !this.state(name).busy && (runState === 'none' || runState === 'active') && this.access() === 'run' && this.waitingFor(name).length === 0;
  }

  /** A link to a new run should first offer to complete this one: still active, and this user may complete it. */
  offersToComplete(): boolean {
    return this.run?.status === 'active' && this.runnable();
  }

  /** The earlier steps a step takes values from that have not yet found an item in this run. */
  waitingFor(name: string): string[] {
    const uses = this.step(name)?.uses ?? [];
    // Before the run starts nothing has run; after it ends nothing can.
    if (!this.run) return uses;
    if (this.run.status !== 'active') return [];
    return uses.filter((used) => {
      const last = this.states.get(used)?.execution;
      return !last || last.status !== 'succeeded' || itemTotal(last) === 0;
    });
  }

  /** Requests that completing the run would cancel: pending, or approved and not yet run. */
  openApprovals(): OpenApproval[] {
    const open = Object.values(this.run?.approvals ?? {}).filter((a) => a.status === 'pending' || a.status === 'approved');
    return open.map((approval) => ({ title: approvalTitle(approval.step, (s) => this.step(s)?.title), approval }));
  }

  bar(): BarView {
    return {
      run: this.run,
      watching: this.access() === 'watch',
      runnable: this.runnable(),
      hasReads: this.steps.some((s) => !s.write),
      runningAll: this.runningAll,
      status: this.barStatus,
    };
  }

  // -- changes -----------------------------------------------------------------------------------

  /**
   * The run as the server has it now (started, refetched, completed). What the run bar said about its
   * last action is over then, unless every read step is still running.
   */
  applyRun(run: Run): void {
    if (this.run && this.run.id !== run.id) for (const s of this.states.values()) s.execution = s.startedBy = undefined;
    this.run = run;
    if (!this.runningAll) this.barStatus = undefined;
    for (const step of this.steps) {
      const last = lastExecution(run, step.name);
      if (last) this.takeExecution(this.state(step.name), last);
    }
    this.emit({ type: 'run' });
  }

  /** An execution answered or reported by an event: shown unless a later state of it is shown already. */
  recordExecution(execution: Execution): void {
    if (this.run) {
      const list = this.run.executions;
      const i = list.findIndex((e) => e.step === execution.step && e.n === execution.n);
      if (i >= 0) list[i] = execution;
      else list.push(execution);
    }
    if (!this.takeExecution(this.state(execution.step), execution)) return;
    this.emit({ type: 'step', step: execution.step });
    // The steps that take values from this one may run now (or not any more).
    for (const step of this.steps) if (step.uses?.includes(execution.step)) this.emit({ type: 'step', step: step.name });
  }

  /** Keeps an approval (of a step, or of a revert of its write). */
  recordApproval(approval: Approval): void {
    if (!this.run) return;
    this.run.approvals[approval.step] = approval;
    this.emit({ type: 'step', step: approvalTarget(approval.step).step });
  }

  setBusy(name: string, busy: boolean): void {
    this.update(name, { busy });
  }

  setLoadingMore(name: string, loadingMore: boolean): void {
    this.update(name, { loadingMore });
  }

  setNotice(name: string, notice: CellNotice | undefined): void {
    this.update(name, { notice });
  }

  setBar(change: { runningAll?: boolean; status?: BarStatus }): void {
    if ('runningAll' in change) this.runningAll = change.runningAll!;
    if ('status' in change) this.barStatus = change.status;
    this.emit({ type: 'bar' });
  }

  /** A live event of any run: those of this run change it. */
  applyEvent(event: RunEvent): void {
    const run = this.run;
    if (!run || event.type === 'run.started') return;
    if (event.type === 'run.completed') {
      if (event.run.id === run.id) this.applyRun(event.run);
      return;
    }
    if (event.runId !== run.id) return;
    switch (event.type) {
      case 'step.started':
        this.markStarted(event.step, event.n, event.user);
        break;
      case 'step.succeeded':
      case 'step.failed':
        this.recordExecution(event.execution);
        break;
      case 'approval.requested':
      case 'approval.decided':
      case 'approval.updated':
        this.recordApproval(event.approval);
        break;
      case 'session.revoked':
      case 'session.issued':
        break;
    }
  }

  // -- internals ---------------------------------------------------------------------------------

  /** Someone (maybe another browser) started execution `n` of a step. */
  private markStarted(name: string, n: number, user: string): void {
    const s = this.state(name);
    if (s.execution && s.execution.n >= n) return;
    s.startedBy = { n, user };
    this.emit({ type: 'step', step: name });
  }

  private state(name: string): StepState {
    let s = this.states.get(name);
    if (!s) this.states.set(name, (s = { busy: false, loadingMore: false }));
    return s;
  }

  private update(name: string, change: Partial<StepState>): void {
    Object.assign(this.state(name), change);
    this.emit({ type: 'step', step: name });
  }

  private takeExecution(s: StepState, execution: Execution): boolean {
    if (!isNewer(s.execution, execution)) return false;
    s.execution = execution;
    if (s.startedBy && s.startedBy.n <= execution.n && execution.status !== 'running') s.startedBy = undefined;
    return true;
  }

  private emit(change: ModelChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

function lastExecution(run: Run, step: string): Execution | undefined {
  for (let i = run.executions.length - 1; i >= 0; i--) if (run.executions[i].step === step) return run.executions[i];
  return undefined;
}
