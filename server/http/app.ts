/**
 * The HTTP and WebSocket server (docs/api.md), built by a factory so that tests drive it through
 * `inject()` and `runbooks serve` listens with it. Every `/api` route but health needs a token or
 * the sign-in cookie; bodies are JSON of at most 64 KiB, validated by schema; errors are coded.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { WebhookDispatcher } from '../notify/webhooks.js';
import type { RunEngine } from '../runs/engine.js';
import { createAuthenticator, type AuthConfig } from './auth.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { authenticateHook, type Gate } from './guard.js';
import { loggerOptions } from './log.js';
import { createFailureLimiter, type FailureLimitOptions } from './rate-limit.js';
import { createRunbookCache } from '../runbook/cache.js';
import { clientRoutes } from './routes/client.js';
import { eventRoutes } from './routes/events.js';
import { exportRoutes } from './routes/exports.js';
import { metaRoutes } from './routes/meta.js';
import { runbookRoutes } from './routes/runbooks.js';
import { runRoutes } from './routes/runs.js';
import { securityHeaders } from './security-headers.js';

import type { SandboxHealth } from '../sandbox/supervise.js';
export type { AuthConfig, Principal } from './auth.js';
export { randomToken } from './auth.js';
export { loadUsersFile, type Role, type UserDecl } from './users.js';

export interface AppOptions {
  engine: RunEngine;
  runbooksDir: string;
  auth: AuthConfig;
  /** the client folder (index.html, *.css, dist/app.js); absent: API only */
  clientDir?: string;
  logger?: boolean | object;
  /** failed-sign-in limits (default: 10 a minute per network and per token prefix, 100 for the server; docs/security.md) */
  rateLimit?: FailureLimitOptions;
  /** largest request body in bytes (default 64 KiB) */
  bodyLimit?: number;
  /** outgoing webhooks: attached to the engine's events here, closed with the app */
  webhooks?: WebhookDispatcher;
  /** the local sandbox's health, reported (and counted in `ok`) by /api/health */
  sandboxHealth?: () => SandboxHealth;
  /** ms a connection may stay idle (default 60 s) and a request may take to arrive whole (default 30 s) */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** Builds the app (not yet listening). Throws RB_ERR_CONFIG_INVALID for an unusable AuthConfig. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const gate: Gate = { auth: createAuthenticator(options.auth), limiter: createFailureLimiter(options.rateLimit) };
  const app = Fastify({
    logger: loggerOptions(options.logger),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Behind a trusted proxy on the same host, the client address (for the rate limit) is the forwarded one.
    trustProxy: options.auth.trustedProxy ? ['127.0.0.1', '::1'] : false,
    routerOptions: { maxParamLength: 1024 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: true, allowUnionTypes: true } },
    return503OnClosing: true,
    // A client that sends its headers or body slowly is cut off instead of holding a connection.
    connectionTimeout: options.connectionTimeoutMs ?? 60_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
  });
  cutSlowBodies(app, options.requestTimeoutMs ?? 30_000);

  // First, so that its hook marks upgrade requests and closes their socket after any refusal below.
  await app.register(websocket, { options: { maxPayload: 4096 } });

  app.decorateRequest('principal', null);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRequest', authenticateHook(gate));
  app.addHook('onSend', securityHeaders);

  // A POST without a body (or an empty JSON one) is an empty object: `more` and `complete` take none.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) done(null, {});
    else void parseJson(request, body as string, done);
  });
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method === 'POST') request.body = {};
  });

  if (options.webhooks) {
    const webhooks = options.webhooks;
    webhooks.attach(options.engine, app.log);
    app.addHook('onClose', async () => webhooks.close());
  }

  metaRoutes(app, { webhooks: options.webhooks, sandboxHealth: options.sandboxHealth });
  // One parse per runbook file version for the whole app: starting a run no longer parses it.
  const runbooks = createRunbookCache(options.runbooksDir);
  runbookRoutes(app, { runbooksDir: options.runbooksDir, runbooks });
  runRoutes(app, { engine: options.engine, runbooksDir: options.runbooksDir, runbooks });
  exportRoutes(app, { engine: options.engine, runbooksDir: options.runbooksDir });
  eventRoutes(app, { engine: options.engine });
  clientRoutes(app, { clientDir: options.clientDir, gate });
  // Unknown /api paths stay behind authentication, not behind the notebook's public asset route.
  app.all('/api/*', async (_request, reply) => reply.callNotFound());

  return app;
}

/**
 * A body that has not arrived whole within `ms` of its request's start ends the connection: Node's
 * own request timeout stops counting once the headers are in, so a client sending its body a byte
 * at a time would otherwise hold the connection for as long as it likes.
 */
function cutSlowBodies(app: FastifyInstance, ms: number): void {
  const timers = new WeakMap<object, NodeJS.Timeout>();
  const clear = async (request: { raw: object }) => {
    clearTimeout(timers.get(request.raw));
  };
  app.addHook('onRequest', async (request) => {
    const timer = setTimeout(() => request.raw.socket?.destroy(), ms);
    timer.unref();
    timers.set(request.raw, timer);
  });
  app.addHook('preHandler', clear);
  app.addHook('onResponse', clear);
  app.addHook('onRequestAbort', clear);
}
