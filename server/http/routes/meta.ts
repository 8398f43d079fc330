/** Liveness (public) and who the caller is. */
import type { FastifyInstance } from 'fastify';
import { principalOf, PUBLIC_ROUTE } from '../guard.js';

export function metaRoutes(app: FastifyInstance): void {
  app.get('/api/health', PUBLIC_ROUTE, async () => ({ ok: true }));

  app.get('/api/me', async (request) => {
    const p = principalOf(request);
    return { user: p.name, roles: p.roles };
  });
}
