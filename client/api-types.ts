/**
 * Response shapes of the HTTP API (docs/api.md) that are not the server's plain data types. Runs,
 * executions and approvals are the server's own types, imported as types only (nothing of the
 * server is bundled from there).
 */
import type { StepExecution } from '../server/runs/types.js';

export type { Approval, Run, RunEvent, RunSummary, SessionInfo, StepExecution, RevocationInfo, ExecutionError } from '../server/runs/types.js';
export type { ParamDecl, RenderedRequest, RunbookProblem } from '../server/runbook/types.js';

export interface Me {
  user: string;
  roles: string[];
}

export type { RunbookSummary, StepView, SectionView, RunbookView } from '../server/http/view-types.js';

/**
 * An execution as the client reads it (with `keys`, the table's key attribute names, when the server
 * could read them). `items` holds only its first items; `itemCount` says how many it has stored in
 * all (the rest come from `GET …/items`). Older records have no `itemCount`: `items` is all of them.
 */
export type Execution = StepExecution & { itemCount?: number };

/** How many items an execution has stored, over every page loaded so far. */
export function itemTotal(exec: Execution): number {
  return exec.itemCount ?? exec.items.length;
}

/** One range of an execution's stored items, as `GET /api/runs/:run/steps/:step/items` answers. */
export interface ItemsPage {
  n: number;
  offset: number;
  total: number;
  items: Record<string, unknown>[];
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** True when the user holds the role; `admin` holds every role (as the server's guard has it). */
export function hasRole(me: Me, role: 'runner' | 'approver'): boolean {
  return me.roles.includes(role) || me.roles.includes('admin');
}

/**
 * Before and after images of a write (docs/api.md). The server adds them to approvals, confirmation
 * details and executions; the client reads them through {@link imagesOf}, which checks their shape,
 * so a record without them (or from an older server) shows nothing rather than failing.
 */
export interface AttributeChange {
  attribute: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

export interface ItemImage {
  table: string;
  key: Record<string, unknown>;
  /** the item before the write; null where there was none */
  before: Record<string, unknown> | null;
  /** the item after the write; null where there is none; absent until the write ran */
  after?: Record<string, unknown> | null;
  diff?: AttributeChange[];
}

export type WriteImages = { readAt?: string; items: ItemImage[] } | { unavailable: string };

/** The write images under `field` of a record (`before` of an approval or a 409, `images` of an execution), if well formed. */
export function imagesOf(record: unknown, field: 'before' | 'images'): WriteImages | undefined {
  const value = record && typeof record === 'object' ? (record as Record<string, unknown>)[field] : undefined;
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.unavailable === 'string') return { unavailable: v.unavailable };
  if (!Array.isArray(v.items)) return undefined;
  const items = v.items.filter(
    (i): i is ItemImage => !!i && typeof i === 'object' && typeof (i as ItemImage).table === 'string' && !!(i as ItemImage).key && typeof (i as ItemImage).key === 'object',
  );
  return { ...(typeof v.readAt === 'string' ? { readAt: v.readAt } : {}), items };
}

/** Whether an execution's before-images were put back, and by which execution when the server says. */
export function revertedBy(exec: Execution): { n?: number } | undefined {
  const n = (exec as { revertedBy?: unknown }).revertedBy;
  if (n === undefined || n === null) return undefined;
  return typeof n === 'number' ? { n } : {};
}

/** The number of the execution whose before-images this one put back, if it is a revert. */
export function revertOf(exec: Execution): number | undefined {
  const n = (exec as { revertOf?: unknown }).revertOf;
  return typeof n === 'number' ? n : undefined;
}

/** A revert of a step's write files its approval as `<step>.revert` (docs/api.md, "Revert"). */
const REVERT_SUFFIX = '.revert';

/** The step an approval belongs to, and whether it approves a revert of the step's write. */
export function approvalTarget(name: string): { step: string; revert: boolean } {
  return name.endsWith(REVERT_SUFFIX) ? { step: name.slice(0, -REVERT_SUFFIX.length), revert: true } : { step: name, revert: false };
}

/** The name an approval of the step (or of a revert of its write) is filed under. */
export function approvalName(step: string, revert: boolean): string {
  return revert ? `${step}${REVERT_SUFFIX}` : step;
}
