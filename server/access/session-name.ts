/**
 * STS session names `rb-<run>-<step>`. The run prefix is what IAM revocation matches
 * (`aws:userid` `<role id>:rb-<run>-*`), so it is never shortened; the step part is.
 */
import { createHash } from 'node:crypto';
import { RbError } from '../errors.js';

// RoleSessionName: 2-64 characters of [\w+=,.@-] (STS AssumeRole).
const MAX = 64;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_]*$/;

/**
 * The session name of execution `n` of `step` in run `runId`. Characters STS does not accept become
 * `_`. A repeated execution gets `.<n>` (steps are `[a-z0-9-]`, so a dot cannot collide with a step
 * name); a step part too long is cut and ends in `+` and six hex digits of its hash, so two long
 * step names stay distinct.
 *
 * Run ids must be letters, digits and `_` (no `-`): the run's deny pattern `rb-<run>-*` must not
 * also match another run whose id begins with this one's followed by `-`.
 */
export function sessionName(runId: string, step: string, n?: number): string {
  if (!RUN_ID.test(runId)) {
    throw new RbError('RB_ERR_INTERNAL', `run id ${JSON.stringify(runId)} must be letters, digits and _ to name STS sessions`);
  }
  const prefix = `rb-${runId}-`;
  const suffix = n === undefined || n <= 1 ? '' : `.${n}`;
  const room = MAX - prefix.length - suffix.length;
  if (room < 8) throw new RbError('RB_ERR_INTERNAL', `run id ${JSON.stringify(runId)} is too long to name STS sessions`);
  let part = step.replace(/[^\w+=,.@-]/g, '_') || '_';
  if (part.length > room) {
    const hash = createHash('sha256').update(step).digest('hex').slice(0, 6);
    part = `${part.slice(0, room - 7)}+${hash}`;
  }
  return `${prefix}${part}${suffix}`;
}

/** The `aws:userid` pattern matching every session of a run under a role (unique id `AROA…`). */
export function runUserIdPattern(roleId: string, runId: string): string {
  return `${roleId}:rb-${runId}-*`;
}
