/**
 * Response shapes of the HTTP API (DESIGN.md §6) that are not the server's plain data types. Runs,
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

export type {
  RunbookSummary,
  StepView as StepSummary,
  SectionView as RunbookSection,
  RunbookView as RunbookDetail,
} from '../server/http/view-types.js';

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
