/**
 * The partition key value a request fixes, as IAM sees it in `dynamodb:LeadingKeys`. IAM compares
 * these as strings, so only string and number keys can be pinned; a binary key (or anything this
 * module cannot read with certainty) yields `undefined`, and the caller leaves that part unpinned.
 */
import { isRecord } from '../is-record.js';

/** The LeadingKeys value of a key or item's partition key attribute, or undefined if not pinnable. */
export function leadingKeyOf(keyOrItem: unknown, partitionKey: string): string | undefined {
  if (!isRecord(keyOrItem) || !Object.prototype.hasOwnProperty.call(keyOrItem, partitionKey)) return undefined;
  return asLeadingKey(keyOrItem[partitionKey]);
}

function asLeadingKey(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  // DynamoDB keeps numbers in canonical form ("42", "1.5"); JavaScript prints the same for every
  // number that is a safe integer or a short decimal, which is all a runbook key can hold exactly.
  if (typeof value === 'number' && Number.isFinite(value) && !/e/i.test(String(value))) return String(value);
  return undefined;
}

/**
 * The partition key value of a Query's KeyConditionExpression: the operand of `pk = :v` (or
 * `#n = :v`, either side) among its top-level AND terms. KeyConditionExpression admits no OR and
 * requires exactly this equality on the partition key, so the value is the only partition a Query
 * can read.
 */
export function queryLeadingKey(input: Record<string, unknown>, partitionKey: string): string | undefined {
  const expr = input.KeyConditionExpression;
  if (typeof expr !== 'string') return undefined;
  const names = isRecord(input.ExpressionAttributeNames) ? input.ExpressionAttributeNames : {};
  const values = isRecord(input.ExpressionAttributeValues) ? input.ExpressionAttributeValues : {};
  const found = new Set<string | undefined>();
  for (const term of splitAnd(expr)) {
    const m = /^\s*(#?[A-Za-z0-9_.-]+|:[A-Za-z0-9_]+)\s*=\s*(#?[A-Za-z0-9_.-]+|:[A-Za-z0-9_]+)\s*$/.exec(stripParens(term));
    if (!m) continue;
    const [left, right] = [m[1], m[2]];
    const [attr, placeholder] = left.startsWith(':') ? [right, left] : [left, right];
    if (!placeholder.startsWith(':') || attr.startsWith(':')) continue;
    const name = attr.startsWith('#') ? names[attr] : attr;
    if (name !== partitionKey) continue;
    found.add(Object.prototype.hasOwnProperty.call(values, placeholder) ? asLeadingKey(values[placeholder]) : undefined);
  }
  // Exactly one equality with a readable value; anything else is left to DynamoDB to reject.
  return found.size === 1 ? [...found][0] : undefined;
}

/** Splits an expression at top-level ANDs (outside parentheses). */
function splitAnd(expr: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  const re = /[()]|\bAND\b/gi;
  for (let m = re.exec(expr); m; m = re.exec(expr)) {
    if (m[0] === '(') depth++;
    else if (m[0] === ')') depth--;
    else if (depth === 0) {
      terms.push(expr.slice(start, m.index));
      start = m.index + m[0].length;
    }
  }
  terms.push(expr.slice(start));
  return terms;
}

function stripParens(term: string): string {
  let t = term.trim();
  while (t.startsWith('(') && t.endsWith(')')) t = t.slice(1, -1).trim();
  return t;
}
