/** The runbooks of the folder: the list, and one runbook by id (the id keeps its slashes). */
import type { FastifyInstance } from 'fastify';
import type { RunbookCache } from '../../runbook/cache.js';
import { listRunbooks } from '../../runbook/load.js';
import { relativeProblems, runbookSummary, runbookView } from '../runbook-view.js';

export function runbookRoutes(app: FastifyInstance, options: { runbooksDir: string; runbooks: RunbookCache }): void {
  const root = options.runbooksDir;

  app.get('/api/runbooks', async () => {
    const entries = await listRunbooks(root);
    return { runbooks: entries.map((e) => runbookSummary(e.id, e.runbook, relativeProblems(root, e.problems))) };
  });

  app.get<{ Params: { '*': string } }>('/api/runbooks/*', async (request) => {
    const id = request.params['*'];
    // The cache loads as loadRunbook does, refusing ids that leave the folder (`..`, absolute, links pointing outside): 404.
    const loaded = await options.runbooks.load(id);
    return { runbook: runbookView(id, loaded.runbook, relativeProblems(root, loaded.problems)) };
  });
}
