/**
 * Step executions as plain data, built in one place: a new one when a step starts, a failed one
 * when nothing could run, the error shape every failure is reported in, and the session info a
 * record may hold (never a credential).
 */
import type { Session } from '../aws/credentials.js';
import { isRbError } from '../errors.js';
import type { RenderedRequest } from '../runbook/types.js';
import type { ExecutionError, SessionInfo, StepExecution } from './types.js';

/** A new execution of `step`, numbered after the run's earlier ones. */
export function newExecution(input: { n: number; step: string; user: string; at: Date; request: RenderedRequest; policy?: unknown; confirmed: boolean }): StepExecution {
  return {
    n: input.n,
    step: input.step,
    user: input.user,
    status: 'running',
    startedAt: input.at.toISOString(),
    request: input.request,
    ...(input.policy !== undefined ? { policy: input.policy } : {}),
    items: [],
    itemCount: 0,
    count: 0,
    hasMore: false,
    pages: 0,
    confirmed: input.confirmed,
  };
}

/** An execution that failed before its request could run (the key-schema lookup, for example). */
export function failedExecution(input: Parameters<typeof newExecution>[0] & { error: unknown }): StepExecution {
  return { ...newExecution(input), status: 'failed', durationMs: 0, confirmed: false, error: toExecutionError(input.error) };
}

export function toExecutionError(err: unknown): ExecutionError {
  if (isRbError(err)) {
    const details = (err.details ?? {}) as { awsCode?: string };
    return { code: err.code, message: err.message, ...(details.awsCode ? { awsCode: details.awsCode } : {}) };
  }
  // Unexpected errors are reported by kind only: their text could carry request internals.
  return { code: 'RB_ERR_INTERNAL', message: 'The step failed unexpectedly; the server log has details.' };
}

/** The consumed capacity of two pages together. */
export function mergeCapacity(a: unknown, b: unknown): unknown {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const list = (x: unknown): unknown[] => (Array.isArray(x) ? (x as unknown[]) : [x]);
  return [...list(a), ...list(b)];
}

export function sessionInfo(session: Session, roleArn: string): SessionInfo {
  const name = session.assumedRoleId.slice(session.assumedRoleId.indexOf(':') + 1);
  return {
    assumedRoleId: session.assumedRoleId,
    sessionName: name,
    roleArn,
    expiration: session.expiration.toISOString(),
    issuedAt: session.issuedAt.toISOString(),
    revoked: false,
  };
}
