/**
 * What a cell says about an approval: of the step's own request or of a revert of its write (filed
 * as `<step>.revert`), in each state, with the approval card and its Approve and Deny buttons for an
 * approver who did not ask.
 */
import type { Approval, Me } from '../api-types.js';
import { decisionSubject, mayDecide, requestTitle, type ApprovalKind } from '../approvals.js';
import { h, jsonBlock } from '../dom.js';
import { formatTime } from '../format.js';
import { approvalCard } from './approval-card.js';

export interface ApprovalContext {
  me: Me;
  kind: ApprovalKind;
  /** the step's title and the prose under its heading (copied into the card) */
  title: string;
  intro: readonly Node[];
  /** the run is active (here or in another process): decisions can still be made */
  open: boolean;
  /** this page may run the approved request (a runner, on an active run this server runs) */
  canRun: boolean;
  decide: (approve: boolean, comment: string) => Promise<void>;
}

const words = {
  step: { waiting: 'Waiting for approval. ', run: 'Run the step', runs: 'execution', again: 'Running the step again asks for a new approval.' },
  revert: { waiting: 'Revert waiting for approval. ', run: 'Press Revert', runs: 'revert', again: 'Reverting again asks for a new approval.' },
};

/** Fills `box` with the approval's state, or hides it when there is none. */
export function renderApprovalState(box: HTMLElement, a: Approval | undefined, c: ApprovalContext): void {
  box.hidden = !a;
  if (!a) {
    box.replaceChildren();
    return;
  }
  const w = words[c.kind];
  const when = (iso?: string) => (iso ? ` at ${formatTime(iso)}` : '');
  const said = a.comment ? h('q', { class: 'approval-comment' }, a.comment) : null;
  const parts: Node[] = [];
  // The revert's box has a class of its own, so that `.approval-box` names the step's one.
  box.className = `${c.kind === 'step' ? 'approval-box' : 'approval-box-revert'} approval-${a.status}`;
  switch (a.status) {
    case 'pending': {
      parts.push(
        h(
          'p',
          {},
          h('strong', {}, w.waiting),
          `Requested by ${a.requestedBy}${when(a.requestedAt)}; the request was rendered then and runs exactly as shown. The request expires${when(a.expiresAt)}.`,
        ),
      );
      parts.push(h('p', { class: 'muted' }, `Who may approve: anyone with the approver role except ${a.requestedBy}.`));
      if (mayDecide(c.me, a) && c.open) {
        parts.push(
          approvalCard(a, {
            heading: 'h4',
            step: { title: requestTitle(c.title, c.kind), prose: c.intro.map((n) => n.cloneNode(true)) },
            decision: { subject: decisionSubject(c.title, c.kind), decide: c.decide },
          }),
        );
      } else if (c.me.user === a.requestedBy && c.open) {
        parts.push(h('p', { class: 'muted' }, 'Ask an approver to open this run or the Approvals page. This cell updates as soon as they decide.'));
      }
      break;
    }
    case 'approved':
      parts.push(h('p', {}, h('strong', {}, 'Approved '), `by ${a.decidedBy ?? 'an approver'}${when(a.decidedAt)}`, said ? ': ' : '.', said));
      if (c.me.user === a.requestedBy && c.canRun) {
        parts.push(
          h(
            'p',
            { class: 'muted' },
            `${w.run} to execute it before ${formatTime(a.expiresAt)}; the approval covers one ${w.runs} of exactly the request rendered${when(a.renderedAt)}.`,
          ),
        );
      } else if (c.open) {
        parts.push(h('p', { class: 'muted' }, `Only ${a.requestedBy}, who asked, can run it now.`));
      }
      break;
    case 'denied':
      parts.push(h('p', {}, h('strong', {}, 'Denied '), `by ${a.decidedBy ?? 'an approver'}${when(a.decidedAt)}`, said ? ': ' : '.', said));
      parts.push(h('p', { class: 'muted' }, w.again));
      break;
    case 'expired':
    case 'stale':
    case 'cancelled':
      parts.push(
        h('p', {}, h('strong', {}, a.status === 'expired' ? 'Approval expired. ' : a.status === 'stale' ? 'Approval no longer applies. ' : 'Approval cancelled. '), a.reason ?? ''),
      );
      if (a.decidedBy) parts.push(h('p', { class: 'muted' }, `${a.decidedBy} had approved it${when(a.decidedAt)}.`));
      if (a.difference) {
        parts.push(
          h(
            'details',
            {},
            h('summary', {}, 'What changed in the step'),
            h('div', { class: 'json-pair' }, jsonBlock(a.difference.approved, 'Step as approved'), jsonBlock(a.difference.now, 'Step now')),
          ),
        );
      }
      if (a.status !== 'cancelled') parts.push(h('p', { class: 'muted' }, w.again));
      break;
    case 'used':
      parts.push(
        h(
          'p',
          {},
          h('strong', {}, 'Approved '),
          `by ${a.decidedBy ?? 'an approver'}${when(a.decidedAt)}`,
          said ? ': ' : '',
          said,
          '. ',
          `${a.usedBy ?? a.requestedBy} ran the approved ${c.kind === 'revert' ? 'revert' : 'request'}${when(a.usedAt)}${a.execution ? ` (execution ${a.execution})` : ''}.`,
        ),
      );
      break;
  }
  box.replaceChildren(...parts);
}
