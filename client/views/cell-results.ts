/**
 * A cell's items: the results bar (how many, Copy as JSON, Download CSV, Load more) above the
 * result table. A later state of the same execution (another page) updates the table in place,
 * keeping its scroll and the chunks already fetched; the same state again (the execute answer and
 * the live event of one execution) leaves the table alone.
 */
import { columnsOf, hintsOf, inColumnOrder } from '../../server/runs/columns.js';
import { csvUrl } from '../api.js';
import type { Execution, StepView } from '../api-types.js';
import { h } from '../dom.js';
import { plural } from '../format.js';
import { ItemSource } from '../item-source.js';
import type { CellNotice } from '../notebook/run-model.js';
import { toShownError } from '../shown-error.js';
import { copyText } from './copy.js';
import { showItem } from './dialogs.js';
import { ResultTable } from './result-table.js';

export interface ResultsControls {
  /** loads the next page of the step's last execution */
  more(): void;
  /** a failure of the table's own (fetching items), or, with undefined, that it is over */
  notice(notice: CellNotice | undefined): void;
}

export class CellResults {
  readonly element: HTMLElement;
  /** the table of the execution shown, its items, and how many it showed */
  private table?: { n: number; view: ResultTable; bar: HTMLElement; source: ItemSource; total: number };
  private moreButton?: HTMLButtonElement;

  constructor(
    private readonly step: StepView,
    private readonly controls: ResultsControls,
  ) {
    this.element = h('div', { class: 'results' });
  }

  /** Shows `total` items of `exec`; Load more where the run may load the next page ({@link setLoadingMore} says whether it is loading). */
  show(exec: Execution, total: number, runId: string | undefined, canLoadMore: boolean): void {
    const title = this.step.title;
    let fresh = false;
    if (!this.table || this.table.n !== exec.n) {
      const label = `Results of ${title}`;
      const source = new ItemSource({ run: runId ?? '', step: this.step.name, n: exec.n, first: exec.items, total });
      const hints = hintsOf(exec);
      const view = new ResultTable({
        label,
        name: title,
        keys: [...(hints.keys ?? [])],
        projection: [...(hints.projection ?? [])],
        onShowItem: (index, count) => void this.showItemOf(source, label, index, count, view.columnOrder),
        onError: (err) => this.controls.notice(err === undefined ? undefined : { kind: 'error', title: 'Items could not be loaded', error: toShownError(err) }),
      });
      this.table = { n: exec.n, view, bar: h('div', { class: 'results-bar' }), source, total: -1 };
      fresh = true;
    }
    const table = this.table;
    const { view, bar, source } = table;
    const copyStatus = h('span', { class: 'copy-status', role: 'status' });
    const copy = h('button', { type: 'button', class: 'button', 'aria-label': `Copy items of ${title} as JSON` }, 'Copy as JSON');
    const copyAll = async () => {
      copy.disabled = true;
      if (source.missing(0, source.total)) copyStatus.textContent = `Fetching ${plural(source.total, 'item')}…`;
      try {
        const items = await source.all();
        // Each item's attributes in the table's column order, as in the CSV and the transcripts.
        const columns = columnsOf(items, hintsOf(exec));
        const ok = await copyText(
          JSON.stringify(
            items.map((item) => inColumnOrder(item, columns)),
            null,
            2,
          ),
        );
        copyStatus.textContent = ok ? `Copied ${plural(items.length, 'item')} as JSON.` : 'The browser refused to copy; use the CSV download instead.';
      } catch (err) {
        copyStatus.textContent = `Nothing was copied: ${toShownError(err).message}`;
      } finally {
        copy.disabled = false;
      }
    };
    copy.addEventListener('click', () => void copyAll());
    const csv = runId
      ? h(
          'a',
          { class: 'button', href: csvUrl(runId, this.step.name), download: `${runId}-${this.step.name}.csv`, 'aria-label': `Download items of ${title} as CSV` },
          'Download CSV',
        )
      : null;
    this.moreButton =
      exec.hasMore && canLoadMore
        ? h('button', { type: 'button', class: 'button', 'aria-label': `Load more items of ${title}`, onclick: () => this.controls.more() }, 'Load more')
        : undefined;
    bar.replaceChildren(
      h('span', { class: 'results-count' }, plural(total, 'item'), exec.hasMore ? ' · more available' : ''),
      copyStatus,
      h('span', { class: 'results-actions' }, copy, csv, this.moreButton ?? null),
    );
    if (fresh) this.element.replaceChildren(bar, view.element);
    if (total === table.total) return;
    table.total = total;
    source.update(exec.items, total);
    view.show(source);
  }

  /** The execution shown has no table (no items, or a table description): the next one starts afresh. */
  clear(): void {
    this.table = undefined;
    this.moreButton = undefined;
    this.element.replaceChildren();
  }

  /** Load more says it is loading, and cannot be pressed meanwhile. */
  setLoadingMore(loading: boolean): void {
    if (!this.moreButton) return;
    this.moreButton.disabled = loading;
    this.moreButton.textContent = loading ? 'Loading…' : 'Load more';
  }

  /** After a page loaded: Load more again, or the rows once there is nothing more to load. */
  focus(): void {
    if (this.moreButton) this.moreButton.focus();
    else this.table?.view.focus();
  }

  /** Opens item `index` in full, fetching it first when it is not here yet. */
  private async showItemOf(source: ItemSource, label: string, index: number, total: number, columns: readonly string[]): Promise<void> {
    try {
      await source.ensure(index, index + 1);
      const item = source.get(index);
      if (item) showItem(label, inColumnOrder(item, columns), index, total);
    } catch (err) {
      this.controls.notice({ kind: 'error', title: `Item ${index + 1} could not be loaded`, error: toShownError(err) });
    }
  }
}
