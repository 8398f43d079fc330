/** Which requests need their tables' key schemas: those whose policy can pin `dynamodb:LeadingKeys`. */
import { operations } from '../runbook/operations.js';
import type { RenderedRequest } from '../runbook/types.js';

/** Key schemas matter only where the policy can pin `dynamodb:LeadingKeys` (not through an index's query). */
export function needsKeySchema(request: RenderedRequest): boolean {
  if (request.operation === 'ExecuteStatement') return false;
  const fact = operations[request.operation];
  return fact.pinsLeadingKey && !(request.operation === 'Query' && request.input.IndexName !== undefined);
}
