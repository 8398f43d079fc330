/**
 * The session badge of an execution: the assumed-role id STS gave the step's session and the time
 * it has left, counting down from its expiry; `revoked` once the run completed. One timer ticks
 * every badge on the page.
 */
import type { SessionInfo } from '../api-types.js';
import { h } from '../dom.js';
import { timeLeft } from '../format.js';

const ticking = new Map<HTMLElement, string>();
let timer: number | undefined;

function tick(): void {
  const now = Date.now();
  for (const [el, expiration] of ticking) {
    if (!el.isConnected) {
      ticking.delete(el);
      continue;
    }
    paint(el, expiration, now);
  }
  if (ticking.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

function paint(el: HTMLElement, expiration: string, now: number): void {
  const left = timeLeft(expiration, now);
  el.textContent = left.text;
  el.classList.toggle('expired', left.expired);
  el.classList.toggle('ending', !left.expired && left.seconds < 120);
  if (left.expired) ticking.delete(el);
}

/** A badge for one session; its time left updates every second until it expires or is revoked. */
export function sessionBadge(session: SessionInfo): HTMLElement {
  const state = h('span', { class: 'session-state' });
  if (session.revoked) {
    state.textContent = 'revoked';
    state.classList.add('revoked');
  } else {
    paint(state, session.expiration, Date.now());
    if (!state.classList.contains('expired')) {
      ticking.set(state, session.expiration);
      timer ??= window.setInterval(tick, 1000);
    }
  }
  return h(
    'span',
    { class: 'session-badge', title: `Session of role ${session.roleArn}, expires ${session.expiration}` },
    h('span', { class: 'session-label' }, 'Session'),
    h('code', { class: 'session-id' }, session.assumedRoleId),
    state,
  );
}
