import type { Run, RunSummary } from './types.js';

/** The list form of a run (`GET /api/runs`): executions without items, request or policy. */
export function summarizeRun(run: Run): RunSummary {
  return {
    ...run,
    executions: run.executions.map(({ items: _items, attributes: _attributes, request: _request, policy: _policy, ...rest }) => rest),
  };
}
