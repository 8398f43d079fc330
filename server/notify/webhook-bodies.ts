/**
 * What a webhook says about an event: a small JSON object, or one line of Slack text. Built from a
 * whitelist of fields — ids, names, statuses, error codes — so that a body never carries items, a
 * rendered request, a policy, an error message (which may quote data) or a credential.
 */
import type { Run, RunEvent } from '../runs/types.js';
import type { WebhookEvent, WebhookFormat } from './webhooks-file.js';

/** The run an event belongs to, as far as the server knows it. */
export interface RunFacts {
  runbook: string;
  title: string;
}

export interface BodyContext {
  /** when the event was seen */
  at: Date;
  /** the run's runbook and title (events other than `run.completed` carry only the run id) */
  run?: RunFacts;
  /** the notebook's public base URL, without a trailing slash */
  publicUrl?: string;
}

/** The JSON body's fields (absent ones are left out). */
export interface WebhookPayload {
  event: WebhookEvent;
  at: string;
  runId: string;
  step?: string;
  runbook?: string;
  title?: string;
  url?: string;
  /** who started the run (`run.completed`) or ran the step (`step.failed`) */
  user?: string;
  requestedBy?: string;
  decidedBy?: string;
  usedBy?: string;
  /** the approval's status, or the run's */
  status?: string;
  endReason?: string;
  /** the execution's number within the run (`step.failed`) */
  n?: number;
  error?: { code: string; awsCode?: string };
}

/** True for the events a webhook may subscribe to. */
export function isWebhookEvent(event: RunEvent): event is Extract<RunEvent, { type: WebhookEvent }> {
  return ['approval.requested', 'approval.decided', 'approval.updated', 'step.failed', 'run.completed'].includes(event.type);
}

/** The link to a run in the notebook (its hash route), when a public URL is configured. */
export function runLink(publicUrl: string | undefined, runId: string): string | undefined {
  return publicUrl ? `${publicUrl}/#/runs/${encodeURIComponent(runId)}` : undefined;
}

/** The fields of the JSON body for an event webhooks announce. */
export function webhookPayload(event: Extract<RunEvent, { type: WebhookEvent }>, ctx: BodyContext): WebhookPayload {
  const runId = event.type === 'run.completed' ? event.run.id : event.runId;
  const facts = event.type === 'run.completed' ? factsOf(event.run) : ctx.run;
  const base: WebhookPayload = {
    event: event.type,
    at: ctx.at.toISOString(),
    runId,
    ...(event.type !== 'run.completed' ? { step: event.step } : {}),
    ...(facts ? { runbook: facts.runbook, title: facts.title } : {}),
    ...(ctx.publicUrl ? { url: runLink(ctx.publicUrl, runId) } : {}),
  };
  switch (event.type) {
    case 'approval.requested':
    case 'approval.decided':
    case 'approval.updated': {
      const a = event.approval;
      return {
        ...base,
        requestedBy: a.requestedBy,
        ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}),
        ...(a.usedBy ? { usedBy: a.usedBy } : {}),
        status: a.status,
      };
    }
    case 'step.failed': {
      const x = event.execution;
      return {
        ...base,
        user: x.user,
        n: x.n,
        ...(x.error ? { error: { code: x.error.code, ...(x.error.awsCode ? { awsCode: x.error.awsCode } : {}) } } : {}),
      };
    }
    case 'run.completed':
      return { ...base, user: event.run.user, status: event.run.status, ...(event.run.endReason ? { endReason: event.run.endReason } : {}) };
  }
}

/** The exact bytes to send (and sign) for a format. */
export function webhookBody(payload: WebhookPayload, format: WebhookFormat): string {
  return format === 'slack' ? JSON.stringify({ text: slackText(payload) }) : JSON.stringify(payload);
}

/** One readable line, e.g. "bob approved step set-state of run abc123 (Fix an item's state)". */
export function slackText(p: WebhookPayload): string {
  // Slack reads `<…>` as links and mentions, and `&` as the start of an entity: escape all three.
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const link = p.url ? `<${p.url.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E')}|${esc(p.runId)}>` : esc(p.runId);
  const run = `run ${link}${p.title ? ` (${esc(p.title)})` : ''}`;
  const step = `step ${esc(p.step ?? '')}`;
  const who = (name: string | undefined) => esc(name ?? 'someone');
  switch (p.event) {
    case 'approval.requested':
      return `${who(p.requestedBy)} asks for approval of ${step} of ${run}`;
    case 'approval.decided':
      return `${who(p.decidedBy)} ${p.status === 'approved' ? 'approved' : 'denied'} ${step} of ${run}`;
    case 'approval.updated':
      return p.status === 'used'
        ? `${who(p.usedBy)} ran the approved ${step} of ${run}`
        : `The approval of ${step} of ${run}, requested by ${who(p.requestedBy)}, is now ${esc(p.status ?? 'closed')}`;
    case 'step.failed':
      return `${step.replace(/^s/, 'S')} of ${run} failed for ${who(p.user)}${p.error ? `: ${esc(p.error.code)}${p.error.awsCode ? ` (${esc(p.error.awsCode)})` : ''}` : ''}`;
    case 'run.completed':
      return `${run.replace(/^r/, 'R')}, started by ${who(p.user)}, ${ENDINGS[p.endReason ?? ''] ?? `ended (${esc(p.status ?? 'completed')})`}`;
  }
}

const ENDINGS: Record<string, string> = {
  complete: 'was completed',
  idle: 'expired after being idle',
  shutdown: 'ended as the server stopped',
  interrupted: 'was interrupted',
};

function factsOf(run: Run): RunFacts {
  return { runbook: run.runbook, title: run.title };
}
