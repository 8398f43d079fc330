/**
 * The ids a run store keys on, checked the same way by every store: a run id is what the engine
 * generates, a step name what the runbook format allows (plus `@` for the engine's own reads), and
 * anything else is refused before it reaches a path or a table key.
 */
import { RbError } from '../errors.js';

export const RUN_ID = /^[A-Za-z0-9_]{1,64}$/;
export const STEP = /^[A-Za-z0-9@._-]{1,128}$/;

/** The error for a run no store holds: the same words from the engine, the routes and the stores. */
export function runNotFound(id: string): RbError {
  return new RbError('RB_ERR_RUN_NOT_FOUND', `No run with id ${JSON.stringify(id)}.`);
}

/** `id`, if it is a run id; else RB_ERR_RUN_NOT_FOUND (no store holds a run by another name). */
export function checkRunId(id: string): string {
  if (!RUN_ID.test(id)) throw runNotFound(id);
  return id;
}

/** Checks a run id, a step name and an execution number; RB_ERR_STEP_NOT_FOUND for a bad step or number. */
export function checkExecution(id: string, step: string, n: number): void {
  checkRunId(id);
  if (!STEP.test(step) || !Number.isSafeInteger(n) || n < 1) throw new RbError('RB_ERR_STEP_NOT_FOUND', `No step named ${JSON.stringify(step)}.`);
}
