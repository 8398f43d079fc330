/**
 * Which columns a result table shows, and in which order: key attributes first, then the
 * attributes a projection asked for in its order, then every other attribute name that occurs in
 * any item (DynamoDB items need not share attributes), alphabetically.
 */
import type { RenderedRequest } from './api-types.js';

const KEYWORDS = new Set(['AND', 'BETWEEN', 'BEGINS_WITH', 'OR', 'NOT', 'IN', 'SIZE']);
const NAME = /#?[A-Za-z_][A-Za-z0-9_-]*/g;

type Input = Record<string, unknown>;

function resolve(name: string, names: unknown): string {
  if (name.startsWith('#') && names && typeof names === 'object') {
    const real = (names as Record<string, unknown>)[name];
    if (typeof real === 'string') return real;
  }
  return name;
}

/** Top-level attribute of a document path: `address.city` → `address`, `lines[0]` → `lines`. */
function topLevel(path: string): string {
  return path.split(/[.[]/, 1)[0];
}

function keysOfItem(key: unknown): string[] {
  return key && typeof key === 'object' && !Array.isArray(key) ? Object.keys(key) : [];
}

/** Attribute names a KeyConditionExpression constrains, in the order written. */
function namesInKeyCondition(expression: string, names: unknown): string[] {
  const out: string[] = [];
  for (const match of expression.replace(/:[A-Za-z0-9_]+/g, ' ').matchAll(NAME)) {
    const token = match[0];
    if (KEYWORDS.has(token.toUpperCase())) continue;
    const name = resolve(token, names);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/**
 * Key attribute names a request itself reveals: its `Key`, or the names its key condition uses.
 * A Scan says nothing about keys; the server's `keys` (when sent) covers that case.
 */
export function keyNamesOf(request: RenderedRequest | undefined): string[] {
  if (!request) return [];
  if (request.operation === 'ExecuteStatement') return [];
  const input = request.input as Input;
  switch (request.operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return keysOfItem(input.Key);
    case 'Query':
      return typeof input.KeyConditionExpression === 'string' ? namesInKeyCondition(input.KeyConditionExpression, input.ExpressionAttributeNames) : [];
    case 'BatchGetItem': {
      const first = Object.values((input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>)[0];
      return keysOfItem(first?.Keys?.[0]);
    }
    case 'TransactGetItems': {
      const first = (input.TransactItems as Array<{ Get?: { Key?: unknown } }> | undefined)?.[0];
      return keysOfItem(first?.Get?.Key);
    }
    default:
      return [];
  }
}

/** Attribute names a projection lists, in its order: ProjectionExpression, or a PartiQL select list. */
export function projectionOf(request: RenderedRequest | undefined): string[] {
  if (!request) return [];
  if (request.operation === 'ExecuteStatement') {
    const m = /^\s*SELECT\s+([\s\S]*?)\s+FROM\s/i.exec(request.input.Statement);
    if (!m || m[1].trim() === '*') return [];
    return unique(m[1].split(',').map((p) => topLevel(p.trim().replace(/^"(.*)"$/, '$1'))).filter((p) => p !== ''));
  }
  const input = request.input as Input;
  const projection = input.ProjectionExpression;
  if (typeof projection !== 'string') return [];
  return unique(projection.split(',').map((p) => topLevel(resolve(p.trim(), input.ExpressionAttributeNames))).filter((p) => p !== ''));
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

/** The columns of a result: the union of attribute names, keys first, then the projection's order, then the rest alphabetically. */
export function columnsOf(items: ReadonlyArray<Record<string, unknown>>, hints: { keys?: string[]; projection?: string[] } = {}): string[] {
  const seen = new Set<string>();
  for (const item of items) for (const name of Object.keys(item)) seen.add(name);
  return orderColumns(seen, hints);
}

/** The same order for attribute names already collected (a table whose items arrive in chunks keeps the set). */
export function orderColumns(seen: ReadonlySet<string>, hints: { keys?: string[]; projection?: string[] } = {}): string[] {
  const out: string[] = [];
  for (const name of [...(hints.keys ?? []), ...(hints.projection ?? [])]) {
    if (seen.has(name) && !out.includes(name)) out.push(name);
  }
  const rest = [...seen].filter((name) => !out.includes(name)).sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }) || (a < b ? -1 : 1));
  return [...out, ...rest];
}
