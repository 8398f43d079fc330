/**
 * Approvals as a small state machine (docs/api.md, "Approvals"). The request is rendered once, when
 * approval is requested — time helpers included — and that frozen request is what the approver sees
 * and what runs. Every transition returns the next approval and the audit record that proves it; the
 * engine stores, records and announces it. Only an approver's decision ever makes an approval
 * `denied`: an expiry, a changed step or the end of the run have states of their own.
 *
 *   pending  → approved | denied | expired | stale | cancelled
 *   approved → used | expired | stale | cancelled
 */
import { RbError } from '../errors.js';
import { sameUser } from '../identity.js';
import type { RenderedRequest, Step } from '../runbook/types.js';
import type { Approval, StepInput } from './types.js';
import type { WriteImages } from './write-images.js';

/** `access.approvalTtl` when the runbook does not say: one hour. */
export const DEFAULT_APPROVAL_TTL_SECONDS = 3600;

export interface Transition {
  approval: Approval;
  /** the audit record of the change */
  record: { type: string; data: Record<string, unknown> };
}

/** States from which running the step asks for a new approval. */
export function isClosed(a: Approval | undefined): boolean {
  return !a || a.status === 'denied' || a.status === 'used' || a.status === 'expired' || a.status === 'stale' || a.status === 'cancelled';
}

/** A new pending request for the request rendered at `now`. */
export function requestApproval(input: {
  step: Step;
  user: string;
  now: Date;
  ttlSeconds: number;
  request: RenderedRequest;
  policy: unknown;
  /** the current item(s) the write will change, read when approval is requested */
  before?: WriteImages;
  /** the earlier steps' outputs the request was rendered with */
  inputs?: StepInput[];
}): Transition {
  const at = input.now.toISOString();
  const approval: Approval = {
    step: input.step.name,
    status: 'pending',
    requestedBy: input.user,
    requestedAt: at,
    renderedAt: at,
    expiresAt: new Date(input.now.getTime() + input.ttlSeconds * 1000).toISOString(),
    stepSource: input.step.source,
    request: input.request,
    policy: input.policy,
    ...(input.before ? { before: input.before } : {}),
    ...(input.inputs?.length ? { inputs: input.inputs } : {}),
  };
  return {
    approval,
    record: {
      type: 'approval.requested',
      data: {
        step: approval.step,
        request: approval.request,
        policy: approval.policy,
        renderedAt: at,
        expiresAt: approval.expiresAt,
        ...(input.before ? { before: input.before } : {}),
        ...(approval.inputs ? { inputs: approval.inputs } : {}),
      },
    },
  };
}

/** The expiry of a pending request or an unused approval whose time is up, else undefined. */
export function expireIfDue(a: Approval | undefined, now: Date): Transition | undefined {
  if (!a || (a.status !== 'pending' && a.status !== 'approved')) return undefined;
  if (now.getTime() < Date.parse(a.expiresAt)) return undefined;
  const what = a.status === 'pending' ? 'The request was not decided' : 'The approval was not used';
  return close(a, 'expired', now, `${what} before ${a.expiresAt} (access.approvalTtl).`, 'approval.expired');
}

/** An approver's decision on a pending request. */
export function decide(a: Approval | undefined, input: { step: string; user: string; approve: boolean; comment?: string; now: Date }): Transition {
  if (!a || a.status !== 'pending') {
    throw new RbError('RB_ERR_APPROVAL_NOT_PENDING', `Step ${input.step} has no pending approval request${a ? ` (it is ${a.status})` : ''}.`);
  }
  if (sameUser(a.requestedBy, input.user)) {
    throw new RbError('RB_ERR_APPROVAL_SELF', `${input.user} requested this approval and cannot decide it; ask another approver.`);
  }
  const approval: Approval = {
    ...a,
    status: input.approve ? 'approved' : 'denied',
    decidedBy: input.user,
    decidedAt: input.now.toISOString(),
    ...(input.comment !== undefined ? { comment: input.comment } : {}),
    // An approval is usable for one TTL from the decision, whatever the request's wait was.
    ...(input.approve ? { expiresAt: new Date(input.now.getTime() + ttlOf(a)).toISOString() } : {}),
  };
  return {
    approval,
    record: {
      type: 'approval.decided',
      data: { step: a.step, decision: approval.status, comment: input.comment ?? null, requestedBy: a.requestedBy, expiresAt: approval.expiresAt },
    },
  };
}

/**
 * Checks that an approved request may run now for `user` on the step as it is: the requester runs
 * it, and the step is the one approved (else the approval becomes `stale`, returned for recording).
 */
export function checkUsable(a: Approval, input: { step: Step; user: string; now: Date }): Transition | undefined {
  if (!sameUser(a.requestedBy, input.user)) {
    throw new RbError('RB_ERR_AUTH_FORBIDDEN', `Only ${a.requestedBy}, who requested the approval, may execute step ${a.step}.`);
  }
  if (a.stepSource !== input.step.source) {
    const stale = close(a, 'stale', input.now, `Step ${a.step} changed after its request was approved.`, 'approval.stale');
    stale.approval.difference = { approved: a.stepSource, now: input.step.source };
    stale.record.data.difference = stale.approval.difference;
    return stale;
  }
  return undefined;
}

/** The approved request runs: the approval is used up by that execution. */
export function markUsed(a: Approval, input: { user: string; now: Date; execution: number }): Transition {
  const approval: Approval = { ...a, status: 'used', usedBy: input.user, usedAt: input.now.toISOString(), execution: input.execution };
  return {
    approval,
    record: { type: 'approval.used', data: { step: a.step, execution: input.execution, requestedBy: a.requestedBy, decidedBy: a.decidedBy ?? null } },
  };
}

/** The run ends with the request pending or the approval unused. */
export function cancel(a: Approval, now: Date, why: string): Transition | undefined {
  if (a.status !== 'pending' && a.status !== 'approved') return undefined;
  return close(a, 'cancelled', now, why, 'approval.cancelled');
}

function close(a: Approval, status: 'expired' | 'stale' | 'cancelled', now: Date, reason: string, type: string): Transition {
  const approval: Approval = { ...a, status, closedAt: now.toISOString(), reason };
  return { approval, record: { type, data: { step: a.step, from: a.status, reason } } };
}

function ttlOf(a: Approval): number {
  return Date.parse(a.expiresAt) - Date.parse(a.requestedAt);
}
