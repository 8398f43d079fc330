/**
 * The run bar at the top of the notebook: the run's status, id and starter, Run all reads and
 * Complete run where this user may use them, the transcript downloads, and banners for an ended
 * run, a runbook changed since the run started, and a run another process runs.
 */
import { transcriptUrl, type TranscriptFormat } from '../api.js';
import type { Me, Run } from '../api-types.js';
import { h, replaceChildren } from '../dom.js';
import { formatTime, plural } from '../format.js';
import type { BarView } from '../notebook/run-model.js';
import { routeHash } from '../router.js';
import { errorBox } from './error-box.js';
import { watchOnlyNote } from './watch-only.js';

export interface RunBarControls {
  onRunAll(): void;
  onComplete(): void;
  /** a link to a new run of the runbook was followed: offers to complete this run first */
  onNewRun(event: Event): void;
}

const runStatusText: Record<Run['status'], string> = {
  active: 'Active',
  completed: 'Completed',
  expired: 'Expired',
  interrupted: 'Interrupted',
};

const formats: Array<[TranscriptFormat, string]> = [
  ['md', 'Markdown'],
  ['json', 'JSON'],
  ['html', 'HTML'],
];

/** Fills `bar` with the run bar as the model has it (notebook/run-model.ts, `bar()`). */
export function renderRunBar(bar: HTMLElement, s: BarView, me: Me, c: RunBarControls): void {
  const { run, watching } = s;
  const canRun = s.runnable && (!run || run.status === 'active');
  const runAll = h(
    'button',
    { type: 'button', class: 'button', disabled: !canRun || !s.hasReads || s.runningAll, onclick: () => c.onRunAll() },
    s.runningAll ? 'Running reads…' : 'Run all reads',
  );
  const status = typeof s.status === 'string' || s.status === undefined ? (s.status ?? '') : errorBox(s.status.error, s.status.title);
  const statusLine = h('p', { class: 'run-bar-status', role: 'status' }, status);
  if (!run) {
    replaceChildren(
      bar,
      h(
        'div',
        { class: 'run-bar-info' },
        h('strong', {}, 'No run yet. '),
        watching
          ? watchOnlyNote(me, 'runbook')
          : s.runnable
            ? 'Fill in the parameters, then start a run or run any step (Shift+Enter runs the focused step and moves to the next).'
            : 'Fix the errors above first.',
      ),
      watching ? null : h('div', { class: 'run-bar-actions' }, runAll),
      statusLine,
    );
    return;
  }
  // Completing is refused to non-runners; a run another process runs is completed there.
  const offersRun = run.status === 'active' && !watching && !run.elsewhere;
  replaceChildren(
    bar,
    h(
      'div',
      { class: 'run-bar-info' },
      h('span', { class: `run-status run-${run.status}` }, runStatusText[run.status]),
      h('span', {}, 'Run ', h('code', {}, run.id)),
      h('span', { class: 'muted' }, `started by ${run.user} at ${formatTime(run.startedAt)}`),
      watching && run.status === 'active' ? watchOnlyNote(me, 'run') : null,
    ),
    h(
      'div',
      { class: 'run-bar-actions' },
      offersRun ? runAll : null,
      offersRun ? h('button', { type: 'button', class: 'button danger-outline', onclick: () => c.onComplete() }, 'Complete run') : null,
      h(
        'span',
        { class: 'transcripts', role: 'group', 'aria-label': 'Download the transcript' },
        h('span', { class: 'muted' }, 'Transcript:'),
        formats.map(([format, name]) =>
          h('a', { class: 'button small', href: transcriptUrl(run.id, format), download: `${run.id}.${format}`, 'aria-label': `Download transcript as ${name}` }, name),
        ),
      ),
    ),
    run.status !== 'active' ? endedBanner(run) : null,
    run.runbookChanged
      ? h(
          'div',
          { class: 'ended-banner warning', role: 'status' },
          h('strong', {}, 'The runbook has changed since this run started. '),
          'This run keeps using the version it started with, shown here.',
          watching
            ? null
            : [
                ' ',
                h('a', { href: routeHash({ name: 'runbook', id: run.runbook }), onclick: (event: Event) => c.onNewRun(event) }, 'Start a new run with the current version'),
                '.',
              ],
        )
      : null,
    run.elsewhere && run.status === 'active'
      ? h(
          'div',
          { class: 'ended-banner', role: 'status' },
          h('strong', {}, 'This run is run elsewhere. '),
          `${run.elsewhere} runs it on this data folder and holds its sessions; its steps run there, and this page follows along.`,
        )
      : null,
    statusLine,
  );
}

function endedBanner(run: Run): HTMLElement {
  const why: Record<string, string> = {
    complete: 'Run completed',
    idle: 'Run expired after being idle',
    shutdown: 'Run ended when the server shut down',
    interrupted: 'Run interrupted: the server stopped while it was active',
  };
  const r = run.revocation;
  const how =
    r?.iam === 'done'
      ? 'the server forgot their credentials and an IAM deny policy on the role blocks them until they expire.'
      : r?.iam === 'failed'
        ? `the server forgot their credentials, but the IAM deny policy could not be put (${r.error ?? 'unknown error'}); they stay valid with AWS until they expire.`
        : 'the server forgot their credentials (IAM revocation is off, so AWS accepts them until they expire).';
  return h(
    'div',
    { class: `ended-banner${r?.iam === 'failed' ? ' warning' : ''}`, role: 'status' },
    h('strong', {}, `${why[run.endReason ?? 'complete'] ?? 'Run ended'} at ${formatTime(run.endedAt)}. `),
    r ? `${plural(r.sessions, 'session')} revoked: ${how}` : 'Its sessions are revoked.',
  );
}
