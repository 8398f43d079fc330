/**
 * The parameters of a notebook page: before a run, the form to start one (remembered for the
 * browser tab, so that a new run starts from the last values), or for a user who may not run steps
 * the list of what a run takes; with a run, the values it runs with, which it keeps.
 */
import type { Run } from '../api-types.js';
import { h } from '../dom.js';
import type { FormValues } from '../param-check.js';
import { routeHash } from '../router.js';

const STORED_PARAMS = 'rb:params:';

/** The values last started with in this tab (or given for a new run), by runbook. */
export function storedParams(runbookId: string): FormValues {
  try {
    return JSON.parse(sessionStorage.getItem(STORED_PARAMS + runbookId) ?? '{}') as FormValues;
  } catch {
    return {};
  }
}

export function storeParams(runbookId: string, values: Record<string, unknown>): void {
  const strings: FormValues = {};
  for (const [k, v] of Object.entries(values)) strings[k] = String(v);
  sessionStorage.setItem(STORED_PARAMS + runbookId, JSON.stringify(strings));
}

/** The values a run runs with; `onNewRun`, for a user who may start runs, follows the link to a new one. */
export function runParams(run: Run, onNewRun?: (event: Event) => void): HTMLElement {
  return paramsCard(
    'Parameters of this run',
    Object.entries(run.params).map(([k, v]) => [k, h('dd', { class: 'mono' }, String(v))]),
    'This run has no parameters.',
    h(
      'p',
      { class: 'muted' },
      'A run keeps its parameters. ',
      onNewRun ? h('a', { href: routeHash({ name: 'runbook', id: run.runbook }), onclick: onNewRun }, 'Start a new run with other values') : null,
    ),
  );
}

/** A card of parameters, each its name and its `<dd>`, or `empty` where there are none; `footer` below them. */
export function paramsCard(label: string, params: Array<[name: string, dd: HTMLElement]>, empty: string, footer?: HTMLElement): HTMLElement {
  return h(
    'section',
    { class: 'card params-summary', 'aria-label': label },
    h('h2', {}, 'Parameters'),
    params.length === 0
      ? h('p', { class: 'muted' }, empty)
      : h(
          'dl',
          { class: 'param-values' },
          params.map(([name, dd]) => [h('dt', { class: 'mono' }, name), dd]),
        ),
    footer,
  );
}
