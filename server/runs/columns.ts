/**
 * The column order of a step's items, the one rule of every output that shows them: the notebook's
 * table and its "Copy as JSON", the CSV export, the transcripts (Markdown, JSON, HTML) and the CLI's
 * table. Key attributes first (the execution's `keys`, read from the table's schema; else the names
 * its request reveals), then the attributes a projection asked for in its order, then every other
 * attribute name that occurs in any item (DynamoDB items need not share attributes) alphabetically,
 * ignoring case. Pure and free of Node and DOM: the browser bundle imports it as the server does.
 */
import type { RenderedRequest } from '../runbook/types.js';

export interface ColumnHints {
  keys?: readonly string[];
  projection?: readonly string[];
}

/** What an execution tells about its columns (a `StepExecution`, or the client's copy of one). */
export interface ColumnSource {
  keys?: readonly string[];
  request?: RenderedRequest;
}

type Item = Readonly<Record<string, unknown>>;

const KEYWORDS = new Set(['AND', 'BETWEEN', 'BEGINS_WITH', 'OR', 'NOT', 'IN', 'SIZE']);
const NAME = /#?[A-Za-z_][A-Za-z0-9_-]*/g;

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

function unique(names: string[]): string[] {
  return [...new Set(names)];
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
 * A Scan or a PartiQL statement says nothing about keys; the execution's `keys` covers those.
 */
export function keyNamesOf(request: RenderedRequest | undefined): string[] {
  if (!request || request.operation === 'ExecuteStatement') return [];
  const input = request.input;
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
    return unique(
      m[1]
        .split(',')
        .map((p) => topLevel(p.trim().replace(/^"(.*)"$/, '$1')))
        .filter((p) => p !== ''),
    );
  }
  const input = request.input;
  const projection = input.ProjectionExpression;
  if (typeof projection !== 'string') return [];
  return unique(
    projection
      .split(',')
      .map((p) => topLevel(resolve(p.trim(), input.ExpressionAttributeNames)))
      .filter((p) => p !== ''),
  );
}

/** The hints of an execution: its `keys` when the schema was read, else the request's; its projection. */
export function hintsOf(source: ColumnSource | undefined): ColumnHints {
  if (!source) return {};
  return { keys: source.keys ?? keyNamesOf(source.request), projection: projectionOf(source.request) };
}

// Case-insensitive, then by code unit: no locale, so that Node and every browser order alike.
function byName(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The column order for attribute names already collected (a table whose items arrive in chunks keeps the set). */
export function orderColumns(seen: Iterable<string>, hints: ColumnHints = {}): string[] {
  const present = seen instanceof Set ? (seen as ReadonlySet<string>) : new Set(seen);
  const out: string[] = [];
  for (const name of [...(hints.keys ?? []), ...(hints.projection ?? [])]) {
    if (present.has(name) && !out.includes(name)) out.push(name);
  }
  const placed = new Set(out);
  const rest = [...present].filter((name) => !placed.has(name)).sort(byName);
  return [...out, ...rest];
}

/** The columns of some items: the union of their attribute names, in the order above. */
export function columnsOf(items: Iterable<Item>, hints: ColumnHints = {}): string[] {
  const seen = new Set<string>();
  for (const item of items) for (const name of Object.keys(item)) seen.add(name);
  return orderColumns(seen, hints);
}

/** An item with its attributes in column order (for JSON outputs, whose "columns" are the keys' order). */
export function inColumnOrder(item: Item, columns: readonly string[]): Record<string, unknown> {
  // No prototype: an attribute named `__proto__` stays an attribute.
  const out = Object.create(null) as Record<string, unknown>;
  const own = (o: object, name: string) => Object.prototype.hasOwnProperty.call(o, name);
  for (const name of columns) if (own(item, name)) out[name] = item[name];
  // Names outside the columns (none, when the columns came from these items) follow them.
  for (const name of Object.keys(item)) if (!own(out, name)) out[name] = item[name];
  return out;
}
