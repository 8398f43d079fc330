/**
 * What a user who may not run steps (no runner role) sees where run controls would be: a line
 * saying what they can do here, and a runbook's parameters listed rather than offered as a form.
 */
import { hasRole, type Me, type ParamDecl } from '../api-types.js';
import { h } from '../dom.js';
import { paramHint } from '../param-check.js';
import { paramsCard } from './run-params.js';

/** One short line for the run bar: on a run, or on a runbook before any run. */
export function watchOnlyNote(me: Me, on: 'run' | 'runbook'): HTMLElement {
  const decide = hasRole(me, 'approver');
  const text =
    on === 'run'
      ? `You can watch this run${decide ? ' and decide its approval requests' : ''}; running steps needs the runner role.`
      : `You can read this runbook${decide ? ' and decide approval requests of its runs' : ''}; starting a run needs the runner role.`;
  return h('p', { class: 'watch-note' }, text);
}

/** The parameters a run of the runbook takes, as a list. */
export function paramList(decls: ParamDecl[]): HTMLElement {
  return paramsCard(
    'Parameters of this runbook',
    decls.map((d) => [d.name, h('dd', {}, [d.description, paramHint(d)].filter(Boolean).join(' — '))]),
    'This runbook takes no parameters.',
  );
}
