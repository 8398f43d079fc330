/**
 * Runs as plain data: what the store persists, the API returns and transcripts print. Nothing here
 * ever holds a credential: a session is named by its assumed-role id and expiry only.
 */
import type { ParamValues, RenderedRequest } from '../runbook/types.js';

export type RunStatus = 'active' | 'completed' | 'expired' | 'interrupted';

/** Why a run ended: `complete` by a user, `idle` timeout, server `shutdown`, or found active after a crash. */
export type EndReason = 'complete' | 'idle' | 'shutdown' | 'interrupted';

export interface SessionInfo {
  /** `AROA…:rb-<run>-<step>` */
  assumedRoleId: string;
  sessionName: string;
  roleArn: string;
  /** ISO 8601 */
  expiration: string;
  /** ISO 8601, when STS issued it */
  issuedAt?: string;
  revoked: boolean;
}

export interface ExecutionError {
  /** `RB_ERR_…` */
  code: string;
  message: string;
  /** the AWS error code (`ConditionalCheckFailedException`, `AccessDeniedException`, …) when AWS refused */
  awsCode?: string;
}

export type ExecutionStatus = 'running' | 'succeeded' | 'failed';

/** A value a step took from an earlier step's output (docs/format.md, "Step outputs"). */
export interface StepInput {
  /** as written: `steps.<step>.<first|all>.<attribute>` */
  ref: string;
  step: string;
  /** the execution of that step it came from */
  n: number;
  value: unknown;
}

export interface StepExecution {
  /** 1-based number of this execution of the step within the run */
  n: number;
  step: string;
  user: string;
  status: ExecutionStatus;
  startedAt: string;
  durationMs?: number;
  request: RenderedRequest;
  /** the derived session policy (IAM JSON) */
  policy?: unknown;
  session?: SessionInfo;
  /**
   * The first items (at most 100, and about 48 KB), on each step's last execution only; every item
   * is read through the items route (docs/api.md). Empty on earlier executions.
   */
  items: Record<string, unknown>[];
  /** how many items the execution has stored, over every page loaded so far */
  itemCount?: number;
  count: number;
  scannedCount?: number;
  consumedCapacity?: unknown;
  /** the key attribute names of the items (index keys first for an index), when the table's schema could be read */
  keys?: string[];
  /** ReturnValues of a write, when asked for */
  attributes?: Record<string, unknown>;
  hasMore: boolean;
  pages: number;
  confirmed: boolean;
  error?: ExecutionError;
  /** a key-addressed write: each item before and after it, and what changed (or why there are none) */
  images?: WriteImages;
  /** this execution put back the before-images of execution `revertOf` of the step */
  revertOf?: number;
  /** the earlier steps' outputs its request was rendered with */
  inputs?: StepInput[];
  /** execution `revertedBy` of the step put this one's before-images back */
  revertedBy?: number;
  /** a write DynamoDB performed whose record could not be written yet: the run is held until it is */
  unrecorded?: { code: string; message: string };
}

/** The states of an approval (docs/api.md, "Approvals"): pending → approved | denied | expired | stale | cancelled; approved → used | expired | stale | cancelled. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'stale' | 'cancelled' | 'used';

export interface Approval {
  step: string;
  status: ApprovalStatus;
  requestedBy: string;
  requestedAt: string;
  /** when `request` was rendered (what time helpers such as `now` took): it is frozen from then on */
  renderedAt: string;
  /** after this instant a pending request, or an unused approval, is `expired` */
  expiresAt: string;
  /** the step's source as rendered: the approval is `stale` if the step changes */
  stepSource: string;
  /** what the approver sees and exactly what runs, with which rights */
  /** the earlier steps' outputs its request was rendered with */
  inputs?: StepInput[];
  request: RenderedRequest;
  policy: unknown;
  /** a write's current item(s), read when approval was requested (docs/api.md, "Before and after") */
  before?: WriteImages;
  decidedBy?: string;
  decidedAt?: string;
  comment?: string;
  /** expired, stale, cancelled: when and why, in words */
  closedAt?: string;
  reason?: string;
  /** stale: the step's source as approved and as it is now */
  difference?: { approved: string; now: string };
  /** used: who ran the approved request, when, and which execution of the step it was */
  usedBy?: string;
  usedAt?: string;
  execution?: number;
}

export interface Run {
  id: string;
  runbook: string;
  title: string;
  user: string;
  status: RunStatus;
  params: ParamValues;
  roleArn: string;
  startedAt: string;
  lastActivityAt: string;
  endedAt?: string;
  endReason?: EndReason;
  executions: StepExecution[];
  /** the current approval of each step that needed one */
  approvals: Record<string, Approval>;
  /** earlier approvals of the run (used or denied, then requested again), oldest first */
  pastApprovals?: Approval[];
  revocation?: RevocationInfo;
  /** the role's unique id (`AROA…`) and the latest expiry of the run's sessions: what revocation after a crash needs */
  roleId?: string;
  sessionsUntil?: string;
  /** the latest issue time of the run's sessions (STS's clock), for a revocation cutoff after a crash */
  sessionsIssuedUntil?: string;
  /** hash of the run's last audit record */
  auditHash?: string;
  /** SHA-256 of the runbook's text as the run started with it: the run keeps and uses that copy */
  runbookSha256?: string;
  /** the process that runs it, where it is not this server (another server or `runbooks run` on the data folder) */
  elsewhere?: string;
  /** attribute names and paths masked in the run's results (the runbook's `redact` and the server's `--redact`) */
  redact?: string[];
  /** in `GET /api/runs/:run`: whether the runbook's file has changed since the run started with it */
  runbookChanged?: boolean;
}

export interface RevocationInfo {
  at: string;
  sessions: number;
  /** `done` when an inline deny was put on the role(s); `off` when IAM revocation is disabled */
  iam: 'done' | 'off' | 'failed';
  error?: string;
}

/** Events of §6, as sent on the WebSocket. */
export type RunEvent =
  | { type: 'run.started'; run: Run }
  | { type: 'step.started'; runId: string; step: string; n: number; user: string }
  | { type: 'session.issued'; runId: string; step: string; session: SessionInfo }
  | { type: 'step.succeeded'; runId: string; step: string; execution: StepExecution }
  | { type: 'step.failed'; runId: string; step: string; execution: StepExecution }
  | { type: 'approval.requested'; runId: string; step: string; approval: Approval }
  | { type: 'approval.decided'; runId: string; step: string; approval: Approval }
  /** expired, stale, cancelled or used: every other change of an approval */
  | { type: 'approval.updated'; runId: string; step: string; approval: Approval }
  | { type: 'session.revoked'; runId: string; sessions: SessionInfo[]; revocation: RevocationInfo }
  | { type: 'run.completed'; run: Run };

/** An execution as the run list shows it: its outcome without items, request or policy. */
export type ExecutionSummary = Omit<StepExecution, 'items' | 'attributes' | 'request' | 'policy' | 'images' | 'inputs'>;

/** A run as `GET /api/runs` lists it: light enough to list many; `GET /api/runs/:run` has the rest. */
export type RunSummary = Omit<Run, 'executions'> & { executions: ExecutionSummary[] };

/** Before and after images of a key-addressed write (docs/api.md, "Before and after"). */
export interface KeyedItem {
  table: string;
  key: Record<string, unknown>;
}

export interface AttributeChange {
  attribute: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

export interface ItemImage extends KeyedItem {
  /** the item before the write; null where there was none */
  before: Record<string, unknown> | null;
  /** the item after the write; null where there is none (absent until the write ran) */
  after?: Record<string, unknown> | null;
  diff?: AttributeChange[];
  /** the redaction entries that masked values of this item: it cannot be reverted (docs/security.md) */
  redacted?: string[];
}

export type WriteImages = { readAt: string; items: ItemImage[] } | { unavailable: string };
