/**
 * One step as a notebook cell: title, source and Run button; what the step waits for; its approval
 * requests (of the step, and of a revert of its write) in each state, with the means to decide
 * them for an approver who did not ask; a notice about the last attempt; and its last execution
 * (cell-output.ts). It renders the cell state the run model derives (notebook/cell-state.ts) and
 * hands its controls to the page; it decides nothing itself.
 *
 * Nothing the server would refuse is offered: without the runner role, or on a run another process
 * runs, the cell has no Run, Load more or Revert button.
 */
import type { Me, StepView } from '../api-types.js';
import type { ApprovalKind } from '../approvals.js';
import { h, uniqueId } from '../dom.js';
import type { CellState } from '../notebook/cell-state.js';
import type { CellNotice } from '../notebook/run-model.js';
import { renderApprovalState } from './approval-state.js';
import { CellOutput, type OutputControls } from './cell-output.js';
import { errorBox } from './error-box.js';

export interface CellControls extends OutputControls {
  run(): void;
  /** decides the pending request of the step, or of a revert of its write */
  decide(approve: boolean, comment: string, kind: ApprovalKind): Promise<void>;
}

export class Cell {
  readonly element: HTMLElement;
  private readonly status = h('span', { class: 'cell-status', role: 'status' });
  private readonly runButton: HTMLButtonElement;
  private readonly waitingBox = h('p', { class: 'notice notice-info cell-waiting', role: 'status', hidden: true });
  private readonly approvalBox = h('div', { class: 'approval-box', hidden: true });
  private readonly revertApprovalBox = h('div', { class: 'approval-box-revert', hidden: true });
  private readonly noticeBox = h('div', { class: 'cell-notice' });
  private readonly output: CellOutput;
  /** the state last rendered: only what changed since is rendered again */
  private shown?: CellState;

  constructor(
    readonly step: StepView,
    index: number,
    private readonly me: Me,
    private readonly controls: CellControls,
    private readonly intro: Node[] = [],
  ) {
    const titleId = uniqueId(`cell-title-${step.name}`);
    this.runButton = h('button', { type: 'button', class: 'button primary run-button', 'aria-label': `Run step ${step.title}`, onclick: () => controls.run() }, 'Run');
    this.output = new CellOutput(step, controls);
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
      this.output.element,
    );
  }

  /** Renders what changed since the last state rendered. */
  update(s: CellState): void {
    const last = this.shown;
    this.shown = s;
    const runChanged = !last || last.runState !== s.runState || last.access !== s.access || last.runId !== s.runId;
    this.renderStatus(s);
    if (!last || last.waitingFor.join('\u0000') !== s.waitingFor.join('\u0000')) this.renderWaiting(s.waitingFor);
    if (runChanged || last.approval !== s.approval || last.revertApproval !== s.revertApproval) this.renderApprovals(s);
    if (!last || last.notice !== s.notice) this.renderNotice(s.notice);
    if (s.execution && (runChanged || last.execution !== s.execution)) {
      this.output.render(s.execution, s.runId, s.canAct);
    }
    // After a render too: the buttons it made take the cell's current state here.
    this.output.setBusy(s.busy);
    this.output.setLoadingMore(s.loadingMore);
  }

  /** After a page of items loaded: Load more again, or the rows. */
  focusResults(): void {
    this.output.focusResults();
  }

  private renderStatus(s: CellState): void {
    this.status.textContent = s.status.text;
    this.status.className = `cell-status status-${s.status.kind}`;
    this.element.dataset.status = s.status.kind;
    this.runButton.hidden = !s.runButton.offered;
    this.runButton.disabled = !s.runButton.enabled;
    this.runButton.textContent = s.runButton.text;
    this.runButton.setAttribute('aria-label', `${s.runButton.text} step ${this.step.title}`);
  }

  /** The earlier steps this one takes values from that have not found an item yet: run them first. */
  private renderWaiting(titles: string[]): void {
    this.waitingBox.hidden = titles.length === 0;
    this.waitingBox.textContent =
      titles.length === 0 ? '' : `Uses what ${titles.map((t) => `“${t}”`).join(' and ')} found: run ${titles.length === 1 ? 'that step' : 'those steps'} first.`;
  }

  private renderApprovals(s: CellState): void {
    for (const kind of ['step', 'revert'] as const) {
      renderApprovalState(kind === 'step' ? this.approvalBox : this.revertApprovalBox, kind === 'step' ? s.approval : s.revertApproval, {
        me: this.me,
        kind,
        title: this.step.title,
        intro: this.intro,
        open: s.runState === 'active' || s.runState === 'elsewhere',
        canRun: s.canAct,
        decide: (approve, comment) => this.controls.decide(approve, comment, kind),
      });
    }
  }

  private renderNotice(notice: CellNotice | undefined): void {
    if (!notice) this.noticeBox.replaceChildren();
    else if (notice.kind === 'error') this.noticeBox.replaceChildren(errorBox(notice.error, notice.title));
    else this.noticeBox.replaceChildren(h('p', { class: `notice notice-${notice.kind}`, role: 'status' }, notice.text));
  }
}
