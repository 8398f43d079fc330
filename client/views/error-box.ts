/** An error shown where it happened: what went wrong, the code to search for, and what to do next. */
import { adviceFor } from '../advice.js';
import { ApiError } from '../api.js';
import { h } from '../dom.js';

export interface ShownError {
  code: string;
  message: string;
  awsCode?: string;
}

/** The error of a failed call or execution in a shape {@link errorBox} shows. */
export function toShownError(err: unknown): ShownError {
  if (err instanceof ApiError) return { code: err.code, message: err.message };
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) return err as ShownError;
  return { code: 'CLIENT', message: err instanceof Error ? err.message : String(err) };
}

/** A box with role `alert`, so screen readers announce it when it appears. */
export function errorBox(error: ShownError, title = 'Something went wrong'): HTMLElement {
  const advice = adviceFor(error);
  return h(
    'div',
    { class: 'error-box', role: 'alert' },
    h('p', { class: 'error-title' }, h('strong', {}, title)),
    h('p', { class: 'error-message' }, error.message),
    advice ? h('p', { class: 'error-advice' }, advice) : null,
    h('p', { class: 'error-code' }, error.awsCode ? `${error.awsCode} · ${error.code}` : error.code),
  );
}
