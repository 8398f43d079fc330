/** Liveness (public) and who the caller is. */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../guard.js';

export function metaRoutes(app: FastifyInstance): void {
  app.get('/api/health', async () => ({ ok: true }));

  app.get('/api/me', async (request) => {
    const p = principalOf(request);
    return { user: p.name, roles: p.roles };
  });
}
