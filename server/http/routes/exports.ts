/** A run's transcript (Markdown, JSON, HTML) and one step's items as CSV, as downloads. */
import type { FastifyInstance } from 'fastify';
import { RbError } from '../../errors.js';
import { loadRunbook } from '../../runbook/load.js';
import type { Runbook } from '../../runbook/types.js';
import type { RunEngine } from '../../runs/engine.js';
import { Readable } from 'node:stream';
import { renderTranscript, stepCsvChunks, TRANSCRIPT_TYPES, transcriptCsp, type TranscriptFormat } from '../../runs/transcript.js';
import type { Run } from '../../runs/types.js';
import { runParams, stepParams, transcriptQuery, type RunParams, type StepParams } from '../schemas.js';
import { runNotFound } from '../../runs/store-ids.js';

export function exportRoutes(app: FastifyInstance, options: { engine: RunEngine; runbooksDir: string }): void {
  const { engine, runbooksDir } = options;

  const runOf = async (id: string): Promise<Run> => {
    const run = await engine.current(id);
    if (!run) throw runNotFound(id);
    return run;
  };

  // The prose and sources come from the run's own copy of its runbook, never today's file; runs of
  // the earlier layout kept none, so for them the file is read.
  const runbookOf = async (run: Run): Promise<Runbook | undefined> => {
    const kept = engine.runbookOf(run.id);
    if (kept && engine.sourceOf(run.id)?.text) return kept;
    try {
      return (await loadRunbook(runbooksDir, run.runbook)).runbook;
    } catch {
      return undefined;
    }
  };

  app.get<{ Params: RunParams; Querystring: { format: TranscriptFormat } }>(
    '/api/runs/:run/transcript',
    { schema: { params: runParams, querystring: transcriptQuery } },
    async (request, reply) => {
      const run = await engine.withAllItems((await runOf(request.params.run)).id);
      const format = request.query.format;
      const body = renderTranscript(run, await runbookOf(run), format, engine.sourceOf(run.id));
      // The transcript's own policy (its one inline style sheet, by hash); framing is refused as everywhere.
      if (format === 'html') reply.header('content-security-policy', `${transcriptCsp()}; frame-ancestors 'none'`);
      return reply.type(TRANSCRIPT_TYPES[format]).header('content-disposition', `attachment; filename="${run.id}.${format}"`).send(body);
    },
  );

  app.get<{ Params: StepParams }>('/api/runs/:run/steps/:step/result.csv', { schema: { params: stepParams } }, async (request, reply) => {
    const run = await runOf(request.params.run);
    const { step } = request.params;
    const execution = run.executions.filter((e) => e.step === step).at(-1);
    if (!execution) {
      const runbook = engine.runbookOf(run.id);
      if (runbook && !runbook.steps.some((s) => s.name === step)) {
        throw new RbError('RB_ERR_STEP_NOT_FOUND', `The runbook has no step named ${JSON.stringify(step)}.`);
      }
      throw new RbError('RB_ERR_RUN_NO_EXECUTION', `Step ${step} has not been executed in run ${run.id}; execute it first.`);
    }
    return reply
      .type('text/csv; charset=utf-8; header=present')
      .header('content-disposition', `attachment; filename="${run.id}-${step}.csv"`)
      .send(Readable.from(stepCsvChunks(execution, () => engine.allItems(run.id, step, execution.n))));
  });
}
