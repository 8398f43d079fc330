/**
 * The answers a write can get before it runs, handled once for a step's execution and for a
 * revert: a 409 asking for confirmation asks (the page shows its dialog) and, confirmed, sends
 * again; a 409 asking for approval ends the attempt with the approval request the server recorded.
 */
import { ApiError, type ConfirmDetails } from '../api.js';
import type { Approval } from '../api-types.js';

export type Attempt<T> =
  | { kind: 'ran'; result: T }
  | { kind: 'cancelled' }
  /** the request waits for a second person; `approval` is absent only from a server that did not send it */
  | { kind: 'approval'; approval?: Approval; message: string };

/** Sends, asks to confirm when the server wants it, and sends again confirmed. Other errors are thrown. */
export async function attemptWrite<T>(send: (confirm: boolean) => Promise<T>, confirm: (details: ConfirmDetails) => Promise<boolean>): Promise<Attempt<T>> {
  let confirmed = false;
  for (;;) {
    try {
      return { kind: 'ran', result: await send(confirmed) };
    } catch (err) {
      if (err instanceof ApiError && err.code === 'RB_ERR_RUN_CONFIRM_REQUIRED' && !confirmed) {
        if (!(await confirm(err.details as ConfirmDetails))) return { kind: 'cancelled' };
        confirmed = true;
        continue;
      }
      if (err instanceof ApiError && err.code === 'RB_ERR_RUN_APPROVAL_REQUIRED') {
        return { kind: 'approval', approval: (err.details as { approval?: Approval } | undefined)?.approval, message: err.message };
      }
      throw err;
    }
  }
}
