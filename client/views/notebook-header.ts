/** The top of a notebook page: breadcrumbs, the runbook's title, facts and errors, or why it cannot be shown. */
import type { RunbookView } from '../api-types.js';
import { h, type Children } from '../dom.js';
import { plural } from '../format.js';
import type { ShownError } from '../shown-error.js';
import { errorBox } from './error-box.js';

function breadcrumbs(current: string): HTMLElement {
  return h(
    'nav',
    { class: 'breadcrumbs', 'aria-label': 'Breadcrumbs' },
    h('a', { href: '#/' }, 'Runbooks'),
    h('span', { 'aria-hidden': 'true' }, ' / '),
    h('span', { 'aria-current': 'page' }, current),
  );
}

/** The runbook's title, description, tags and access, and its errors, which keep every step from running. */
export function runbookHeader(rb: RunbookView): Children[] {
  return [
    breadcrumbs(rb.title),
    h('h1', {}, rb.title),
    rb.description ? h('p', { class: 'description' }, rb.description) : null,
    h(
      'p',
      { class: 'nb-facts' },
      h('code', { class: 'chip' }, rb.id),
      rb.tags.map((t) => h('span', { class: 'tag' }, t)),
      h(
        'span',
        { class: 'muted' },
        `${plural(rb.sections.filter((s) => s.kind === 'step').length, 'step')} · sessions last up to ${Math.round(rb.access.duration / 60)} min · approval: ${rb.access.approval}`,
      ),
    ),
    rb.problems.length > 0
      ? h(
          'div',
          { class: 'error-box', role: 'alert' },
          h('p', { class: 'error-title' }, h('strong', {}, 'This runbook has errors and cannot run until they are fixed')),
          h(
            'ul',
            { class: 'problems' },
            rb.problems.map((p) => h('li', { class: 'mono' }, `${p.file}:${p.line}:${p.column}: ${p.message}`)),
          ),
          h('p', { class: 'error-advice' }, 'Fix each line named above (`runbooks check` lists the same errors), then reload.'),
        )
      : null,
  ];
}

/** A page that cannot show what it was asked for: the heading says what, the box why. */
export function failedHeader(heading: string, error: ShownError, title: string): Node[] {
  return [breadcrumbs(heading), h('h1', {}, heading), errorBox(error, title)];
}
