/**
 * One approval request as an approver weighs it, the same in a cell and on the Approvals page: the
 * step's title and prose, when the request was rendered and until when it stands, the request and
 * session policy exactly as they will run, the items the write would change as read when it was
 * asked for, and, for an approver who did not ask, a comment and the Approve and Deny buttons.
 */
import { imagesOf, type Approval } from '../api-types.js';
import { h, jsonBlock, uniqueId } from '../dom.js';
import { formatTime } from '../format.js';
import { currentItems } from './images.js';
import type { StepText } from './step-prose.js';

/** The one decision form, in a cell and on the Approvals page alike. */
export interface Decision {
  /** what the buttons decide, in their names: they must say which step (and run), see decisionSubject */
  subject: string;
  decide(approve: boolean, comment: string): Promise<void>;
}

export interface CardOptions {
  /** the step as the run's runbook has it; without it the card names the step */
  step?: StepText;
  /** h3 on a page whose card has an h2; h4 inside a cell */
  heading: 'h3' | 'h4';
  /** present only for someone who may decide */
  decision?: Decision;
}

export function approvalCard(a: Approval, options: CardOptions): HTMLElement {
  const { heading: hx, step } = options;
  const title = step?.title ?? a.step;
  return h(
    'div',
    { class: 'approval-card' },
    h('div', { class: 'approval-step' }, h(hx, {}, title), step && step.prose.some((n) => n.textContent?.trim()) ? h('div', { class: 'prose' }, step.prose) : null),
    h('p', { class: 'approval-times' }, `Request rendered at ${formatTime(a.renderedAt)}: it runs exactly as shown. The request expires at ${formatTime(a.expiresAt)}.`),
    h(
      'div',
      { class: 'json-pair' },
      h('div', {}, h(hx, {}, 'Request'), jsonBlock(a.request, `Request to approve: ${title}`)),
      h('div', {}, h(hx, {}, 'Session policy'), jsonBlock(a.policy, `Session policy to approve: ${title}`)),
    ),
    currentItems(imagesOf(a, 'before'), hx, `of ${title}`),
    options.decision ? decisionForm(options.decision) : null,
  );
}

function decisionForm(d: Decision): HTMLElement {
  const commentId = uniqueId('approval-comment');
  const comment = h('textarea', { id: commentId, rows: 2, class: 'comment' });
  const approve = h('button', { type: 'button', class: 'button primary', 'aria-label': `Approve ${d.subject}` }, 'Approve');
  const deny = h('button', { type: 'button', class: 'button danger', 'aria-label': `Deny ${d.subject}` }, 'Deny');
  const decide = async (yes: boolean) => {
    approve.disabled = deny.disabled = true;
    try {
      await d.decide(yes, comment.value.trim());
    } finally {
      approve.disabled = deny.disabled = false;
    }
  };
  approve.addEventListener('click', () => void decide(true));
  deny.addEventListener('click', () => void decide(false));
  return h('div', { class: 'decision' }, h('label', { for: commentId }, 'Comment (optional)'), comment, h('div', { class: 'decision-actions' }, approve, deny));
}
