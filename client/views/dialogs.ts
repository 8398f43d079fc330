/**
 * Modal dialogs on the native `<dialog>`: `showModal()` makes the rest of the page inert, so focus
 * stays inside, and Escape cancels.
 */
import type { ConfirmDetails } from '../api.js';
import { imagesOf, type Approval } from '../api-types.js';
import { h, jsonBlock, uniqueId } from '../dom.js';
import { formatTime } from '../format.js';
import type { NewRunChoice } from '../notebook/run-actions.js';
import type { OpenApproval } from '../notebook/run-model.js';
import { copyText } from './copy.js';
import { currentItems } from './images.js';

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
  for (const t of Object.keys(input.RequestItems ?? {})) tables.add(t);
  for (const part of (input.TransactItems ?? []) as Array<Record<string, { TableName?: string }>>) {
    for (const action of Object.values(part)) if (action?.TableName) tables.add(action.TableName);
  }
  const statement = typeof input.Statement === 'string' ? /(?:INTO|UPDATE|FROM)\s+"?([\w.-]+)"?/i.exec(input.Statement)?.[1] : undefined;
  if (statement) tables.add(statement);
  return `${details.request.operation}${tables.size ? ` on ${[...tables].join(', ')}` : ''}`;
}

/** What a confirmation is for: a step's write, or the write that reverts one. */
export interface WriteKind {
  heading: string;
  what: string;
  button: string;
}

export const STEP_WRITE: WriteKind = { heading: 'Confirm write', what: 'This step changes data', button: 'Run write' };
export const REVERT_WRITE: WriteKind = { heading: 'Confirm revert', what: 'This puts the items back as they were before the write', button: 'Revert' };

/**
 * Asks to confirm one write, showing exactly the request that will run, the session policy it
 * runs with and, when the server read them, the items it changes as they are now. Resolves true
 * only on the confirming button ("Run write").
 */
export function confirmWrite(stepTitle: string, details: ConfirmDetails, kind: WriteKind = STEP_WRITE): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = 'confirm-title';
    const cancel = h('button', { type: 'button', class: 'button', value: 'cancel' }, 'Cancel');
    const run = h('button', { type: 'button', class: 'button danger', value: 'run' }, kind.button);
    const dialog = h(
      'dialog',
      { class: 'dialog confirm-dialog', 'aria-labelledby': titleId, 'aria-describedby': 'confirm-summary' },
      h('h2', { id: titleId }, `${kind.heading}: ${stepTitle}`),
      h(
        'p',
        { id: 'confirm-summary' },
        `${kind.what}: `,
        h('strong', {}, summary(details)),
        '. It will run exactly this request, once, with a session limited to the policy below.',
      ),
      h('h3', {}, 'Request'),
      jsonBlock(details.request, 'Request that will run'),
      h('details', {}, h('summary', {}, 'Session policy'), jsonBlock(details.policy, 'Session policy of the write')),
      currentItems(imagesOf(details, 'before'), 'h3', 'before the write'),
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

/**
 * Asks before completing a run that has approval requests pending or approved but not yet run:
 * completing cancels them. Resolves true only on "Complete and cancel requests".
 */
export function confirmComplete(requests: OpenApproval[]): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uniqueId('complete-title');
    const textId = uniqueId('complete-text');
    const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
    const complete = h('button', { type: 'button', class: 'button danger' }, 'Complete and cancel requests');
    const state = (a: Approval) =>
      a.status === 'pending' ? `waiting for a decision, requested by ${a.requestedBy} at ${formatTime(a.requestedAt)}` : `approved by ${a.decidedBy ?? 'an approver'}, not run yet`;
    const dialog = h(
      'dialog',
      { class: 'dialog confirm-dialog', 'aria-labelledby': titleId, 'aria-describedby': textId },
      h('h2', { id: titleId }, 'Complete the run and cancel its approval requests?'),
      h(
        'p',
        { id: textId },
        requests.length === 1
          ? 'Completing the run cancels the approval request of this step: '
          : `Completing the run cancels the approval requests of these ${requests.length} steps: `,
        'nothing they cover can run afterwards, and whoever is asked to decide sees them cancelled.',
      ),
      h(
        'ul',
        { class: 'open-approvals' },
        requests.map((o) => h('li', {}, h('strong', {}, o.title), ` — ${state(o.approval)}`)),
      ),
      h('p', { class: 'muted' }, 'Every session of the run is revoked as well.'),
      h('div', { class: 'dialog-actions' }, cancel, complete),
    );
    let result = false;
    cancel.addEventListener('click', () => dialog.close());
    complete.addEventListener('click', () => {
      result = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => resolve(result));
    // As for a write: the choice that changes nothing has the focus.
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
  const copyItem = async () => {
    status.textContent = (await copyText(JSON.stringify(item, null, 2))) ? 'Copied.' : 'Copy failed: select the text and copy it.';
  };
  copy.addEventListener('click', () => void copyItem());
  open(dialog, close);
}

/**
 * Asks, before a new run of a runbook is started from a run still in progress, whether to complete
 * that run first: left active, it holds its approvals and counts as someone's open run until it
 * ends or idles out. Resolves with the choice; Escape is "cancel".
 */
export function offerToComplete(runId: string, title: string): Promise<NewRunChoice> {
  return new Promise((resolve) => {
    const titleId = uniqueId('new-run-title');
    const textId = uniqueId('new-run-text');
    const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
    const keep = h('button', { type: 'button', class: 'button' }, 'Keep it active');
    const complete = h('button', { type: 'button', class: 'button primary' }, 'Complete it and start a new run');
    const dialog = h(
      'dialog',
      { class: 'dialog confirm-dialog', 'aria-labelledby': titleId, 'aria-describedby': textId },
      h('h2', { id: titleId }, 'Complete this run first?'),
      h(
        'p',
        { id: textId },
        'Run ',
        h('strong', { class: 'mono' }, runId),
        ` of “${title}” is still active. Completing it revokes its sessions and cancels its open approval requests; kept active, it stays in the run list as yours until it is completed or idles out.`,
      ),
      h('div', { class: 'dialog-actions' }, cancel, keep, complete),
    );
    let result: NewRunChoice = 'cancel';
    const choose = (choice: NewRunChoice) => () => {
      result = choice;
      dialog.close();
    };
    cancel.addEventListener('click', choose('cancel'));
    keep.addEventListener('click', choose('keep'));
    complete.addEventListener('click', choose('complete'));
    dialog.addEventListener('close', () => resolve(result));
    open(dialog, complete);
  });
}
