/** Past and active runs, newest first: runbook, status, who started it, when; each opens as its notebook. */
import { api, transcriptUrl, type TranscriptFormat } from '../api.js';
import type { RunEvent, RunSummary } from '../api-types.js';
import { h, replaceChildren } from '../dom.js';
import { formatTime, plural } from '../format.js';
import { routeHash } from '../router.js';
import { toShownError } from '../shown-error.js';
import type { View, ViewContext } from './context.js';
import { errorBox } from './error-box.js';

export class RunHistoryView implements View {
  readonly element: HTMLElement;
  private readonly body = h('div', { class: 'card table-card' });
  /** pages of older runs shown so far */
  private older: RunSummary[] = [];
  private readonly off: () => void;
  private reloadTimer?: number;

  constructor(ctx: ViewContext) {
    ctx.setTitle('Runs');
    this.element = h('div', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', {}, 'Runs')), this.body);
    this.body.append(h('p', { class: 'muted' }, 'Loading…'));
    this.off = ctx.live.onEvent((event: RunEvent) => {
      if (event.type === 'run.started' || event.type === 'run.completed' || event.type === 'step.succeeded' || event.type === 'step.failed') this.scheduleReload();
    });
    void this.load();
  }

  destroy(): void {
    this.off();
    clearTimeout(this.reloadTimer);
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = window.setTimeout(() => void this.load(), 300);
  }

  private async load(): Promise<void> {
    try {
      const list = await api.runList();
      this.older = [];
      this.render(list.runs, list.older ?? 0);
    } catch (err) {
      this.body.replaceChildren(errorBox(toShownError(err), 'The runs could not be listed'));
    }
  }

  /** Older runs the server reads from its store, a page at a time, on request. */
  private async showOlder(runs: RunSummary[], unlisted: number): Promise<void> {
    const last = this.older.at(-1) ?? runs.at(-1);
    try {
      const page = await api.olderRuns(last?.startedAt ?? new Date().toISOString());
      this.older.push(...page);
      this.render(runs, page.length === 0 ? 0 : unlisted);
    } catch (err) {
      this.body.append(errorBox(toShownError(err), 'Older runs could not be listed'));
    }
  }

  private render(listed: RunSummary[], unlisted = 0): void {
    const runs = [...listed, ...this.older];
    if (runs.length === 0) {
      this.body.replaceChildren(h('p', { class: 'empty' }, 'No runs yet. Open a runbook and run a step to start one.'));
      return;
    }
    replaceChildren(
      this.body,
      activeByUser(runs),
      h(
        'table',
        { class: 'data-table runs-table' },
        h('caption', { class: 'visually-hidden' }, `Runs, newest first: ${runs.length}`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Runbook', 'Run', 'Status', 'User', 'Started', 'Ended', 'Executions', 'Transcript'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          {},
          runs.map((run) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: routeHash({ name: 'run', id: run.id }) }, run.title), h('div', { class: 'muted mono small' }, run.runbook)),
              h('td', { class: 'mono' }, run.id),
              h('td', {}, h('span', { class: `run-status run-${run.status}` }, run.status)),
              h('td', {}, run.user),
              h('td', { class: 'nowrap' }, formatTime(run.startedAt)),
              h('td', { class: 'nowrap' }, formatTime(run.endedAt)),
              h('td', {}, summary(run)),
              h(
                'td',
                { class: 'nowrap transcript-links' },
                formats.map(([format, name]) =>
                  h('a', { href: transcriptUrl(run.id, format), download: `${run.id}.${format}`, 'aria-label': `Download the transcript of run ${run.id} as ${name}` }, format),
                ),
              ),
            ),
          ),
        ),
      ),
      unlisted > this.older.length
        ? h(
            'p',
            { class: 'older-runs' },
            h('button', { type: 'button', class: 'button', onclick: () => void this.showOlder(listed, unlisted) }, 'Show older runs'),
            h('span', { class: 'muted' }, ` ${plural(unlisted - this.older.length, 'older ended run')} not listed yet, read from the run store a page at a time.`),
          )
        : null,
    );
  }
}

const formats: Array<[TranscriptFormat, string]> = [
  ['md', 'Markdown'],
  ['json', 'JSON'],
  ['html', 'HTML'],
];

function summary(run: RunSummary): string {
  const failed = run.executions.filter((e) => e.status === 'failed').length;
  const text = plural(run.executions.length, 'execution');
  return failed ? `${text}, ${failed} failed` : text;
}

/** Who has runs in progress, and which: runs left active hold approvals and show up here until completed. */
function activeByUser(runs: RunSummary[]): HTMLElement {
  const active = new Map<string, RunSummary[]>();
  for (const run of runs) if (run.status === 'active') active.set(run.user, [...(active.get(run.user) ?? []), run]);
  if (active.size === 0) return h('p', { class: 'muted active-runs' }, 'No run is in progress.');
  return h(
    'section',
    { class: 'active-runs', 'aria-label': 'Runs in progress, by user' },
    h('h2', {}, 'In progress'),
    h(
      'ul',
      {},
      [...active].map(([user, list]) =>
        h(
          'li',
          {},
          h('strong', {}, user),
          ` — ${plural(list.length, 'active run')}: `,
          list.map((run, i) => [i > 0 ? ', ' : '', h('a', { href: routeHash({ name: 'run', id: run.id }) }, run.title)]),
        ),
      ),
    ),
  );
}
