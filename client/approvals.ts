/**
 * Approval requests as the client reads them, the same for a cell and for the Approvals page: what a
 * request is titled, who may decide it, which are waiting, and sending a decision. No DOM here.
 */
import { ApiError, type Api } from './api.js';
import { approvalTarget, hasRole, type Approval, type Me, type RunSummary } from './api-types.js';
import { toShownError, type ShownError } from './shown-error.js';

/** A request for the step's own request, or for a revert of its write (filed as `<step>.revert`). */
export type ApprovalKind = 'step' | 'revert';

/** The title of a request: the step's, or `Revert of <title>` for a revert of its write. */
export function requestTitle(stepTitle: string, kind: ApprovalKind): string {
  return kind === 'revert' ? `Revert of ${stepTitle}` : stepTitle;
}

/** The title of the request filed as `name`, from the titles of the run's steps (the step's name where it has none). */
export function approvalTitle(name: string, titleOf: (step: string) => string | undefined): string {
  const { step, revert } = approvalTarget(name);
  return requestTitle(titleOf(step) ?? step, revert ? 'revert' : 'step');
}

/** Anyone with the approver role but the requester: nobody approves their own request. */
export function mayDecide(me: Me, approval: Approval): boolean {
  return hasRole(me, 'approver') && me.user !== approval.requestedBy;
}

/**
 * What a decision is about, in its buttons' names (`Approve step Put the order on hold`) and in
 * what is said once it is recorded; `runId` where the page shows requests of several runs.
 */
export function decisionSubject(stepTitle: string, kind: ApprovalKind, runId?: string): string {
  return `${kind === 'revert' ? 'revert of ' : ''}step ${stepTitle}${runId ? ` of run ${runId}` : ''}`;
}

/** Pending approvals of active runs, oldest request first. */
export function pendingApprovals(runs: RunSummary[]): Array<{ run: RunSummary; approval: Approval }> {
  const out: Array<{ run: RunSummary; approval: Approval }> = [];
  for (const run of runs) {
    if (run.status !== 'active') continue;
    for (const approval of Object.values(run.approvals)) if (approval.status === 'pending') out.push({ run, approval });
  }
  return out.sort((a, b) => a.approval.requestedAt.localeCompare(b.approval.requestedAt));
}

/** The title of the error shown when a decision was refused. */
export const DECISION_REFUSED = 'Your decision was not recorded';

/**
 * A decision sent: recorded (with the request's new state and what to announce), or refused. A
 * request that expired meanwhile comes back with its new state, so whoever shows it stops offering
 * a decision.
 */
export type DecisionOutcome = { kind: 'recorded'; approval: Approval; message: string } | { kind: 'refused'; error: ShownError; approval?: Approval };

/** Approves or denies the request filed as `name` in a run. */
export async function sendDecision(
  api: Pick<Api, 'decide'>,
  decision: { runId: string; name: string; approve: boolean; comment: string; subject: string },
): Promise<DecisionOutcome> {
  try {
    const approval = await api.decide(decision.runId, decision.name, decision.approve, decision.comment);
    return { kind: 'recorded', approval, message: `${decision.approve ? 'Approved' : 'Denied'} ${decision.subject}.` };
  } catch (err) {
    const approval = err instanceof ApiError ? (err.details as { approval?: Approval } | undefined)?.approval : undefined;
    return { kind: 'refused', error: toShownError(err), approval };
  }
}
