/** An error shown where it happened: what went wrong, the code to search for, and what to do next. */
import { adviceFor } from '../advice.js';
import { h } from '../dom.js';
import type { ShownError } from '../shown-error.js';

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
