/**
 * Rendering: a step plus validated parameter values (and earlier steps' outputs) becomes a request.
 * Templates are applied to the parsed request's string values only, and PartiQL templates become
 * `?` placeholders with their values bound in `Parameters`, so no value can change a request's
 * structure.
 */
import { isRbError, RbError } from '../errors.js';
import { scanPartiql } from './partiql.js';
import { plainRequest } from './typed-values.js';
import { renderTemplate, type StepOutputs } from './templates.js';
import type { ParamValues, RenderedRequest, Step } from './types.js';

function renderValue(value: unknown, values: ParamValues, now: Date, outputs?: StepOutputs): unknown {
  if (typeof value === 'string') return renderTemplate(value, values, now, outputs);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, values, now, outputs));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      // defineProperty: an attribute named `__proto__` must stay an attribute.
      Object.defineProperty(out, key, { value: renderValue(child, values, now, outputs), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

function renderPartiql(step: Step, values: ParamValues, now: Date, outputs?: StepOutputs): RenderedRequest {
  const scan = scanPartiql(step.source);
  if (!scan.kind || scan.problems.length > 0) throw new Error('the statement has errors; run `runbooks check` on the runbook');
  let statement = '';
  let from = 0;
  const parameters: unknown[] = [];
  for (const t of scan.templates) {
    statement += `${step.source.slice(from, t.start)}?`;
    parameters.push(renderTemplate(t.text, values, now, outputs));
    from = t.end;
  }
  statement = (statement + step.source.slice(from)).trim();
  return {
    operation: 'ExecuteStatement',
    statementKind: scan.kind,
    input: parameters.length > 0 ? { Statement: statement, Parameters: parameters } : { Statement: statement },
  };
}

/**
 * Renders one step with validated values (see `coerceParams`) and the outputs of earlier steps it
 * uses (values like parameters: never text of the request). `now` fixes the clock of the date
 * helpers (tests). Throws RbError RB_ERR_TEMPLATE_RENDER naming the step when a value is missing
 * or a helper refuses its argument.
 */
export function renderStep(step: Step, values: ParamValues, now: Date = new Date(), outputs?: StepOutputs): RenderedRequest {
  try {
    if (step.language === 'partiql') return renderPartiql(step, values, now, outputs);
    if (!step.request || step.operation === 'ExecuteStatement') {
      throw new Error('the request has errors; run `runbooks check` on the runbook');
    }
    const input = renderValue(step.request, values, now, outputs) as Record<string, unknown>;
    if (step.values !== 'typed') return { operation: step.operation, input };
    // Typed values become plain ones here, so that policies, images and transcripts read one form.
    const plain = plainRequest(step.operation, input);
    return { operation: step.operation, input: plain.input, ...(plain.typedValues.length > 0 ? { typedValues: plain.typedValues } : {}) };
  } catch (err) {
    if (isRbError(err)) throw err;
    throw new RbError('RB_ERR_TEMPLATE_RENDER', `step \`${step.name}\`: ${(err as Error).message}`);
  }
}
