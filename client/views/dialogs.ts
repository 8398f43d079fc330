/**
 * Modal dialogs on the native `<dialog>`: `showModal()` makes the rest of the page inert, so focus
 * stays inside, and Escape cancels.
 */
import type { ConfirmDetails } from '../api.js';
import { h, jsonBlock } from '../dom.js';
import { copyText } from './copy.js';

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';

/** Tab and Shift+Tab cycle inside the dialog: the modal makes the page inert, but Tab would still leave for the browser's own controls. */
function trapFocus(dialog: HTMLDialogElement): void {
  dialog.addEventListener('keydown', (event) => {
    if (event.key !== 'Tab') return;
    const focusable = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
    if (focusable.length === 0) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
}

function open(dialog: HTMLDialogElement, focus?: HTMLElement): void {
  document.body.appendChild(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  trapFocus(dialog);
  dialog.showModal();
  focus?.focus();
}

/** What a write request touches, in one line: `UpdateItem on Orders`. */
function summary(details: ConfirmDetails): string {
  const input = details.request.input as Record<string, unknown>;
  const tables = new Set<string>();
  if (typeof input.TableName === 'string') tables.add(input.TableName);
  for (const t of Object.keys((input.RequestItems ?? {}) as object)) tables.add(t);
  for (const part of (input.TransactItems ?? []) as Array<Record<string, { TableName?: string }>>) {
    for (const action of Object.values(part)) if (action?.TableName) tables.add(action.TableName);
  }
  const statement = typeof input.Statement === 'string' ? /(?:INTO|UPDATE|FROM)\s+"?([\w.-]+)"?/i.exec(input.Statement)?.[1] : undefined;
  if (statement) tables.add(statement);
  return `${details.request.operation}${tables.size ? ` on ${[...tables].join(', ')}` : ''}`;
}

/**
 * Asks to confirm one execution of a write step, showing exactly the request that will run and
 * the session policy it runs with. Resolves true only on "Run write".
 */
export function confirmWrite(stepTitle: string, details: ConfirmDetails): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = 'confirm-title';
    const cancel = h('button', { type: 'button', class: 'button', value: 'cancel' }, 'Cancel');
    const run = h('button', { type: 'button', class: 'button danger', value: 'run' }, 'Run write');
    const dialog = h(
      'dialog',
      { class: 'dialog confirm-dialog', 'aria-labelledby': titleId, 'aria-describedby': 'confirm-summary' },
      h('h2', { id: titleId }, `Confirm write: ${stepTitle}`),
      h(
        'p',
        { id: 'confirm-summary' },
        'This step changes data: ',
        h('strong', {}, summary(details)),
        '. It will run exactly this request, once, with a session limited to the policy below.',
      ),
      h('h3', {}, 'Request'),
      jsonBlock(details.request, 'Request that will run'),
      h('details', {}, h('summary', {}, 'Session policy'), jsonBlock(details.policy, 'Session policy of the write')),
      h('div', { class: 'dialog-actions' }, cancel, run),
    );
    let result = false;
    cancel.addEventListener('click', () => dialog.close());
    run.addEventListener('click', () => {
      result = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => resolve(result));
    // The safe choice has the focus: Enter on a reflex does not write.
    open(dialog, cancel);
  });
}

/** Shows one item of a result in full, as JSON, with a copy button. */
export function showItem(label: string, item: Record<string, unknown>, index: number, total: number): void {
  const titleId = 'item-title';
  const close = h('button', { type: 'button', class: 'button' }, 'Close');
  const copy = h('button', { type: 'button', class: 'button' }, 'Copy item as JSON');
  const status = h('span', { class: 'copy-status', role: 'status' });
  const dialog = h(
    'dialog',
    { class: 'dialog item-dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, `${label}: item ${index + 1} of ${total}`),
    jsonBlock(item, `Item ${index + 1}`),
    h('div', { class: 'dialog-actions' }, status, copy, close),
  );
  close.addEventListener('click', () => dialog.close());
  copy.addEventListener('click', async () => {
    status.textContent = (await copyText(JSON.stringify(item, null, 2))) ? 'Copied.' : 'Copy failed: select the text and copy it.';
  });
  open(dialog, close);
}
