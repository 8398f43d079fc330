/**
 * The notebook's shell: who is signed in, the top bar, the live connection, the banners for a lost
 * connection or token, and the hash router that swaps the page.
 */
import { api, ApiError, NETWORK_ERROR, onAuthRequired } from './api.js';
import { hasRole, type Me, type RunEvent } from './api-types.js';
import { mayDecide, pendingApprovals } from './approvals.js';
import { h } from './dom.js';
import { LiveEvents } from './live.js';
import { parseRoute, type Route } from './router.js';
import { toShownError } from './shown-error.js';
import { ApprovalsView } from './views/approvals-page.js';
import type { View, ViewContext } from './views/context.js';
import { errorBox } from './views/error-box.js';
import { NotebookView } from './views/notebook.js';
import { RunHistoryView } from './views/run-history.js';
import { RunbookListView } from './views/runbook-list.js';

const APP = 'DynamoDB Runbooks';

function signInPage(root: HTMLElement): void {
  document.title = `Sign in · ${APP}`;
  root.replaceChildren(
    h(
      'main',
      { class: 'signin card', id: 'main' },
      h('h1', {}, 'Open the notebook with its token'),
      h('p', {}, 'This server needs the access token it printed when it started, as Jupyter does. Open the URL it printed, which looks like:'),
      h('pre', { class: 'mono' }, `${location.origin}/?token=…`),
      h('p', { class: 'muted' }, 'If the server restarted, it printed a new token: the old URL no longer works. Named users open the URL with their own token.'),
    ),
  );
}

function fatalPage(root: HTMLElement, err: unknown): void {
  root.replaceChildren(h('main', { class: 'signin card', id: 'main' }, h('h1', {}, APP), errorBox(toShownError(err), 'The notebook could not start')));
}

class Shell {
  private view?: View;
  private readonly main = h('main', { id: 'main', tabindex: -1 });
  private readonly banners = h('div', { class: 'banners' });
  private readonly announcer = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });
  private readonly liveState = h('span', { class: 'live-state', role: 'status' });
  private readonly approvalsCount = h('span', { class: 'count', hidden: true });
  private readonly nav: Record<string, HTMLAnchorElement>;
  private readonly live = new LiveEvents();
  private readonly ctx: ViewContext;
  private lostTimer?: number;
  private countTimer?: number;

  constructor(
    private readonly root: HTMLElement,
    private readonly me: Me,
  ) {
    this.ctx = {
      me,
      live: this.live,
      announce: (text) => {
        this.announcer.textContent = '';
        // A fresh text node per message, so repeated messages are announced again.
        window.setTimeout(() => (this.announcer.textContent = text), 50);
      },
      setTitle: (title) => (document.title = `${title} · ${APP}`),
    };
    this.nav = {
      runbooks: h('a', { href: '#/' }, 'Runbooks'),
      runs: h('a', { href: '#/runs' }, 'Runs'),
      approvals: h('a', { href: '#/approvals' }, 'Approvals', this.approvalsCount),
    };
    root.replaceChildren(
      h('a', { class: 'skip-link', href: '#main', onclick: (e: Event) => (e.preventDefault(), this.main.focus()) }, 'Skip to content'),
      h(
        'header',
        { class: 'topbar' },
        h('a', { class: 'brand', href: '#/' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '▤'), APP),
        h('nav', { 'aria-label': 'Main' }, Object.values(this.nav)),
        h(
          'span',
          { class: 'topbar-right' },
          this.liveState,
          h(
            'span',
            { class: 'user', title: `Roles: ${me.roles.join(', ') || 'none'}` },
            h('span', { class: 'visually-hidden' }, 'Signed in as '),
            me.user,
            h('span', { class: 'roles' }, me.roles.join(' · ')),
          ),
        ),
      ),
      this.banners,
      this.main,
      this.announcer,
    );
    onAuthRequired(() =>
      this.banner(
        'auth',
        'Your access token is no longer accepted (the server may have restarted with a new one). Open the URL printed by `runbooks serve` again; what you see here stays until you do.',
      ),
    );
    this.live.onState((state, reconnected) => this.onLiveState(state, reconnected));
    this.live.onEvent((event) => this.onEvent(event));
    this.live.start();
    window.addEventListener('hashchange', () => this.show(parseRoute(location.hash), true));
    this.show(parseRoute(location.hash), false);
    void this.countApprovals();
  }

  private show(route: Route, moveFocus: boolean): void {
    this.view?.destroy();
    const view = this.viewFor(route);
    this.view = view;
    this.main.replaceChildren(view.element);
    const section = route.name === 'run' || route.name === 'runbook' ? 'runbooks' : route.name;
    for (const [name, link] of Object.entries(this.nav)) {
      if (name === section) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (moveFocus) {
      window.scrollTo(0, 0);
      this.main.focus({ preventScroll: true });
    }
  }

  private viewFor(route: Route): View {
    switch (route.name) {
      case 'runbooks':
        return new RunbookListView(this.ctx);
      case 'runbook':
        return new NotebookView(this.ctx, { runbookId: route.id });
      case 'run':
        return new NotebookView(this.ctx, { runId: route.id });
      case 'runs':
        return new RunHistoryView(this.ctx);
      case 'approvals':
        return new ApprovalsView(this.ctx);
      case 'not-found':
        this.ctx.setTitle('Not found');
        return {
          element: h('div', { class: 'page' }, h('h1', {}, 'Nothing here'), h('p', {}, 'This address names no page. ', h('a', { href: '#/' }, 'Go to the runbooks.'))),
          destroy: () => undefined,
        };
    }
  }

  private banner(key: string, text: string | undefined, kind: 'error' | 'warning' = 'error'): void {
    const current = this.banners.querySelector(`[data-banner="${key}"]`);
    // The same words again are not news: an alert re-inserted would be announced again.
    if (current && current.textContent === text) return;
    current?.remove();
    if (text) this.banners.append(h('div', { class: `banner banner-${kind}`, role: 'alert', 'data-banner': key }, text));
  }

  private onLiveState(state: string, reconnected: boolean): void {
    this.liveState.textContent = state === 'open' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline';
    this.liveState.className = `live-state live-${state}`;
    if (state === 'open') {
      clearTimeout(this.lostTimer);
      this.lostTimer = undefined;
      if (this.banners.querySelector('[data-banner="connection"]')) {
        this.banner('connection', undefined);
        this.ctx.announce('Reconnected: the page shows the latest state again.');
      }
      if (reconnected) void this.countApprovals();
      return;
    }
    if (state === 'closed' && this.lostTimer === undefined) {
      // A blip (a proxy recycling the socket) should not flash a banner; each failed retry re-checks why.
      this.lostTimer = window.setTimeout(() => void this.connectionLost(), 1500);
    }
  }

  private async connectionLost(): Promise<void> {
    this.lostTimer = undefined;
    if (this.live.state === 'open') return;
    let reachable = true;
    try {
      await api.me();
    } catch (err) {
      reachable = !(err instanceof ApiError && err.code === NETWORK_ERROR);
      if (err instanceof ApiError && err.status === 401) return;
    }
    this.banner(
      'connection',
      reachable
        ? 'Live updates are interrupted; reconnecting. Changes made in other browsers appear once the connection is back.'
        : 'The server cannot be reached. Check that `runbooks serve` is still running; this page reconnects by itself and keeps what you entered.',
      'warning',
    );
  }

  private onEvent(event: RunEvent): void {
    if (event.type === 'approval.requested' || event.type === 'approval.decided' || event.type === 'approval.updated' || event.type === 'run.completed') {
      clearTimeout(this.countTimer);
      this.countTimer = window.setTimeout(() => void this.countApprovals(), 200);
    }
  }

  /** The number of requests this user could decide, next to "Approvals". */
  private async countApprovals(): Promise<void> {
    if (!hasRole(this.me, 'approver')) return;
    try {
      const n = pendingApprovals(await api.runs()).filter((p) => mayDecide(this.me, p.approval)).length;
      this.approvalsCount.hidden = n === 0;
      this.approvalsCount.textContent = String(n);
      this.approvalsCount.setAttribute('aria-label', `${n} waiting`);
    } catch {
      // The count is a convenience; the Approvals page shows the error if the server fails.
    }
  }
}

async function boot(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  let me: Me;
  try {
    me = await api.me();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signInPage(root);
    else fatalPage(root, err);
    return;
  }
  new Shell(root, me);
}

void boot();
