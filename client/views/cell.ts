/**
 * One step as a notebook cell: title, source and Run button; after an execution its status,
 * duration, counts, consumed capacity, session badge, the rendered request and derived policy
 * (collapsible), the error in words, and the items as a table. A step needing approval shows its
 * request's state and, to an approver other than the requester, the means to decide it. A write
 * with before and after images shows what it changed, and (to a runner) a Revert button.
 *
 * Nothing the server would refuse is offered: without the runner role, or on a run another process
 * runs, the cell has no Run, Load more or Revert button.
 */
import { csvUrl } from '../api.js';
import { imagesOf, itemTotal, revertedBy, revertOf, type Approval, type Execution, type Me, type StepSummary } from '../api-types.js';
import type { ApprovalKind } from '../approvals.js';
import { columnsOf, hintsOf, inColumnOrder } from '../../server/runs/columns.js';
import { h, jsonBlock, replaceChildren, uniqueId } from '../dom.js';
import { formatCapacity, formatDuration, formatTime, plural } from '../format.js';
import { ItemSource } from '../item-source.js';
import { toShownError, type ShownError } from '../shown-error.js';
import { renderApprovalState } from './approval-state.js';
import { copyText } from './copy.js';
import { showItem } from './dialogs.js';
import { errorBox } from './error-box.js';
import { writeChanges } from './images.js';
import { ResultTable } from './result-table.js';
import { sessionBadge } from './session-badge.js';

export interface CellHost {
  readonly me: Me;
  runId(): string | undefined;
  runStep(cell: Cell): void;
  more(cell: Cell): void;
  /** decides the pending request of the step, or of a revert of its write */
  decide(cell: Cell, approve: boolean, comment: string, kind: ApprovalKind): Promise<void>;
  /** puts back the before-images of execution `n` of the cell's step */
  revert(cell: Cell, n: number): void;
}

export type CellNotice = { kind: 'info' | 'warning'; text: string } | { kind: 'error'; title: string; error: ShownError };

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

/** True when `next` is the same or a later state of the execution than `current`. */
export function isNewer(current: Execution | undefined, next: Execution): boolean {
  if (!current || next.n > current.n) return true;
  if (next.n < current.n) return false;
  return current.status === 'running' || next.pages >= current.pages;
}

export class Cell {
  readonly element: HTMLElement;
  readonly runButton: HTMLButtonElement;
  execution?: Execution;
  approval?: Approval;
  /** the approval of a revert of the step's write (`<step>.revert`) */
  revertApproval?: Approval;
  private readonly status: HTMLElement;
  private readonly approvalBox: HTMLElement;
  private readonly revertApprovalBox = h('div', { class: 'approval-box-revert', hidden: true });
  private readonly noticeBox: HTMLElement;
  private readonly output: HTMLElement;
  private startedBy?: { n: number; user: string };
  private busy = false;
  /** the earlier steps whose outputs this one uses and that have not found anything yet */
  private waitingFor: string[] = [];
  private readonly waitingBox = h('p', { class: 'notice notice-info cell-waiting', role: 'status', hidden: true });
  private readonly inputsSlot = h('div', { class: 'exec-slot' });
  private runState: RunState = 'none';
  private access: RunAccess = 'run';
  private revertButton?: HTMLButtonElement;
  /** the table of the execution shown, its items, and how many it showed */
  private table?: { n: number; view: ResultTable; bar: HTMLElement; source: ItemSource; total: number };
  private shownN?: number;
  private readonly metaSlot = h('div', { class: 'exec-slot' });
  private readonly detailsSlot = h('div', { class: 'exec-slot' });
  private readonly imagesSlot = h('div', { class: 'exec-slot' });
  private readonly errorSlot = h('div', { class: 'exec-slot' });
  private readonly resultSlot = h('div', { class: 'exec-slot' });

  constructor(
    readonly step: StepSummary,
    readonly index: number,
    private readonly host: CellHost,
    private readonly intro: Node[] = [],
  ) {
    const titleId = uniqueId(`cell-title-${step.name}`);
    this.status = h('span', { class: 'cell-status', role: 'status' });
    this.runButton = h('button', { type: 'button', class: 'button primary run-button', 'aria-label': `Run step ${step.title}`, onclick: () => host.runStep(this) }, 'Run');
    this.approvalBox = h('div', { class: 'approval-box', hidden: true });
    this.noticeBox = h('div', { class: 'cell-notice' });
    this.output = h('div', { class: 'cell-output' });
    this.element = h(
      'section',
      { class: `cell${step.write ? ' write' : ''}`, tabindex: 0, 'aria-labelledby': titleId, 'data-step': step.name },
      h(
        'div',
        { class: 'cell-head' },
        h('span', { class: 'cell-index', 'aria-hidden': 'true' }, String(index + 1)),
        h(
          'div',
          { class: 'cell-titles' },
          h('h3', { id: titleId }, step.title),
          h(
            'p',
            { class: 'cell-meta' },
            h('code', { class: 'chip' }, step.name),
            h('span', { class: 'chip' }, step.language === 'partiql' ? `PartiQL ${step.operation === 'ExecuteStatement' ? '' : step.operation}`.trim() : step.operation),
            step.write ? h('span', { class: 'chip chip-write' }, 'writes') : h('span', { class: 'chip chip-read' }, 'reads'),
            step.needsApproval ? h('span', { class: 'chip chip-approval' }, 'needs approval') : null,
            h('span', { class: 'chip chip-quiet' }, `line ${step.line}`),
          ),
        ),
        h('div', { class: 'cell-actions' }, this.status, this.runButton),
      ),
      intro.some((n) => n.textContent?.trim()) ? h('div', { class: 'prose cell-intro' }, intro) : null,
      h('pre', { class: 'source', 'aria-label': `Source of step ${step.title}` }, h('code', {}, step.source)),
      this.waitingBox,
      this.approvalBox,
      this.noticeBox,
      this.revertApprovalBox,
      this.output,
    );
    this.renderStatus();
  }

  setRunState(state: RunState, access: RunAccess): void {
    this.runState = state;
    this.access = access;
    this.renderStatus();
    this.renderApproval();
    if (this.execution) this.renderOutput(this.execution);
  }

  /**
   * The earlier steps this one takes values from that have not yet found an item in the run: the
   * step cannot run until they have, and says which to run first.
   */
  setWaitingFor(steps: string[], titleOf: (step: string) => string): void {
    this.waitingFor = steps;
    this.waitingBox.hidden = steps.length === 0;
    this.waitingBox.textContent =
      steps.length === 0 ? '' : `Uses what ${steps.map((s) => `“${titleOf(s)}”`).join(' and ')} found: run ${steps.length === 1 ? 'that step' : 'those steps'} first.`;
    this.renderStatus();
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    this.renderStatus();
  }

  /** Someone (maybe another browser) started execution `n`. */
  markStarted(n: number, user: string): void {
    if (this.execution && this.execution.n >= n) return;
    this.startedBy = { n, user };
    this.renderStatus();
  }

  /** Shows an execution, unless a later state of it is already shown. Returns whether it did. */
  setExecution(execution: Execution): boolean {
    if (!isNewer(this.execution, execution)) return false;
    this.execution = execution;
    if (this.startedBy && this.startedBy.n <= execution.n && execution.status !== 'running') this.startedBy = undefined;
    this.renderStatus();
    this.renderOutput(execution);
    return true;
  }

  setApproval(approval: Approval | undefined, kind: ApprovalKind = 'step'): void {
    if (kind === 'step') this.approval = approval;
    else this.revertApproval = approval;
    this.renderApproval();
    this.renderStatus();
  }

  /** A message about the last attempt that is not an execution: cancelled, refused, unreachable. */
  setNotice(notice: CellNotice | undefined): void {
    if (!notice) this.noticeBox.replaceChildren();
    else if (notice.kind === 'error') this.noticeBox.replaceChildren(errorBox(notice.error, notice.title));
    else this.noticeBox.replaceChildren(h('p', { class: `notice notice-${notice.kind}`, role: 'status' }, notice.text));
  }

  private renderStatus(): void {
    let text = 'Not run';
    let kind = 'idle';
    const running = this.busy || (this.startedBy !== undefined) || this.execution?.status === 'running';
    if (running) {
      text = this.startedBy && this.startedBy.user !== this.host.me.user ? `Running (${this.startedBy.user})…` : 'Running…';
      kind = 'running';
    } else if (this.approval?.status === 'pending') {
      text = 'Waiting for approval';
      kind = 'waiting';
    } else if (this.execution?.status === 'succeeded') {
      text = 'Succeeded';
      kind = 'succeeded';
    } else if (this.execution?.status === 'failed') {
      text = 'Failed';
      kind = 'failed';
    }
    this.status.textContent = text;
    this.status.className = `cell-status status-${kind}`;
    this.element.dataset.status = kind;
    this.runButton.hidden = this.access === 'watch' || this.runState === 'elsewhere';
    this.runButton.disabled = this.busy || this.runState === 'ended' || this.runState === 'elsewhere' || this.access !== 'run' || this.waitingFor.length > 0;
    if (this.revertButton) this.revertButton.disabled = this.busy;
    this.runButton.textContent = this.execution ? 'Run again' : 'Run';
    this.runButton.setAttribute('aria-label', `${this.execution ? 'Run again' : 'Run'} step ${this.step.title}`);
  }

  private renderApproval(): void {
    for (const kind of ['step', 'revert'] as const) {
      renderApprovalState(kind === 'step' ? this.approvalBox : this.revertApprovalBox, kind === 'step' ? this.approval : this.revertApproval, {
        me: this.host.me,
        kind,
        title: this.step.title,
        intro: this.intro,
        open: this.runState === 'active' || this.runState === 'elsewhere',
        canRun: this.runState === 'active' && this.access === 'run',
        decide: (approve, comment) => this.host.decide(this, approve, comment, kind),
      });
    }
  }

  private renderOutput(exec: Execution): void {
    const runId = this.host.runId();
    const sameExecution = this.shownN === exec.n;
    this.shownN = exec.n;
    if (!this.output.hasChildNodes()) this.output.append(this.metaSlot, this.inputsSlot, this.detailsSlot, this.imagesSlot, this.errorSlot, this.resultSlot);
    replaceChildren(this.inputsSlot, inputsOf(exec));
    this.metaSlot.replaceChildren(
      h(
        'p',
        { class: 'exec-meta' },
        h('span', { class: `exec-status status-${exec.status}` }, exec.status === 'succeeded' ? 'Succeeded' : exec.status === 'failed' ? 'Failed' : 'Running'),
        h('span', {}, `execution #${exec.n} by ${exec.user}`),
        h('span', {}, formatTime(exec.startedAt)),
        exec.durationMs !== undefined ? h('span', { class: 'exec-duration' }, formatDuration(exec.durationMs)) : null,
        !this.step.write || exec.count > 0 ? h('span', { class: 'exec-count' }, plural(exec.count, 'item')) : null,
        exec.scannedCount !== undefined ? h('span', {}, `${exec.scannedCount.toLocaleString('en-US')} scanned`) : null,
        exec.pages > 1 ? h('span', {}, plural(exec.pages, 'page')) : null,
        formatCapacity(exec.consumedCapacity) ? h('span', { class: 'exec-capacity', title: 'consumed capacity' }, formatCapacity(exec.consumedCapacity)) : null,
        exec.session ? sessionBadge(exec.session) : null,
      ),
    );
    // The request and policy of one execution never change: keep the <details> (and whether it is open).
    if (!sameExecution || !this.detailsSlot.hasChildNodes()) {
      this.detailsSlot.replaceChildren(
        h(
          'details',
          { class: 'request-policy' },
          h('summary', {}, 'Request and session policy'),
          h(
            'div',
            { class: 'json-pair' },
            h('div', {}, h('h4', {}, 'Rendered request'), jsonBlock(exec.request, `Rendered request of ${this.step.title}`)),
            h('div', {}, h('h4', {}, 'Session policy'), exec.policy !== undefined ? jsonBlock(exec.policy, `Session policy of ${this.step.title}`) : h('p', { class: 'muted' }, 'No session was issued.')),
          ),
        ),
      );
    }
    this.renderImages(exec);
    const total = itemTotal(exec);
    this.errorSlot.replaceChildren(...(exec.error ? [errorBox(exec.error, total > 0 ? 'Loading more failed' : 'The step failed')] : []));

    if (exec.items.length > 0 && this.step.operation === 'DescribeTable') {
      // One deeply nested item (the table description) reads better as JSON than as one table row.
      this.table = undefined;
      this.resultSlot.replaceChildren(h('div', { class: 'results' }, jsonBlock(exec.items[0], `Table description from ${this.step.title}`)));
    } else if (total > 0) {
      this.showTable(exec, total, runId);
    } else {
      this.table = undefined;
      const parts: Node[] = [];
      if (exec.status === 'succeeded') {
        if (this.step.write) parts.push(h('p', { class: 'empty-result' }, 'The write succeeded.'));
        else parts.push(h('p', { class: 'empty-result' }, exec.scannedCount ? `No items matched (${exec.scannedCount.toLocaleString('en-US')} scanned).` : 'No items.'));
      }
      if (exec.attributes) parts.push(h('div', {}, h('h4', {}, 'Returned attributes'), jsonBlock(exec.attributes, 'Returned attributes')));
      this.resultSlot.replaceChildren(...parts);
    }
  }

  /** A write's before and after images, whether it was reverted, and the Revert button where it may be. */
  private renderImages(exec: Execution): void {
    const images = imagesOf(exec, 'images');
    const reverted = revertedBy(exec);
    const reverts = revertOf(exec);
    const canRevert = images !== undefined && 'items' in images && images.items.length > 0 && !reverted && exec.status === 'succeeded' && this.runState === 'active' && this.access === 'run';
    this.revertButton = canRevert
      ? h('button', { type: 'button', class: 'button', disabled: this.busy, 'aria-label': `Revert execution ${exec.n} of ${this.step.title}`, onclick: () => this.host.revert(this, exec.n) }, 'Revert')
      : undefined;
    replaceChildren(
      this.imagesSlot,
      writeChanges(images),
      reverts !== undefined ? h('p', { class: 'muted' }, `This execution put back the items as they were before execution #${reverts}.`) : null,
      reverted ? h('p', { class: 'notice notice-info' }, `Reverted${reverted.n !== undefined ? ` by execution #${reverted.n}` : ''}: the items were put back as they were before this write.`) : null,
      this.revertButton ? h('div', { class: 'revert-actions' }, this.revertButton, h('span', { class: 'muted' }, 'Puts back the items as they were before this write, if nothing changed them since.')) : null,
    );
  }

  /**
   * Shows the items. A later state of the same execution (another page) updates the table in place,
   * keeping its scroll and the chunks already fetched; the same state again (the execute answer and
   * the live event of one execution) leaves the table alone.
   */
  private showTable(exec: Execution, total: number, runId: string | undefined): void {
    let fresh = false;
    if (!this.table || this.table.n !== exec.n) {
      const label = `Results of ${this.step.title}`;
      const source = new ItemSource({ run: runId ?? '', step: this.step.name, n: exec.n, first: exec.items, total });
      const hints = hintsOf(exec);
      const view = new ResultTable({
        label,
        name: this.step.title,
        keys: [...(hints.keys ?? [])],
        projection: [...(hints.projection ?? [])],
        onShowItem: (index, count) => void this.showItemOf(source, label, index, count, view.columnOrder),
        onError: (err) => this.setNotice(err === undefined ? undefined : { kind: 'error', title: 'Items could not be loaded', error: toShownError(err) }),
      });
      this.table = { n: exec.n, view, bar: h('div', { class: 'results-bar' }), source, total: -1 };
      fresh = true;
    }
    const table = this.table;
    const { view, bar, source } = table;
    const copyStatus = h('span', { class: 'copy-status', role: 'status' });
    const copy = h('button', { type: 'button', class: 'button', 'aria-label': `Copy items of ${this.step.title} as JSON` }, 'Copy as JSON');
    copy.addEventListener('click', async () => {
      copy.disabled = true;
      if (source.missing(0, source.total)) copyStatus.textContent = `Fetching ${plural(source.total, 'item')}…`;
      try {
        const items = await source.all();
        // Each item's attributes in the table's column order, as in the CSV and the transcripts.
        const columns = columnsOf(items, hintsOf(exec));
        const ok = await copyText(JSON.stringify(items.map((item) => inColumnOrder(item, columns)), null, 2));
        copyStatus.textContent = ok ? `Copied ${plural(items.length, 'item')} as JSON.` : 'The browser refused to copy; use the CSV download instead.';
      } catch (err) {
        copyStatus.textContent = `Nothing was copied: ${toShownError(err).message}`;
      } finally {
        copy.disabled = false;
      }
    });
    const csv = runId ? h('a', { class: 'button', href: csvUrl(runId, this.step.name), download: `${runId}-${this.step.name}.csv`, 'aria-label': `Download items of ${this.step.title} as CSV` }, 'Download CSV') : null;
    const more =
      exec.hasMore && this.runState === 'active' && this.access === 'run'
        ? h('button', { type: 'button', class: 'button', 'aria-label': `Load more items of ${this.step.title}`, onclick: () => this.host.more(this) }, 'Load more')
        : null;
    bar.replaceChildren(
      h('span', { class: 'results-count' }, plural(total, 'item'), exec.hasMore ? ' · more available' : ''),
      copyStatus,
      h('span', { class: 'results-actions' }, copy, csv, more),
    );
    if (fresh) this.resultSlot.replaceChildren(h('div', { class: 'results' }, bar, view.element));
    if (total === table.total) return;
    table.total = total;
    source.update(exec.items, total);
    view.show(source);
  }

  /** Opens item `index` in full, fetching it first when it is not here yet. */
  private async showItemOf(source: ItemSource, label: string, index: number, total: number, columns: readonly string[]): Promise<void> {
    try {
      await source.ensure(index, index + 1);
      const item = source.get(index);
      if (item) showItem(label, inColumnOrder(item, columns), index, total);
    } catch (err) {
      this.setNotice({ kind: 'error', title: `Item ${index + 1} could not be loaded`, error: toShownError(err) });
    }
  }

  /** Disables Load more while a page is fetched. */
  setLoadingMore(loading: boolean): void {
    const button = this.table?.bar.querySelector<HTMLButtonElement>('button[aria-label^="Load more"]');
    if (button) {
      button.disabled = loading;
      button.textContent = loading ? 'Loading…' : 'Load more';
    }
  }
}

/** Where the values an execution took from earlier steps came from (docs/format.md, "Step outputs"). */
function inputsOf(exec: Execution): HTMLElement | null {
  if (!exec.inputs || exec.inputs.length === 0) return null;
  return h(
    'div',
    { class: 'exec-inputs' },
    h('h4', {}, 'Values from earlier steps'),
    h(
      'ul',
      {},
      exec.inputs.map((input) =>
        h('li', {}, h('code', {}, `{{${input.ref}}}`), ' = ', h('code', { class: 'input-value' }, JSON.stringify(input.value)), h('span', { class: 'muted' }, ` from ${input.step} #${input.n}`)),
      ),
    ),
  );
}
