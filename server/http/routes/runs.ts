/**
 * Runs: start, read, execute steps, page, approve or deny, complete. Handlers stay thin: the engine
 * owns every rule of the run lifecycle; these check roles and shapes, then report what it did.
 */
import type { FastifyInstance } from 'fastify';
import { RbError } from '../../errors.js';
import type { RunEngine } from '../../runs/engine.js';
import { summarizeRun } from '../../runs/summary.js';
import { principalOf, requireRole } from '../guard.js';
import { loadRunbook } from '../../runbook/load.js';
import { relativeProblems } from '../runbook-view.js';
import {
  decisionBody,
  emptyBody,
  executeBody,
  runParams,
  startRunBody,
  stepParams,
  type RunParams,
  type StartRunBody,
  type StepParams,
} from '../schemas.js';

export function runRoutes(app: FastifyInstance, options: { engine: RunEngine; runbooksDir: string }): void {
  const { engine, runbooksDir } = options;
  const runner = requireRole('runner');
  const approver = requireRole('approver');

  app.post<{ Body: StartRunBody }>('/api/runs', { schema: { body: startRunBody }, preHandler: runner }, async (request, reply) => {
    const { runbook: id, params } = request.body;
    const loaded = await loadRunbook(runbooksDir, id);
    if (!loaded.runbook || loaded.problems.length > 0) {
      const n = loaded.problems.length;
      throw new RbError(
        'RB_ERR_RUNBOOK_INVALID',
        `Runbook ${id} has ${n} problem${n === 1 ? '' : 's'}; fix ${n === 1 ? 'it' : 'them'} (\`runbooks check\` lists each) before running it.`,
        { problems: relativeProblems(runbooksDir, loaded.problems) },
      );
    }
    const run = await engine.startRun({ runbook: loaded.runbook, runbookId: id, params: params ?? {}, user: principalOf(request).name });
    return reply.code(201).send({ run });
  });

  app.get('/api/runs', async () => ({ runs: engine.listRuns().map(summarizeRun) }));

  app.get<{ Params: RunParams }>('/api/runs/:run', { schema: { params: runParams } }, async (request) => {
    const run = engine.getRun(request.params.run);
    if (!run) throw new RbError('RB_ERR_RUN_NOT_FOUND', `No run with id ${JSON.stringify(request.params.run)}.`);
    return { run };
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

  app.post<{ Params: StepParams }>(
    '/api/runs/:run/steps/:step/more',
    { schema: { params: stepParams, body: emptyBody }, preHandler: runner },
    async (request) => {
      const { run, step } = request.params;
      return { execution: await engine.more(run, step, { user: principalOf(request).name }) };
    },
  );

  for (const decision of ['approve', 'deny'] as const) {
    app.post<{ Params: StepParams; Body: { comment?: string } }>(
      `/api/runs/:run/steps/:step/${decision}`,
      { schema: { params: stepParams, body: decisionBody }, preHandler: approver },
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

  app.post<{ Params: RunParams }>(
    '/api/runs/:run/complete',
    { schema: { params: runParams, body: emptyBody }, preHandler: runner },
    async (request) => ({ run: await engine.complete(request.params.run, { user: principalOf(request).name }) }),
  );
}
