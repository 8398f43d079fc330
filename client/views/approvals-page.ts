/**
 * Pending approval requests of active runs: what will run, with which policy, who asked. An
 * approver other than the requester approves or denies each, with a comment.
 */
import { api } from '../api.js';
import { hasRole, type Approval, type RunEvent, type RunSummary } from '../api-types.js';
import { h, jsonBlock, uniqueId } from '../dom.js';
import { formatTime, plural } from '../format.js';
import { routeHash } from '../router.js';
import type { View, ViewContext } from './context.js';
import { errorBox, toShownError } from './error-box.js';

/** Pending approvals of active runs, oldest request first. */
export function pendingApprovals(runs: RunSummary[]): Array<{ run: RunSummary; approval: Approval }> {
  const out: Array<{ run: RunSummary; approval: Approval }> = [];
  for (const run of runs) {
    if (run.status !== 'active') continue;
    for (const approval of Object.values(run.approvals)) if (approval.status === 'pending') out.push({ run, approval });
  }
  return out.sort((a, b) => a.approval.requestedAt.localeCompare(b.approval.requestedAt));
}

export class ApprovalsView implements View {
  readonly element: HTMLElement;
  private readonly list = h('div', { class: 'approval-list' });
  private readonly status = h('p', { class: 'muted', role: 'status' });
  private readonly off: () => void;

  constructor(private readonly ctx: ViewContext) {
    ctx.setTitle('Approvals');
    const isApprover = hasRole(ctx.me, 'approver');
    this.element = h(
      'div',
      { class: 'page' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Approvals')),
      h('p', { class: 'muted' }, isApprover ? 'Steps waiting for a second person. Check the request and its session policy, then approve or deny.' : 'Steps waiting for a second person. Only users with the approver role can decide them.'),
      this.status,
      this.list,
    );
    this.off = ctx.live.onEvent((event: RunEvent) => {
      if (event.type === 'approval.requested' || event.type === 'approval.decided' || event.type === 'approval.updated' || event.type === 'run.completed') void this.load();
    });
    void this.load();
  }

  destroy(): void {
    this.off();
  }

  private async load(): Promise<void> {
    try {
      this.render(pendingApprovals(await api.runs()));
    } catch (err) {
      this.list.replaceChildren(errorBox(toShownError(err), 'The approval requests could not be loaded'));
    }
  }

  private render(pending: Array<{ run: RunSummary; approval: Approval }>): void {
    if (pending.length === 0) {
      this.list.replaceChildren(h('p', { class: 'empty card' }, 'Nothing is waiting for approval.'));
      return;
    }
    this.list.replaceChildren(...pending.map(({ run, approval }) => this.request(run, approval)));
  }

  private request(run: RunSummary, approval: Approval): HTMLElement {
    const me = this.ctx.me;
    const titleId = uniqueId('approval');
    const own = approval.requestedBy === me.user;
    const canDecide = hasRole(me, 'approver') && !own;
    const notice = h('div', {});
    let actions: HTMLElement;
    if (canDecide) {
      const commentId = uniqueId('comment');
      const comment = h('textarea', { id: commentId, rows: 2, class: 'comment' });
      const decide = async (approve: boolean, buttons: HTMLButtonElement[]) => {
        for (const b of buttons) b.disabled = true;
        try {
          await api.decide(run.id, approval.step, approve, comment.value.trim());
          this.status.textContent = `${approve ? 'Approved' : 'Denied'} step ${approval.step} of run ${run.id}.`;
          this.ctx.announce(this.status.textContent);
          await this.load();
        } catch (err) {
          notice.replaceChildren(errorBox(toShownError(err), 'Your decision was not recorded'));
          for (const b of buttons) b.disabled = false;
        }
      };
      const approve = h('button', { type: 'button', class: 'button primary', 'aria-label': `Approve step ${approval.step} of run ${run.id}` }, 'Approve');
      const deny = h('button', { type: 'button', class: 'button danger', 'aria-label': `Deny step ${approval.step} of run ${run.id}` }, 'Deny');
      approve.addEventListener('click', () => void decide(true, [approve, deny]));
      deny.addEventListener('click', () => void decide(false, [approve, deny]));
      actions = h('div', { class: 'decision' }, h('label', { for: commentId }, 'Comment (optional)'), comment, h('div', { class: 'decision-actions' }, approve, deny));
    } else {
      actions = h('p', { class: 'muted' }, own ? 'You asked for this approval; another approver must decide it.' : 'Only users with the approver role can decide.');
    }
    return h(
      'article',
      { class: 'card approval-request', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, 'Step ', h('code', {}, approval.step), ' of ', h('a', { href: routeHash({ name: 'run', id: run.id }) }, run.title)),
      h('p', { class: 'muted' }, `Run ${run.id} · requested by ${approval.requestedBy} at ${formatTime(approval.requestedAt)} · run started by ${run.user}, ${plural(run.executions.length, 'execution')} so far`),
      h('div', { class: 'json-pair' }, h('div', {}, h('h3', {}, 'Request'), jsonBlock(approval.request, `Request of step ${approval.step}`)), h('div', {}, h('h3', {}, 'Session policy'), jsonBlock(approval.policy, `Session policy of step ${approval.step}`))),
      actions,
      notice,
    );
  }
}
