/**
 * Runs a rendered request with one session's credentials and returns a normalised result.
 *
 * Results, per operation:
 * - GetItem: the item, or no item (count 0).
 * - Query, Scan, PartiQL SELECT: the items of as many pages as it takes to reach `maxItems` or the
 *   end; `count` and `scannedCount` are summed over those pages. Each page asks for no more items
 *   than are still wanted (`Limit`), so the cursor resumes exactly after the last item returned.
 *   A request's own `Limit` bounds the items DynamoDB evaluates in one execution (and in each
 *   continuation), as the API defines it; `Select: COUNT` pages to the end (or that Limit).
 * - PutItem, UpdateItem, DeleteItem: no items, `count` 1, `attributes` = ReturnValues if asked.
 * - BatchGetItem, TransactGetItems: the items found, in request order, with `itemTables` naming the
 *   table of each. BatchWriteItem: `count` of requests processed, `unprocessed` of those left.
 * - TransactWriteItems: `count` of parts that write (ConditionCheck parts do not).
 * - PartiQL INSERT, UPDATE, DELETE: `count` 1, items = what a RETURNING clause returns.
 * - DescribeTable: the table description as the one item.
 * Values are plain JSON (./values.ts); a typed request's values that plain JSON cannot hold are
 * sent as their type (`sendableInput`). AWS errors become coded step errors (./errors.ts).
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  ExecuteStatementCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { performance } from 'node:perf_hooks';
import { credentialsOf, secretsOf, type Session } from '../aws/credentials.js';
import type { AwsTarget } from '../aws/sdk.js';
import { RbError } from '../errors.js';
import type { RenderedRequest } from '../runbook/types.js';
import { batchGet, batchWrite } from './batch.js';
import { addCapacity } from './capacity.js';
import { clientsFor } from './client.js';
import { dynamoError } from './errors.js';
import { loadKey, plain, plainItem, sendableInput, storeKey, type StoredKey } from './values.js';

/** Where a paged result continues: kept on the server with the execution, JSON-safe. */
export interface Cursor {
  /** Query and Scan: the LastEvaluatedKey to resume from */
  exclusiveStartKey?: StoredKey;
  /** PartiQL: the NextToken to resume from */
  nextToken?: string;
  /** items delivered so far by the execution and its continuations */
  delivered: number;
}

export interface ExecutionResult {
  items: Record<string, unknown>[];
  /** BatchGetItem and TransactGetItems: the table of each item, parallel to `items` */
  itemTables?: string[];
  count: number;
  scannedCount?: number;
  /** ConsumedCapacity when the request asked for it, one entry per table, summed over pages */
  consumedCapacity?: unknown;
  /** true when DynamoDB has more pages after these */
  hasMore: boolean;
  cursor?: Cursor;
  durationMs: number;
  /** ReturnValues of a single-item write */
  attributes?: Record<string, unknown>;
  /** DynamoDB calls made */
  pages: number;
  /** with a sink: how many items the call returned in all (`items` holds the first few) */
  returned?: number;
  /** batch requests DynamoDB left unprocessed after every retry */
  unprocessed?: number;
}

export interface ExecuteOptions extends AwsTarget {
  /** upper bound on the items this call returns over all its pages */
  maxItems: number;
  /**
   * Query, Scan and PartiQL SELECT: every page's items go to `write` as they arrive (at their index
   * among this call's items), and the result keeps only the first `keep` of them, so that memory
   * holds a page, not the result. `returned` then says how many there were.
   */
  sink?: { keep: number; write(items: Record<string, unknown>[], offset: number): Promise<void> };
  /** continue a previous result (its `cursor`) */
  cursor?: Cursor;
}

/** Runs a request with the session's credentials only; see the module comment for the result of each operation. */
export async function executeRequest(request: RenderedRequest, session: Session, options: ExecuteOptions): Promise<ExecutionResult> {
  if (!Number.isInteger(options.maxItems) || options.maxItems < 1) {
    throw new RbError('RB_ERR_INTERNAL', `maxItems must be a positive integer, not ${options.maxItems}`);
  }
  credentialsOf(session); // a forgotten session fails here, before any client exists
  const started = performance.now();
  const { client, doc } = clientsFor(session, options);
  const done = (r: Omit<ExecutionResult, 'durationMs'>): ExecutionResult => ({ ...r, durationMs: Math.round(performance.now() - started) });
  try {
    if (request.operation === 'ExecuteStatement') {
      if (request.statementKind === 'select') return done(await paged(request, request.input, doc, options));
      const out = await doc.send(new ExecuteStatementCommand({ ...request.input }));
      const items = (out.Items ?? []).map(plainItem);
      return done({ items, count: 1, hasMore: false, pages: 1, ...capacityOf(addCapacity([], out.ConsumedCapacity)) });
    }
    const input = sendableInput(request);
    switch (request.operation) {
      case 'GetItem': {
        const out = await doc.send(new GetCommand(input as never));
        const items = out.Item ? [plainItem(out.Item)] : [];
        return done({ items, count: items.length, hasMore: false, pages: 1, ...capacityOf(addCapacity([], out.ConsumedCapacity)) });
      }
      case 'Query':
      case 'Scan':
        return done(await paged(request, input, doc, options));
      case 'PutItem':
      case 'UpdateItem':
      case 'DeleteItem': {
        const out: { Attributes?: Record<string, unknown>; ConsumedCapacity?: unknown } =
          request.operation === 'PutItem'
            ? await doc.send(new PutCommand(input as never))
            : request.operation === 'UpdateItem'
              ? await doc.send(new UpdateCommand(input as never))
              : await doc.send(new DeleteCommand(input as never));
        return done({
          items: [],
          count: 1,
          hasMore: false,
          pages: 1,
          ...(out.Attributes ? { attributes: plainItem(out.Attributes) } : {}),
          ...capacityOf(addCapacity([], out.ConsumedCapacity)),
        });
      }
      case 'BatchGetItem':
      case 'BatchWriteItem': {
        const b = request.operation === 'BatchGetItem' ? await batchGet(doc, input) : await batchWrite(doc, input);
        return done({
          items: b.items,
          ...(request.operation === 'BatchGetItem' ? { itemTables: b.itemTables } : {}),
          count: b.count,
          hasMore: false,
          pages: b.pages,
          ...(b.unprocessed > 0 ? { unprocessed: b.unprocessed } : {}),
          ...capacityOf(b.consumedCapacity),
        });
      }
      case 'TransactGetItems': {
        const parts = input.TransactItems as Array<{ Get: { TableName: string } }>;
        const out = await doc.send(new TransactGetCommand(input as never));
        const items: Record<string, unknown>[] = [];
        const itemTables: string[] = [];
        (out.Responses ?? []).forEach((r, i) => {
          if (!r.Item) return;
          items.push(plainItem(r.Item));
          itemTables.push(parts[i].Get.TableName);
        });
        return done({ items, itemTables, count: items.length, hasMore: false, pages: 1, ...capacityOf(addCapacity([], out.ConsumedCapacity)) });
      }
      case 'TransactWriteItems': {
        const parts = input.TransactItems as Array<Record<string, unknown>>;
        const out = await doc.send(new TransactWriteCommand(input as never));
        const writes = parts.filter((p) => !('ConditionCheck' in p)).length;
        return done({ items: [], count: writes, hasMore: false, pages: 1, ...capacityOf(addCapacity([], out.ConsumedCapacity)) });
      }
      case 'DescribeTable': {
        const out = await client.send(new DescribeTableCommand(input as never));
        return done({ items: [plainItem(out.Table ?? {})], count: 1, hasMore: false, pages: 1 });
      }
    }
  } catch (err) {
    throw dynamoError(err, secretsOf(session));
  }
}

/** Query, Scan and PartiQL SELECT: pages until `maxItems`, the request's Limit, or the end. */
async function paged(
  request: RenderedRequest,
  input: Record<string, unknown>,
  doc: ReturnType<typeof clientsFor>['doc'],
  options: ExecuteOptions,
): Promise<Omit<ExecutionResult, 'durationMs'>> {
  const statement = request.operation === 'ExecuteStatement';
  const userLimit = typeof input.Limit === 'number' ? input.Limit : undefined;
  const countOnly = input.Select === 'COUNT';
  let startKey: Record<string, unknown> | undefined = options.cursor?.exclusiveStartKey
    ? loadKey(options.cursor.exclusiveStartKey)
    : (input.ExclusiveStartKey as Record<string, unknown> | undefined);
  let nextToken = options.cursor?.nextToken ?? (input.NextToken as string | undefined);
  const items: Record<string, unknown>[] = [];
  const sink = options.sink;
  let returned = 0;
  let count = 0;
  let scanned = 0;
  let pages = 0;
  let capacity: Record<string, unknown>[] = [];
  for (;;) {
    let limit = userLimit === undefined ? undefined : userLimit - scanned;
    if (!countOnly) limit = Math.min(limit ?? Infinity, options.maxItems - returned);
    if (limit !== undefined && limit <= 0) break;
    const page: Record<string, unknown> = { ...input, ...(limit !== undefined ? { Limit: limit } : {}) };
    let out: {
      Items?: Record<string, unknown>[];
      Count?: number;
      ScannedCount?: number;
      ConsumedCapacity?: unknown;
      LastEvaluatedKey?: Record<string, unknown>;
      NextToken?: string;
    };
    if (statement) {
      out = await doc.send(new ExecuteStatementCommand({ ...page, ...(nextToken ? { NextToken: nextToken } : {}) } as never));
      nextToken = out.NextToken;
    } else {
      const Command = request.operation === 'Query' ? QueryCommand : ScanCommand;
      out = await doc.send(new Command({ ...page, ...(startKey ? { ExclusiveStartKey: startKey } : {}) } as never));
      startKey = out.LastEvaluatedKey;
    }
    pages++;
    const got = (out.Items ?? []).map(plainItem);
    if (sink) {
      if (got.length > 0) await sink.write(got, returned);
      if (items.length < sink.keep) items.push(...got.slice(0, sink.keep - items.length));
    } else {
      items.push(...got);
    }
    returned += got.length;
    count += out.Count ?? got.length;
    // PartiQL reports no ScannedCount; evaluated items are then counted as returned ones.
    scanned += out.ScannedCount ?? got.length;
    capacity = addCapacity(capacity, out.ConsumedCapacity);
    const more = statement ? nextToken !== undefined : startKey !== undefined;
    if (!more || (!countOnly && returned >= options.maxItems) || (userLimit !== undefined && scanned >= userLimit)) break;
  }
  const hasMore = statement ? nextToken !== undefined : startKey !== undefined;
  const delivered = (options.cursor?.delivered ?? 0) + returned;
  const cursor: Cursor | undefined = !hasMore ? undefined : statement ? { nextToken, delivered } : { exclusiveStartKey: storeKey(startKey!), delivered };
  return {
    items,
    count,
    ...(statement ? {} : { scannedCount: scanned }),
    hasMore,
    ...(cursor ? { cursor } : {}),
    pages,
    ...(sink ? { returned } : {}),
    ...capacityOf(capacity),
  };
}

function capacityOf(capacity: Record<string, unknown>[]): { consumedCapacity?: unknown } {
  return capacity.length ? { consumedCapacity: plain(capacity) } : {};
}
