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
  const entries = Object.entries(run.params);
  return h(
    'section',
    { class: 'card params-summary', 'aria-label': 'Parameters of this run' },
    h('h2', {}, 'Parameters'),
    entries.length === 0
      ? h('p', { class: 'muted' }, 'This run has no parameters.')
      : h(
          'dl',
          { class: 'param-values' },
          entries.map(([k, v]) => [h('dt', { class: 'mono' }, k), h('dd', { class: 'mono' }, String(v))]),
        ),
    h(
      'p',
      { class: 'muted' },
      'A run keeps its parameters. ',
      onNewRun ? h('a', { href: routeHash({ name: 'runbook', id: run.runbook }), onclick: onNewRun }, 'Start a new run with other values') : null,
    ),
  );
}
