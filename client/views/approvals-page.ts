/**
 * Pending approval requests of active runs, each as an approval card (approval-card.ts): the step's
 * title and prose from the run's own runbook, what will run, with which policy, the items it would
 * change, who asked. An approver other than the requester approves or denies each, with a comment.
 */
import { api } from '../api.js';
import { approvalTarget, hasRole, type Approval, type RunbookView, type RunEvent, type RunSummary } from '../api-types.js';
import { DECISION_REFUSED, decisionSubject, mayDecide, pendingApprovals, requestTitle, sendDecision } from '../approvals.js';
import { h, uniqueId } from '../dom.js';
import { formatTime, plural } from '../format.js';
import { routeHash } from '../router.js';
import { toShownError } from '../shown-error.js';
import { approvalCard } from './approval-card.js';
import type { View, ViewContext } from './context.js';
import { errorBox } from './error-box.js';
import { stepText, type StepText } from './step-prose.js';

export class ApprovalsView implements View {
  readonly element: HTMLElement;
  private readonly list = h('div', { class: 'approval-list' });
  private readonly status = h('p', { class: 'muted', role: 'status' });
  private readonly off: () => void;
  /** each run's own runbook, for its steps' titles and prose: it never changes, so it is fetched once */
  private readonly runbooks = new Map<string, Promise<RunbookView | undefined>>();

  constructor(private readonly ctx: ViewContext) {
    ctx.setTitle('Approvals');
    const isApprover = hasRole(ctx.me, 'approver');
    this.element = h(
      'div',
      { class: 'page' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Approvals')),
      h(
        'p',
        { class: 'muted' },
        isApprover
          ? 'Steps waiting for a second person. Check the request and its session policy, then approve or deny.'
          : 'Steps waiting for a second person. Only users with the approver role can decide them.',
      ),
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
      const pending = pendingApprovals(await api.runs());
      const runbooks = new Map(await Promise.all([...new Set(pending.map((p) => p.run.id))].map(async (id) => [id, await this.runbookOf(id)] as const)));
      this.render(pending, runbooks);
    } catch (err) {
      this.list.replaceChildren(errorBox(toShownError(err), 'The approval requests could not be loaded'));
    }
  }

  /** Undefined when it cannot be read: the card then names the step instead (and a later load tries again). */
  private runbookOf(runId: string): Promise<RunbookView | undefined> {
    let runbook = this.runbooks.get(runId);
    if (!runbook) {
      runbook = api.runRunbook(runId).catch(() => {
        this.runbooks.delete(runId);
        return undefined;
      });
      this.runbooks.set(runId, runbook);
    }
    return runbook;
  }

  private render(pending: Array<{ run: RunSummary; approval: Approval }>, runbooks: Map<string, RunbookView | undefined>): void {
    if (pending.length === 0) {
      this.list.replaceChildren(h('p', { class: 'empty card' }, 'Nothing is waiting for approval.'));
      return;
    }
    this.list.replaceChildren(...pending.map(({ run, approval }) => this.request(run, approval, runbooks.get(run.id))));
  }

  private request(run: RunSummary, approval: Approval, runbook: RunbookView | undefined): HTMLElement {
    const me = this.ctx.me;
    const titleId = uniqueId('approval');
    const own = approval.requestedBy === me.user;
    const canDecide = mayDecide(me, approval);
    const target = approvalTarget(approval.step);
    const subject = decisionSubject(target.step, target.revert ? 'revert' : 'step', run.id);
    const notice = h('div', {});
    const decide = async (approve: boolean, comment: string) => {
      const outcome = await sendDecision(api, { runId: run.id, name: approval.step, approve, comment, subject });
      if (outcome.kind === 'refused') {
        notice.replaceChildren(errorBox(outcome.error, DECISION_REFUSED));
        return;
      }
      this.status.textContent = outcome.message;
      this.ctx.announce(outcome.message);
      await this.load();
    };
    const why = own ? 'You asked for this approval; another approver must decide it.' : 'Only users with the approver role can decide.';
    return h(
      'article',
      { class: 'card approval-request', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, 'Step ', h('code', {}, approval.step), ' of ', h('a', { href: routeHash({ name: 'run', id: run.id }) }, run.title)),
      h(
        'p',
        { class: 'muted' },
        `Run ${run.id} · requested by ${approval.requestedBy} at ${formatTime(approval.requestedAt)} · run started by ${run.user}, ${plural(run.executions.length, 'execution')} so far`,
      ),
      approvalCard(approval, {
        heading: 'h3',
        step: runbook ? cardStep(runbook, approval.step) : undefined,
        decision: canDecide ? { subject, decide } : undefined,
      }),
      canDecide ? null : h('p', { class: 'muted' }, why),
      notice,
    );
  }
}

/** The step an approval is for, titled as a revert when it approves a revert of the step's write. */
function cardStep(runbook: RunbookView, name: string): StepText | undefined {
  const target = approvalTarget(name);
  const text = stepText(runbook, target.step);
  return text && { ...text, title: requestTitle(text.title, target.revert ? 'revert' : 'step') };
}
