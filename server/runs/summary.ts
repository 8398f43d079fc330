import type { Run, RunSummary } from './types.js';

/**
 * The list form of a run (`GET /api/runs`, docs/api.md): executions without their items, returned
 * attributes, request, policy, write images or inputs; and an ended run without its approvals, all
 * closed by then (the run view has them). Light, because a server lists every run it has, and keeps
 * this form alone in memory for runs long ended.
 */
export function summarizeRun(run: Run): RunSummary {
  const executions = run.executions.map(({ items: _i, attributes: _a, request: _r, policy: _p, images: _im, inputs: _in, ...rest }) => rest);
  if (run.status === 'active') return { ...run, executions };
  const { pastApprovals: _past, ...ended } = run;
  return { ...ended, approvals: {}, executions };
}
