/**
 * Before and after images of a write (docs/api.md, "Before and after"): which items a write
 * addresses by their full key, the read that fetches them (a BatchGetItem, strongly consistent,
 * which the engine runs with its own read-only derived session), their attribute-level difference,
 * and the write that restores a before-image — conditional on the item still being the after-image.
 *
 * Only key-addressed writes have images: PutItem, UpdateItem, DeleteItem, the items of
 * BatchWriteItem and TransactWriteItems, and PartiQL UPDATE/DELETE whose WHERE names the full key
 * with `=` alone. Any other write says why it has none.
 */
import type { KeySchema } from '../dynamo/describe.js';
import type { RenderedRequest } from '../runbook/types.js';
import type { AttributeChange, ItemImage, KeyedItem } from './types.js';

export type { AttributeChange, ItemImage, KeyedItem, WriteImages } from './types.js';

type Schemas = (table: string) => Promise<KeySchema>;

/** The items a write addresses by their full key, or why it addresses none that way. */
export async function writeTargets(request: RenderedRequest, schemaOf: Schemas): Promise<KeyedItem[] | { unavailable: string }> {
  const keyOf = async (table: string, item: unknown): Promise<KeyedItem> => {
    const schema = await schemaOf(table);
    const source = (item ?? {}) as Record<string, unknown>;
    const key: Record<string, unknown> = { [schema.partitionKey]: source[schema.partitionKey] };
    if (schema.sortKey) key[schema.sortKey] = source[schema.sortKey];
    return { table, key };
  };
  const input = request.input as Record<string, unknown>;
  switch (request.operation) {
    case 'PutItem':
      return [await keyOf(String(input.TableName), input.Item)];
    case 'UpdateItem':
    case 'DeleteItem':
      return [{ table: String(input.TableName), key: input.Key as Record<string, unknown> }];
    case 'BatchWriteItem': {
      const out: KeyedItem[] = [];
      for (const [table, requests] of Object.entries((input.RequestItems ?? {}) as Record<string, unknown[]>)) {
        for (const r of requests as Array<{ PutRequest?: { Item: unknown }; DeleteRequest?: { Key: Record<string, unknown> } }>) {
          if (r.PutRequest) out.push(await keyOf(table, r.PutRequest.Item));
          else if (r.DeleteRequest) out.push({ table, key: r.DeleteRequest.Key });
        }
      }
      return out;
    }
    case 'TransactWriteItems': {
      const out: KeyedItem[] = [];
      for (const part of (input.TransactItems ?? []) as Array<Record<string, { TableName: string; Item?: unknown; Key?: Record<string, unknown> }>>) {
        if (part.Put) out.push(await keyOf(part.Put.TableName, part.Put.Item));
        else if (part.Update) out.push({ table: part.Update.TableName, key: part.Update.Key! });
        else if (part.Delete) out.push({ table: part.Delete.TableName, key: part.Delete.Key! });
      }
      return out;
    }
    case 'ExecuteStatement':
      return partiqlTarget(request, schemaOf);
    default:
      return { unavailable: `${request.operation} does not write.` };
  }
}

/** The strongly consistent read of those items, as a request the engine derives a read-only policy for. */
export function readRequest(items: readonly KeyedItem[]): RenderedRequest {
  const RequestItems: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> = {};
  for (const { table, key } of items) {
    const entry = (RequestItems[table] ??= { Keys: [], ConsistentRead: true });
    if (!entry.Keys.some((k) => sameJson(k, key))) entry.Keys.push(key);
  }
  return { operation: 'BatchGetItem', input: { RequestItems } };
}

/** Matches the items a read returned (with their tables) to the keys asked for; absent ones are null. */
export function matchItems(wanted: readonly KeyedItem[], items: readonly Record<string, unknown>[], tables: readonly string[]): Array<Record<string, unknown> | null> {
  return wanted.map(({ table, key }) => {
    const i = items.findIndex((item, j) => tables[j] === table && Object.entries(key).every(([k, v]) => sameJson(item[k], v)));
    return i < 0 ? null : items[i];
  });
}

/** What changed in one item, attribute by attribute (nested values compared whole). */
export function diffItems(before: Record<string, unknown> | null, after: Record<string, unknown> | null): AttributeChange[] {
  const b = before ?? {};
  const a = after ?? {};
  const names = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  const out: AttributeChange[] = [];
  for (const name of names) {
    const inBefore = Object.prototype.hasOwnProperty.call(b, name);
    const inAfter = Object.prototype.hasOwnProperty.call(a, name);
    if (inBefore && !inAfter) out.push({ attribute: name, change: 'removed', before: b[name] });
    else if (!inBefore && inAfter) out.push({ attribute: name, change: 'added', after: a[name] });
    else if (!sameJson(b[name], a[name])) out.push({ attribute: name, change: 'changed', before: b[name], after: a[name] });
  }
  return out;
}

/**
 * The write that puts back each item's before-image, on the condition that the item is still its
 * after-image: every attribute of the after-image equal (or, where the write created nothing, that
 * the item is still absent). One item is a PutItem or DeleteItem; several are one transaction.
 */
export function revertRequest(images: readonly ItemImage[]): RenderedRequest | { unavailable: string } {
  const parts: Array<Record<string, unknown>> = [];
  for (const image of images) {
    const after = image.after ?? null;
    if (image.after === undefined) return { unavailable: 'The write has no after-image to check the item against.' };
    if (image.before === null && after === null) continue;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    let condition: string;
    if (after === null) {
      const [first] = Object.keys(image.key);
      names['#k0'] = first;
      condition = 'attribute_not_exists(#k0)';
    } else {
      condition = Object.entries(after)
        .map(([name, value], i) => {
          names[`#a${i}`] = name;
          values[`:a${i}`] = value;
          return `#a${i} = :a${i}`;
        })
        .join(' AND ');
    }
    const guard = { ConditionExpression: condition, ExpressionAttributeNames: names, ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}) };
    parts.push(image.before === null ? { Delete: { TableName: image.table, Key: image.key, ...guard } } : { Put: { TableName: image.table, Item: image.before, ...guard } });
  }
  if (parts.length === 0) return { unavailable: 'The write changed nothing that could be put back.' };
  if (parts.length === 1) {
    const [only] = parts;
    if (only.Put) return { operation: 'PutItem', input: { ...only.Put, ReturnValues: 'NONE' } };
    return { operation: 'DeleteItem', input: only.Delete as Record<string, unknown> };
  }
  return { operation: 'TransactWriteItems', input: { TransactItems: parts } };
}

/** PartiQL UPDATE/DELETE whose WHERE is `key = value` for the full key, joined by AND, nothing else. */
async function partiqlTarget(request: Extract<RenderedRequest, { operation: 'ExecuteStatement' }>, schemaOf: Schemas): Promise<KeyedItem[] | { unavailable: string }> {
  const none = { unavailable: 'A PartiQL write names its item in its statement: a before-image is read only for UPDATE and DELETE whose WHERE is the full key with = alone.' };
  const given = (request.input as { Statement?: unknown }).Statement;
  const statement = typeof given === 'string' ? given : '';
  const parameters = (request.input as { Parameters?: unknown[] }).Parameters ?? [];
  const m = /^\s*(UPDATE\s+"?([A-Za-z0-9_.-]+)"?\s+.*?|DELETE\s+FROM\s+"?([A-Za-z0-9_.-]+)"?)\s+WHERE\s+(.+?)\s*;?\s*$/is.exec(statement);
  if (!m) return none;
  const table = m[2] ?? m[3];
  let next = statement.slice(0, statement.length - m[4].length).split('?').length - 1;
  const key: Record<string, unknown> = {};
  for (const clause of m[4].split(/\s+AND\s+/i)) {
    const c = /^"?([A-Za-z0-9_]+)"?\s*=\s*(\?|'((?:[^']|'')*)'|(-?[0-9]+(?:\.[0-9]+)?))$/.exec(clause.trim());
    if (!c) return none;
    key[c[1]] = c[2] === '?' ? parameters[next++] : c[3] !== undefined ? c[3].replace(/''/g, "'") : Number(c[4]);
  }
  const schema = await schemaOf(table);
  const wanted = [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])];
  if (wanted.length !== Object.keys(key).length || !wanted.every((k) => k in key)) return none;
  return [{ table, key }];
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
