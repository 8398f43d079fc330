/**
 * Runs: start, read, execute steps, page, approve or deny, complete. Handlers stay thin: the engine
 * owns every rule of the run lifecycle; these check roles and shapes, then report what it did.
 */
import type { FastifyInstance } from 'fastify';
import { RbError } from '../../errors.js';
import type { RunEngine } from '../../runs/engine.js';
import { principalOf, requireRole } from '../guard.js';
import type { RunbookCache } from '../../runbook/cache.js';
import { createHash } from 'node:crypto';
import { relativeProblems, runbookView } from '../runbook-view.js';
import {
  approvalParams,
  decisionBody,
  emptyBody,
  executeBody,
  itemsQuery,
  revertBody,
  runParams,
  runsQuery,
  startRunBody,
  stepParams,
  type ItemsQuery,
  type RunParams,
  type RunsQuery,
  type StartRunBody,
  type StepParams,
} from '../schemas.js';
import { runNotFound } from '../../runs/store-ids.js';

export function runRoutes(app: FastifyInstance, options: { engine: RunEngine; runbooksDir: string; runbooks: RunbookCache }): void {
  const { engine, runbooksDir, runbooks } = options;
  const runner = requireRole('runner');
  const approver = requireRole('approver');

  app.post<{ Body: StartRunBody }>('/api/runs', { schema: { body: startRunBody }, preHandler: runner }, async (request, reply) => {
    const { runbook: id, params } = request.body;
    // Parsed once per version of the file; the run keeps the very text that was parsed.
    const loaded = await runbooks.load(id);
    if (!loaded.runbook || loaded.problems.length > 0) {
      const n = loaded.problems.length;
      throw new RbError(
        'RB_ERR_RUNBOOK_INVALID',
        `Runbook ${id} has ${n} problem${n === 1 ? '' : 's'}; fix ${n === 1 ? 'it' : 'them'} (\`runbooks check\` lists each) before running it.`,
        { problems: relativeProblems(runbooksDir, loaded.problems) },
      );
    }
    const run = await engine.startRun({ runbook: loaded.runbook, runbookId: id, params: params ?? {}, user: principalOf(request).name, source: loaded.text ?? '' });
    return reply.code(201).send({ run });
  });

  // Other processes on the data folder (`runbooks run`, another server) start and change runs too.
  // The newest runs come from memory; `before` pages back through older ended runs, read from the store.
  app.get<{ Querystring: RunsQuery }>('/api/runs', { schema: { querystring: runsQuery } }, async (request) => {
    const { before, limit } = request.query;
    if (before !== undefined) {
      return { runs: await engine.olderRuns(before, pageLimit(limit, 100)) };
    }
    await engine.sync();
    return { runs: engine.listRuns(), older: engine.unlistedRuns };
  });

  app.get<{ Params: RunParams }>('/api/runs/:run', { schema: { params: runParams } }, async (request) => {
    const run = await engine.load(request.params.run);
    if (!run) throw runNotFound(request.params.run);
    return { run: { ...run, runbookChanged: await runbookChanged(runbooks, run.runbook, run.runbookSha256) } };
  });

  // The runbook as this run started with it: its own copy, whatever the file says today.
  app.get<{ Params: RunParams }>('/api/runs/:run/runbook', { schema: { params: runParams } }, async (request) => {
    const runId = request.params.run;
    const run = await engine.current(runId);
    if (!run) throw runNotFound(runId);
    const kept = engine.runbookOf(runId);
    if (kept) return { runbook: runbookView(run.runbook, kept, []) };
    // A run recorded before runs kept their runbook: the file as it is today.
    const loaded = await runbooks.load(run.runbook);
    return { runbook: runbookView(run.runbook, loaded.runbook, relativeProblems(runbooksDir, loaded.problems)) };
  });

  app.get<{ Params: StepParams; Querystring: ItemsQuery }>('/api/runs/:run/steps/:step/items', { schema: { params: stepParams, querystring: itemsQuery } }, async (request) => {
    const { run, step } = request.params;
    const q = request.query;
    await engine.current(run);
    const limit = pageLimit(q.limit, 500);
    const n = q.n === undefined ? undefined : Number(q.n);
    return engine.items(run, step, { ...(n !== undefined ? { n } : {}), offset: q.offset === undefined ? 0 : Number(q.offset), limit });
  });

  app.post<{ Params: StepParams; Body: { confirm?: boolean } }>(
    '/api/runs/:run/steps/:step/execute',
    { schema: { params: stepParams, body: executeBody }, preHandler: runner },
    async (request) => {
      const { run, step } = request.params;
      const execution = await engine.executeStep(run, step, { user: principalOf(request).name, confirm: request.body.confirm === true });
      return { execution };
    },
  );

  app.post<{ Params: StepParams }>('/api/runs/:run/steps/:step/more', { schema: { params: stepParams, body: emptyBody }, preHandler: runner }, async (request) => {
    const { run, step } = request.params;
    return { execution: await engine.nextPage(run, step, { user: principalOf(request).name }) };
  });

  app.post<{ Params: StepParams; Body: { n: number; confirm?: boolean } }>(
    '/api/runs/:run/steps/:step/revert',
    { schema: { params: stepParams, body: revertBody }, preHandler: runner },
    async (request) => {
      const { run, step } = request.params;
      const execution = await engine.revert(run, step, { user: principalOf(request).name, n: request.body.n, confirm: request.body.confirm === true });
      return { execution };
    },
  );

  for (const decision of ['approve', 'deny'] as const) {
    app.post<{ Params: StepParams; Body: { comment?: string } }>(
      `/api/runs/:run/steps/:step/${decision}`,
      { schema: { params: approvalParams, body: decisionBody }, preHandler: approver },
      async (request) => {
        const { run, step } = request.params;
        const approval = await engine.decideApproval(run, step, {
          user: principalOf(request).name,
          approve: decision === 'approve',
          ...(request.body.comment !== undefined ? { comment: request.body.comment } : {}),
        });
        return { approval };
      },
    );
  }

  app.post<{ Params: RunParams }>('/api/runs/:run/complete', { schema: { params: runParams, body: emptyBody }, preHandler: runner }, async (request) => ({
    run: await engine.complete(request.params.run, { user: principalOf(request).name }),
  }));
}

/**
 * Whether the runbook's file has changed since the run started with it (the run keeps using its
 * own copy; the notebook says so and offers a new run). Undefined where it cannot tell.
 */
async function runbookChanged(runbooks: RunbookCache, id: string, sha256: string | undefined): Promise<boolean | undefined> {
  if (!sha256) return undefined;
  try {
    const loaded = await runbooks.load(id);
    return loaded.text === undefined ? undefined : createHash('sha256').update(loaded.text).digest('hex') !== sha256;
  } catch {
    return true; // the file is gone
  }
}

/** A page size given as `limit` (`fallback` when absent): from 1 to 1000. */
function pageLimit(limit: string | undefined, fallback: number): number {
  const n = limit === undefined ? fallback : Number(limit);
  if (n < 1 || n > 1000) throw new RbError('RB_ERR_HTTP_BAD_REQUEST', `limit must be from 1 to 1000, not ${n}.`);
  return n;
}
