/**
 * JSON schemas of every route's input. Unknown properties are errors, as in runbooks: a typo must
 * not be silently ignored. Sizes are bounded so that no field can make the server do unbounded work.
 */

const runId = { type: 'string', pattern: '^[a-z0-9-]{1,64}$' } as const;
// docs/format.md: step names are [a-z0-9][a-z0-9-]*.
const stepName = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,127}$' } as const;
// Approvals also name a step's revert (`<step>.revert`, docs/api.md "Revert").
const approvalName = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,127}(\\.revert)?$' } as const;

export const approvalParams = {
  type: 'object',
  required: ['run', 'step'],
  properties: { run: runId, step: approvalName },
} as const;

export const runParams = {
  type: 'object',
  required: ['run'],
  properties: { run: runId },
} as const;

export const stepParams = {
  type: 'object',
  required: ['run', 'step'],
  properties: { run: runId, step: stepName },
} as const;

export const startRunBody = {
  type: 'object',
  required: ['runbook'],
  additionalProperties: false,
  properties: {
    runbook: { type: 'string', minLength: 1, maxLength: 1024 },
    params: {
      type: 'object',
      maxProperties: 200,
      // Values arrive as strings from forms; API clients may send JSON numbers and booleans.
      additionalProperties: { type: ['string', 'number', 'boolean'], maxLength: 16_384 },
    },
  },
} as const;

export const executeBody = {
  type: 'object',
  additionalProperties: false,
  properties: { confirm: { type: 'boolean' } },
} as const;

export const revertBody = {
  type: 'object',
  required: ['n'],
  additionalProperties: false,
  properties: { n: { type: 'integer', minimum: 1, maximum: 1_000_000 }, confirm: { type: 'boolean' } },
} as const;

export const decisionBody = {
  type: 'object',
  additionalProperties: false,
  properties: { comment: { type: 'string', maxLength: 2000 } },
} as const;

export const emptyBody = {
  type: 'object',
  additionalProperties: false,
  properties: {},
} as const;

export const transcriptQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { format: { type: 'string', enum: ['md', 'json', 'html'], default: 'md' } },
} as const;

// Query strings arrive as text and are not coerced: whole numbers are checked by pattern, bounded by length.
const wholeNumber = { type: 'string', pattern: '^[0-9]{1,9}$' } as const;

export const itemsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { n: wholeNumber, offset: wholeNumber, limit: wholeNumber },
} as const;

/** `GET /api/runs?before=<ISO time>&limit=N`: a page of the runs the list in memory leaves out. */
export const runsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { before: { type: 'string', minLength: 1, maxLength: 40 }, limit: wholeNumber },
} as const;

export interface RunsQuery {
  before?: string;
  limit?: string;
}

export interface ItemsQuery {
  n?: string;
  offset?: string;
  limit?: string;
}

export interface StartRunBody {
  runbook: string;
  params?: Record<string, string | number | boolean>;
}
export interface RunParams {
  run: string;
}
export interface StepParams {
  run: string;
  step: string;
}
