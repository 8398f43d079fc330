/** The runbooks: title, description, tags, step count and any `check` problems, with a filter box. */
import { api } from '../api.js';
import type { RunbookSummary } from '../api-types.js';
import { h } from '../dom.js';
import { plural } from '../format.js';
import { routeHash } from '../router.js';
import { toShownError } from '../shown-error.js';
import type { View, ViewContext } from './context.js';
import { errorBox } from './error-box.js';

/** True when every word of the filter occurs in the runbook's id, title, description or tags. */
export function matchesFilter(rb: RunbookSummary, filter: string): boolean {
  const haystack = [rb.id, rb.title, rb.description ?? '', ...rb.tags].join(' ').toLowerCase();
  return filter
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => haystack.includes(word));
}

export class RunbookListView implements View {
  readonly element: HTMLElement;
  private readonly list = h('ul', { class: 'runbook-list', 'aria-label': 'Runbooks' });
  private readonly count = h('p', { class: 'muted filter-count', role: 'status' });
  private runbooks: RunbookSummary[] = [];

  constructor(ctx: ViewContext) {
    ctx.setTitle('Runbooks');
    const filter = h('input', { id: 'runbook-filter', type: 'search', placeholder: 'title, tag, id…', autocomplete: 'off', spellcheck: 'false' });
    filter.addEventListener('input', () => this.render(filter.value));
    this.element = h(
      'div',
      { class: 'page' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Runbooks'), h('div', { class: 'filter' }, h('label', { for: 'runbook-filter' }, 'Filter runbooks'), filter)),
      this.count,
      this.list,
    );
    this.list.append(h('li', { class: 'muted' }, 'Loading…'));
    api
      .runbooks()
      .then((runbooks) => {
        this.runbooks = runbooks;
        this.render(filter.value);
      })
      .catch((err: unknown) => this.list.replaceChildren(h('li', {}, errorBox(toShownError(err), 'The runbooks could not be listed'))));
  }

  destroy(): void {}

  private render(filter: string): void {
    const shown = this.runbooks.filter((rb) => matchesFilter(rb, filter));
    this.count.textContent = filter.trim() ? `${shown.length} of ${plural(this.runbooks.length, 'runbook')} match “${filter.trim()}”.` : plural(this.runbooks.length, 'runbook');
    if (this.runbooks.length === 0) {
      this.list.replaceChildren(h('li', { class: 'empty' }, 'No runbooks yet: add a Markdown file with a fenced ', h('code', {}, 'dynamodb'), ' block to the runbooks folder.'));
      return;
    }
    if (shown.length === 0) {
      this.list.replaceChildren(h('li', { class: 'empty' }, 'No runbook matches the filter.'));
      return;
    }
    this.list.replaceChildren(
      ...shown.map((rb) =>
        h(
          'li',
          { class: `runbook-item card${rb.problems.length ? ' has-problems' : ''}` },
          h(
            'div',
            { class: 'runbook-item-head' },
            h('h2', {}, h('a', { href: routeHash({ name: 'runbook', id: rb.id }) }, rb.title)),
            h('span', { class: 'chip chip-quiet' }, plural(rb.steps, 'step')),
          ),
          rb.description ? h('p', { class: 'description' }, rb.description) : null,
          h(
            'p',
            { class: 'runbook-facts' },
            h('code', { class: 'muted' }, rb.id),
            rb.tags.map((t) => h('span', { class: 'tag' }, t)),
          ),
          rb.problems.length
            ? h(
                'div',
                { class: 'problems-box' },
                h('p', {}, h('strong', {}, plural(rb.problems.length, 'problem')), ': fix before running'),
                h(
                  'ul',
                  { class: 'problems' },
                  rb.problems.map((p) => h('li', { class: 'mono' }, `${p.file}:${p.line}:${p.column}: ${p.message}`)),
                ),
              )
            : null,
        ),
      ),
    );
  }
}
