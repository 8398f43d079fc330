/**
 * Liveness (public) and who the caller is. Health reports the server's own liveness in `ok`;
 * webhook delivery, when configured, is reported beside it and never makes the server unhealthy.
 */
import type { FastifyInstance } from 'fastify';
import type { WebhookDispatcher } from '../../notify/webhooks.js';
import { principalOf, PUBLIC_ROUTE } from '../guard.js';

export function metaRoutes(app: FastifyInstance, options: { webhooks?: Pick<WebhookDispatcher, 'health'> } = {}): void {
  app.get('/api/health', PUBLIC_ROUTE, async () => (options.webhooks ? { ok: true, webhooks: options.webhooks.health() } : { ok: true }));

  app.get('/api/me', async (request) => {
    const p = principalOf(request);
    return { user: p.name, roles: p.roles };
  });
}
