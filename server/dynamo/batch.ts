/**
 * BatchGetItem and BatchWriteItem to completion: DynamoDB may leave part of a batch unprocessed
 * (throttling, the 16 MB response cap), and AWS advises resending that part with exponential
 * backoff. What is still left after the last attempt is reported as `unprocessed`.
 */
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { addCapacity } from './capacity.js';
import { plain, plainItem } from './values.js';

const RETRIES = 5;
const BASE_DELAY_MS = 50;

export interface BatchOutcome {
  items: Record<string, unknown>[];
  itemTables: string[];
  count: number;
  unprocessed: number;
  consumedCapacity: Record<string, unknown>[];
  pages: number;
}

type Entry = { Keys: Record<string, unknown>[] } & Record<string, unknown>;

/**
 * Runs a BatchGetItem. Items come back in request order (tables as listed, keys as listed, keys
 * not found left out), not in DynamoDB's arbitrary order, each with its table in `itemTables`;
 * items whose projection leaves out the key follow those of their table in DynamoDB's order.
 */
export async function batchGet(doc: DynamoDBDocumentClient, input: Record<string, unknown>): Promise<BatchOutcome> {
  const requested = input.RequestItems as Record<string, Entry>;
  const found = new Map<string, Record<string, unknown>[]>();
  let pending: Record<string, Entry> | undefined = requested;
  let capacity: Record<string, unknown>[] = [];
  let pages = 0;
  for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
    if (attempt > 0) {
      if (attempt > RETRIES) break;
      await backoff(attempt);
    }
    const out = await doc.send(new BatchGetCommand({ ...input, RequestItems: pending }));
    pages++;
    capacity = addCapacity(capacity, out.ConsumedCapacity);
    for (const [table, items] of Object.entries(out.Responses ?? {})) found.set(table, [...(found.get(table) ?? []), ...items]);
    pending = out.UnprocessedKeys as Record<string, Entry> | undefined;
  }
  const items: Record<string, unknown>[] = [];
  const itemTables: string[] = [];
  for (const [table, entry] of Object.entries(requested)) {
    const pool = (found.get(table) ?? []).map((item) => plainItem(item));
    const placed = new Set<Record<string, unknown>>();
    for (const key of entry.Keys) {
      const want = Object.entries(key).map(([k, v]) => [k, JSON.stringify(plain(v))] as const);
      const item = pool.find((i) => !placed.has(i) && want.every(([k, v]) => JSON.stringify(i[k]) === v));
      if (item) placed.add(item);
    }
    // A ProjectionExpression may leave the key out of an item: such items follow, as DynamoDB sent them.
    for (const item of [...placed, ...pool.filter((i) => !placed.has(i))]) {
      items.push(item);
      itemTables.push(table);
    }
  }
  const unprocessed = Object.values(pending ?? {}).reduce((n, e) => n + e.Keys.length, 0);
  return { items, itemTables, count: items.length, unprocessed, consumedCapacity: capacity, pages };
}

/** Runs a BatchWriteItem; `count` is the number of put and delete requests DynamoDB processed. */
export async function batchWrite(doc: DynamoDBDocumentClient, input: Record<string, unknown>): Promise<BatchOutcome> {
  let pending = input.RequestItems as Record<string, unknown[]> | undefined;
  const total = size(pending);
  let capacity: Record<string, unknown>[] = [];
  let pages = 0;
  for (let attempt = 0; pending && size(pending) > 0; attempt++) {
    if (attempt > 0) {
      if (attempt > RETRIES) break;
      await backoff(attempt);
    }
    const out = await doc.send(new BatchWriteCommand({ ...input, RequestItems: pending } as never));
    pages++;
    capacity = addCapacity(capacity, out.ConsumedCapacity);
    pending = out.UnprocessedItems;
  }
  const unprocessed = size(pending);
  return { items: [], itemTables: [], count: total - unprocessed, unprocessed, consumedCapacity: capacity, pages };
}

function size(requestItems: Record<string, unknown[]> | undefined): number {
  return Object.values(requestItems ?? {}).reduce((n, list) => n + list.length, 0);
}

function backoff(attempt: number): Promise<void> {
  const ms = BASE_DELAY_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
