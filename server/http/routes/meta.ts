/**
 * Liveness (public) and who the caller is. Health reports the server's own liveness in `ok`, which
 * includes the local sandbox's DynamoDB Local when the server runs one (every step needs it); webhook delivery, when configured, is reported beside it and never makes the server unhealthy.
 */
import type { FastifyInstance } from 'fastify';
import type { WebhookDispatcher } from '../../notify/webhooks.js';
import type { SandboxHealth } from '../../sandbox/supervise.js';
import { principalOf, PUBLIC_ROUTE } from '../guard.js';

export interface MetaOptions {
  webhooks?: Pick<WebhookDispatcher, 'health'>;
  /** the local sandbox's state, when the server runs one: a DynamoDB Local that is not up makes `ok` false */
  sandboxHealth?: () => SandboxHealth;
}

export function metaRoutes(app: FastifyInstance, options: MetaOptions = {}): void {
  app.get('/api/health', PUBLIC_ROUTE, async () => {
    const sandbox = options.sandboxHealth?.();
    return {
      ok: !sandbox || sandbox.dynamoLocal === 'up',
      ...(sandbox ? { sandbox } : {}),
      ...(options.webhooks ? { webhooks: options.webhooks.health() } : {}),
    };
  });

  app.get('/api/me', async (request) => {
    const p = principalOf(request);
    return { user: p.name, roles: p.roles };
  });
}
