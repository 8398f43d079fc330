/**
 * The HTTP API (docs/api.md) as typed functions. The access token never reaches this code: the
 * server exchanged it for an HttpOnly cookie when the page was opened with `/?token=`, and every
 * request sends that cookie (`credentials: 'same-origin'`).
 */
import type { Approval, Execution, ItemsPage, Me, RenderedRequest, Run, RunbookView, RunbookSummary, RunSummary } from './api-types.js';

/** What the client calls a failure to reach the server at all (no HTTP status). */
export const NETWORK_ERROR = 'NETWORK';

/** A refused or failed API call: the server's coded error, or {@link NETWORK_ERROR}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type AuthListener = () => void;
const authListeners: AuthListener[] = [];

/** Called whenever the server answers 401: the cookie is missing, or its token no longer valid. */
export function onAuthRequired(listener: AuthListener): void {
  authListeners.push(listener);
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, NETWORK_ERROR, 'The server cannot be reached.');
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    if (response.status === 401) for (const listener of authListeners) listener();
    const error = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      throw new ApiError(response.status, error.code, error.message, error.details);
    }
    throw new ApiError(response.status, `HTTP_${response.status}`, `The server answered ${response.status} ${response.statusText || ''}`.trim() + '.');
  }
  if (parsed === undefined) throw new ApiError(response.status, 'BAD_RESPONSE', 'The server sent an answer that is not JSON.');
  return parsed as T;
}

/** `orders/recent-orders` → `orders/recent-orders` with each segment escaped: ids keep their slashes. */
export function runbookPath(id: string): string {
  return id.split('/').map(encodeURIComponent).join('/');
}

const seg = encodeURIComponent;

/** The run list as the server keeps it in memory, and how many older ended runs it leaves out. */
const runList = () => call<{ runs: RunSummary[]; older?: number }>('GET', '/api/runs');

export const api = {
  me: () => call<Me>('GET', '/api/me'),
  runbooks: async () => (await call<{ runbooks: RunbookSummary[] }>('GET', '/api/runbooks')).runbooks,
  runbook: async (id: string) => (await call<{ runbook: RunbookView }>('GET', `/api/runbooks/${runbookPath(id)}`)).runbook,
  /** the runbook as the run started with it (its own copy) */
  runRunbook: async (run: string) => (await call<{ runbook: RunbookView }>('GET', `/api/runs/${seg(run)}/runbook`)).runbook,
  runs: async () => (await runList()).runs,
  runList,
  /** Older ended runs, read from the store: the newest `limit` that started before `before`. */
  olderRuns: async (before: string, limit = 100) => (await call<{ runs: RunSummary[] }>('GET', `/api/runs?before=${seg(before)}&limit=${limit}`)).runs,
  run: async (id: string) => (await call<{ run: Run }>('GET', `/api/runs/${seg(id)}`)).run,
  startRun: async (runbook: string, params: Record<string, string>) => (await call<{ run: Run }>('POST', '/api/runs', { runbook, params })).run,
  execute: async (run: string, step: string, confirm?: boolean) =>
    (await call<{ execution: Execution }>('POST', `/api/runs/${seg(run)}/steps/${seg(step)}/execute`, confirm ? { confirm: true } : {})).execution,
  more: async (run: string, step: string) => (await call<{ execution: Execution }>('POST', `/api/runs/${seg(run)}/steps/${seg(step)}/more`, {})).execution,
  /** Stored items `offset` to `offset + limit` (limit 1–1000) of execution `n` of a step. */
  items: (run: string, step: string, n: number, offset: number, limit: number) =>
    call<ItemsPage>('GET', `/api/runs/${seg(run)}/steps/${seg(step)}/items?n=${n}&offset=${offset}&limit=${limit}`),
  decide: async (run: string, step: string, approve: boolean, comment: string) =>
    (await call<{ approval: Approval }>('POST', `/api/runs/${seg(run)}/steps/${seg(step)}/${approve ? 'approve' : 'deny'}`, comment ? { comment } : {})).approval,
  /** Puts back the before-images of execution `n` of a step (a write, confirmed like one). The answer's execution is optional: the run is refetched. */
  revert: async (run: string, step: string, n: number, confirm?: boolean) =>
    (await call<{ execution?: Execution }>('POST', `/api/runs/${seg(run)}/steps/${seg(step)}/revert`, confirm ? { n, confirm: true } : { n })).execution,
  complete: async (run: string) => (await call<{ run: Run }>('POST', `/api/runs/${seg(run)}/complete`, {})).run,
};

/** The API as the notebook's actions take it: tests pass an object of the same shape. */
export type Api = typeof api;

export type TranscriptFormat = 'md' | 'json' | 'html';

/** Where a run's transcript downloads from (the server sends it as an attachment). */
export function transcriptUrl(run: string, format: TranscriptFormat): string {
  return `/api/runs/${seg(run)}/transcript?format=${format}`;
}

/** Where one step's last result downloads as CSV. */
export function csvUrl(run: string, step: string): string {
  return `/api/runs/${seg(run)}/steps/${seg(step)}/result.csv`;
}

/**
 * The details of a 409 asking for confirmation: exactly what will run, with which rights, and the
 * items it changes as they are now (`before`, read with `imagesOf`).
 */
export interface ConfirmDetails {
  request: RenderedRequest;
  policy: unknown;
  before?: unknown;
}
