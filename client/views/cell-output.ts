/**
 * What a cell shows of its step's last execution: status, duration, counts, consumed capacity and
 * session badge; the values it took from earlier steps; the rendered request and derived policy
 * (collapsible); a write's before and after images, with a Revert button where it may be used; the
 * error in words; and the items (cell-results.ts), or what the step returned instead.
 */
import { imagesOf, itemTotal, revertedBy, revertOf, type Execution, type StepView } from '../api-types.js';
import { h, jsonBlock, replaceChildren } from '../dom.js';
import { formatCapacity, formatDuration, formatTime, plural } from '../format.js';
import { CellResults, type ResultsControls } from './cell-results.js';
import { errorBox } from './error-box.js';
import { writeChanges } from './images.js';
import { sessionBadge } from './session-badge.js';

export interface OutputControls extends ResultsControls {
  /** puts back the before-images of execution `n` of the step */
  revert(n: number): void;
}

export class CellOutput {
  readonly element = h('div', { class: 'cell-output' });
  private readonly metaSlot = h('div', { class: 'exec-slot' });
  private readonly inputsSlot = h('div', { class: 'exec-slot' });
  private readonly detailsSlot = h('div', { class: 'exec-slot' });
  private readonly imagesSlot = h('div', { class: 'exec-slot' });
  private readonly errorSlot = h('div', { class: 'exec-slot' });
  private readonly resultSlot = h('div', { class: 'exec-slot' });
  private readonly results: CellResults;
  private revertButton?: HTMLButtonElement;
  private shownN?: number;

  constructor(
    private readonly step: StepView,
    private readonly controls: OutputControls,
  ) {
    this.results = new CellResults(step, controls);
  }

  /**
   * Shows `exec`; Load more and Revert where `canAct` (a runner, on an active run this server runs).
   * Whether they can be pressed now is set apart: {@link setBusy}, {@link setLoadingMore}.
   */
  render(exec: Execution, runId: string | undefined, canAct: boolean): void {
    const sameExecution = this.shownN === exec.n;
    this.shownN = exec.n;
    if (!this.element.hasChildNodes()) this.element.append(this.metaSlot, this.inputsSlot, this.detailsSlot, this.imagesSlot, this.errorSlot, this.resultSlot);
    replaceChildren(this.inputsSlot, inputsOf(exec));
    this.metaSlot.replaceChildren(this.meta(exec));
    // The request and policy of one execution never change: keep the <details> (and whether it is open).
    if (!sameExecution || !this.detailsSlot.hasChildNodes()) this.detailsSlot.replaceChildren(this.details(exec));
    this.renderImages(exec, canAct);
    const total = itemTotal(exec);
    this.errorSlot.replaceChildren(...(exec.error ? [errorBox(exec.error, total > 0 ? 'Loading more failed' : 'The step failed')] : []));

    if (exec.items.length > 0 && this.step.operation === 'DescribeTable') {
      // One deeply nested item (the table description) reads better as JSON than as one table row.
      this.results.clear();
      this.resultSlot.replaceChildren(h('div', { class: 'results' }, jsonBlock(exec.items[0], `Table description from ${this.step.title}`)));
    } else if (total > 0) {
      if (this.resultSlot.firstChild !== this.results.element) this.resultSlot.replaceChildren(this.results.element);
      this.results.show(exec, total, runId, canAct);
    } else {
      this.results.clear();
      const parts: Node[] = [];
      if (exec.status === 'succeeded') {
        if (this.step.write) parts.push(h('p', { class: 'empty-result' }, 'The write succeeded.'));
        else parts.push(h('p', { class: 'empty-result' }, exec.scannedCount ? `No items matched (${exec.scannedCount.toLocaleString('en-US')} scanned).` : 'No items.'));
      }
      if (exec.attributes) parts.push(h('div', {}, h('h4', {}, 'Returned attributes'), jsonBlock(exec.attributes, 'Returned attributes')));
      this.resultSlot.replaceChildren(...parts);
    }
  }

  /** Revert cannot be pressed while the cell is busy. */
  setBusy(busy: boolean): void {
    if (this.revertButton) this.revertButton.disabled = busy;
  }

  setLoadingMore(loading: boolean): void {
    this.results.setLoadingMore(loading);
  }

  focusResults(): void {
    this.results.focus();
  }

  private meta(exec: Execution): HTMLElement {
    return h(
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
    );
  }

  private details(exec: Execution): HTMLElement {
    return h(
      'details',
      { class: 'request-policy' },
      h('summary', {}, 'Request and session policy'),
      h(
        'div',
        { class: 'json-pair' },
        h('div', {}, h('h4', {}, 'Rendered request'), jsonBlock(exec.request, `Rendered request of ${this.step.title}`)),
        h(
          'div',
          {},
          h('h4', {}, 'Session policy'),
          exec.policy !== undefined ? jsonBlock(exec.policy, `Session policy of ${this.step.title}`) : h('p', { class: 'muted' }, 'No session was issued.'),
        ),
      ),
    );
  }

  /** A write's before and after images, whether it was reverted, and the Revert button where it may be. */
  private renderImages(exec: Execution, canAct: boolean): void {
    const images = imagesOf(exec, 'images');
    const reverted = revertedBy(exec);
    const reverts = revertOf(exec);
    const canRevert = images !== undefined && 'items' in images && images.items.length > 0 && !reverted && exec.status === 'succeeded' && canAct;
    this.revertButton = canRevert
      ? h('button', { type: 'button', class: 'button', 'aria-label': `Revert execution ${exec.n} of ${this.step.title}`, onclick: () => this.controls.revert(exec.n) }, 'Revert')
      : undefined;
    replaceChildren(
      this.imagesSlot,
      writeChanges(images),
      reverts !== undefined ? h('p', { class: 'muted' }, `This execution put back the items as they were before execution #${reverts}.`) : null,
      reverted
        ? h(
            'p',
            { class: 'notice notice-info' },
            `Reverted${reverted.n !== undefined ? ` by execution #${reverted.n}` : ''}: the items were put back as they were before this write.`,
          )
        : null,
      this.revertButton
        ? h(
            'div',
            { class: 'revert-actions' },
            this.revertButton,
            h('span', { class: 'muted' }, 'Puts back the items as they were before this write, if nothing changed them since.'),
          )
        : null,
    );
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
        h(
          'li',
          {},
          h('code', {}, `{{${input.ref}}}`),
          ' = ',
          h('code', { class: 'input-value' }, JSON.stringify(input.value)),
          h('span', { class: 'muted' }, ` from ${input.step} #${input.n}`),
        ),
      ),
    ),
  );
}
