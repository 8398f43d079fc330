/**
 * Outgoing webhooks: each engine event a webhook subscribes to becomes a signed POST, delivered in
 * the background. The engine only ever waits for `enqueue`, which builds a small body and returns;
 * sending happens on a later turn of the event loop, a few at a time, each attempt with a deadline,
 * retried with exponential backoff on network errors, timeouts, 408, 429 and 5xx. The queue is
 * bounded (the oldest delivery is dropped, with a warning), and outcomes are counted for
 * `/api/health`. Logs name the receiver's host and the status or error code: never a secret, a
 * URL's path or query (where some receivers keep their own secret), or a body.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Run, RunEvent } from '../runs/types.js';
import { isWebhookEvent, webhookBody, webhookPayload, type RunFacts } from './webhook-bodies.js';
import type { WebhookDecl } from './webhooks-file.js';
import { post, type PostResult } from './post.js';

export const SIGNATURE_HEADER = 'x-runbooks-signature-256';
export const EVENT_HEADER = 'x-runbooks-event';
export const DELIVERY_HEADER = 'x-runbooks-delivery';

/** What the dispatcher needs of the engine: its events, and a run's runbook and title. */
export interface EventSource {
  events: EventEmitter;
  getRun(runId: string): Pick<Run, 'runbook' | 'title'> | undefined;
}

/** The part of the server's (pino) logger used here. */
export interface NotifyLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface WebhookOptions {
  hooks: WebhookDecl[];
  /** the notebook's public base URL (`--public-url`): bodies then link to the run */
  publicUrl?: string;
  /** waits between attempts; attempts = its length + 1 (default 1 s, 2 s, 4 s: four attempts) */
  backoffMs?: number[];
  /** deadline of one attempt (default 5 s) */
  timeoutMs?: number;
  /** deliveries waiting or in flight beyond which the oldest is dropped (default 1,000) */
  maxPending?: number;
  /** attempts in flight at once (default 4) */
  concurrency?: number;
  /** how long closing waits for pending deliveries before abandoning them (default 2 s) */
  closeGraceMs?: number;
  /** where failures are logged (default: the server's logger, given to `attach`) */
  log?: NotifyLog;
  clock?: () => Date;
}

/** The `webhooks` field of `GET /api/health`. */
export interface WebhookHealth {
  configured: number;
  delivered: number;
  /** deliveries given up: every attempt failed, or the receiver refused for good (4xx) */
  failed: number;
  /** deliveries dropped because the queue was full */
  dropped: number;
  /** waiting for an attempt, or in flight */
  pending: number;
  /** the latest failed attempt; `url` is the receiver's origin only */
  lastFailure?: { at: string; url: string; status?: number; error?: string };
}

export interface WebhookDispatcher {
  /** Subscribes to the engine's events; `log` is used unless the options named one. */
  attach(source: EventSource, log?: NotifyLog): void;
  /** Queues the deliveries an event calls for; returns at once. */
  enqueue(event: RunEvent): void;
  health(): WebhookHealth;
  /** Stops taking events, waits up to the grace for pending deliveries, then abandons the rest. */
  close(): Promise<void>;
}

export const DEFAULT_BACKOFF_MS = [1000, 2000, 4000];

interface Delivery {
  id: string;
  hook: WebhookDecl;
  event: string;
  body: string;
  signature: string;
  attempts: number;
  timer?: NodeJS.Timeout;
  abort?: AbortController;
}

/** `sha256=<hex>` of the HMAC-SHA256 of the exact body bytes, as GitHub signs its webhooks. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** A URL as it may be shown: scheme, host and port; no credentials, path or query. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid URL';
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid URL';
  }
}

function retryable(result: PostResult): boolean {
  if (result.status === undefined) return true;
  return result.status === 408 || result.status === 429 || result.status >= 500;
}

export function createWebhookDispatcher(options: WebhookOptions): WebhookDispatcher {
  const backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const maxAttempts = backoff.length + 1;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxPending = options.maxPending ?? 1000;
  const concurrency = options.concurrency ?? 4;
  const closeGraceMs = options.closeGraceMs ?? 2000;
  const clock = options.clock ?? (() => new Date());
  const publicUrl = options.publicUrl?.replace(/\/+$/, '');

  let source: EventSource | undefined;
  let log: NotifyLog = options.log ?? { warn: () => undefined };
  let closed = false;
  // Insertion order is age: the first entry is the oldest, the one to drop when full.
  const pending = new Map<string, Delivery>();
  const ready: Delivery[] = [];
  let inFlight = 0;
  let pumpScheduled = false;
  const idleWaiters: Array<() => void> = [];
  const counts = { delivered: 0, failed: 0, dropped: 0 };
  let lastFailure: WebhookHealth['lastFailure'];

  const onEvent = (event: RunEvent) => {
    // An event listener runs inside the engine's emit: nothing here may throw into it.
    try {
      dispatcher.enqueue(event);
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'webhooks: an event could not be queued');
    }
  };

  function settle(d: Delivery): void {
    pending.delete(d.id);
    if (d.timer) clearTimeout(d.timer);
    if (pending.size === 0) for (const wake of idleWaiters.splice(0)) wake();
  }

  function schedulePump(): void {
    if (pumpScheduled) return;
    pumpScheduled = true;
    // Never on the caller's turn: the engine's request goes on before any byte is sent.
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  }

  function pump(): void {
    while (inFlight < concurrency && ready.length > 0) {
      const d = ready.shift()!;
      if (pending.get(d.id) === d) void attempt(d);
    }
  }

  async function attempt(d: Delivery): Promise<void> {
    inFlight += 1;
    d.attempts += 1;
    d.abort = new AbortController();
    const result = await post(
      d.hook.url,
      d.body,
      {
        'content-type': 'application/json',
        'user-agent': 'dynamodb-runbooks-webhooks',
        [SIGNATURE_HEADER]: d.signature,
        [EVENT_HEADER]: d.event,
        [DELIVERY_HEADER]: d.id,
      },
      { timeoutMs, signal: d.abort.signal },
    );
    inFlight -= 1;
    d.abort = undefined;
    // Dropped or abandoned meanwhile: already counted and logged.
    if (pending.get(d.id) !== d) return pump();
    if (result.status !== undefined && result.status >= 200 && result.status < 300) {
      counts.delivered += 1;
      settle(d);
      return pump();
    }
    lastFailure = {
      at: clock().toISOString(),
      url: originOf(d.hook.url),
      ...(result.status !== undefined ? { status: result.status } : { error: result.error }),
    };
    const what = {
      webhook: hostOf(d.hook.url),
      event: d.event,
      delivery: d.id,
      attempt: d.attempts,
      ...(result.status !== undefined ? { status: result.status } : { error: result.error }),
    };
    if (retryable(result) && d.attempts < maxAttempts) {
      const wait = backoff[d.attempts - 1];
      log.warn({ ...what, retryInMs: wait }, `webhooks: delivery to ${what.webhook} failed (${result.status ?? result.error}); retrying`);
      d.timer = setTimeout(() => {
        d.timer = undefined;
        ready.push(d);
        pump();
      }, wait);
    } else {
      counts.failed += 1;
      settle(d);
      log.warn(what, `webhooks: delivery to ${what.webhook} failed (${result.status ?? result.error}); giving up after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`);
    }
    pump();
  }

  function drop(d: Delivery): void {
    const queued = ready.indexOf(d);
    if (queued >= 0) ready.splice(queued, 1);
    d.abort?.abort();
    settle(d);
    counts.dropped += 1;
    log.warn({ webhook: hostOf(d.hook.url), event: d.event, delivery: d.id }, `webhooks: more than ${maxPending} deliveries pending; dropped the oldest`);
  }

  const dispatcher: WebhookDispatcher = {
    attach(s, serverLog) {
      if (source) throw new Error('the webhook dispatcher is already attached');
      source = s;
      if (!options.log && serverLog) log = serverLog;
      s.events.on('event', onEvent);
    },

    enqueue(event) {
      if (closed || !isWebhookEvent(event)) return;
      const hooks = options.hooks.filter((h) => h.events.includes(event.type));
      if (hooks.length === 0) return;
      const runId = event.type === 'run.completed' ? event.run.id : event.runId;
      const run = event.type === 'run.completed' ? undefined : source?.getRun(runId);
      const facts: RunFacts | undefined = run ? { runbook: run.runbook, title: run.title } : undefined;
      const payload = webhookPayload(event, { at: clock(), run: facts, publicUrl });
      for (const hook of hooks) {
        const body = webhookBody(payload, hook.format);
        const d: Delivery = { id: randomUUID(), hook, event: event.type, body, signature: signBody(hook.secret, body), attempts: 0 };
        pending.set(d.id, d);
        ready.push(d);
        while (pending.size > maxPending) drop(pending.values().next().value as Delivery);
      }
      schedulePump();
    },

    health() {
      return {
        configured: options.hooks.length,
        delivered: counts.delivered,
        failed: counts.failed,
        dropped: counts.dropped,
        pending: pending.size,
        ...(lastFailure ? { lastFailure: { ...lastFailure } } : {}),
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      source?.events.off('event', onEvent);
      if (pending.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, closeGraceMs);
          idleWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      if (pending.size === 0) return;
      const abandoned = [...pending.values()];
      for (const d of abandoned) {
        d.abort?.abort();
        settle(d);
      }
      ready.length = 0;
      log.warn(
        { abandoned: abandoned.length, webhooks: [...new Set(abandoned.map((d) => hostOf(d.hook.url)))] },
        `webhooks: stopping; abandoned ${abandoned.length} pending deliver${abandoned.length === 1 ? 'y' : 'ies'}`,
      );
    },
  };
  return dispatcher;
}
