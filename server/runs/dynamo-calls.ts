/**
 * The DynamoDB calls that the run store (./dynamo-store.ts) and the audit chain (./dynamo-audit.ts)
 * make alike: a Query read to its last page, a split value's parts, the ids of the runs, a put's
 * random token, and calls run a few at a time. Failures are thrown as the SDK gives them: each
 * caller says, in its own error, what it was doing.
 */
import { randomBytes } from 'node:crypto';
import { QueryCommand, ScanCommand, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import type { Item } from './dynamo-values.js';
import { RUN_ID } from './store-ids.js';

/** Calls of one batch (puts, deletes, journal reads) run this many at a time. */
const CONCURRENCY = 8;

/** A mark of one put: a put refused because its key is taken, that finds its own mark there, is its own earlier attempt. */
export const writeToken = () => randomBytes(12).toString('hex');

/** Every item a Query returns, page after page, strongly consistent. */
export async function* queryAll(client: DynamoDBClient, input: QueryCommandInput): AsyncGenerator<Item> {
  let start: Item | undefined;
  do {
    const out = await client.send(new QueryCommand({ ...input, ConsistentRead: true, ExclusiveStartKey: start }));
    yield* out.Items ?? [];
    start = out.LastEvaluatedKey;
  } while (start);
}

/** The parts of a split value, in order, from `table` under `hash` = blob and `range` = 0, 1, … */
export async function readParts(client: DynamoDBClient, table: string, names: { hash: string; range: string }, blob: string, parts: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const item of queryAll(client, {
    TableName: table,
    KeyConditionExpression: '#h = :h',
    ExpressionAttributeNames: { '#h': names.hash },
    ExpressionAttributeValues: { ':h': { S: blob } },
  })) {
    if (Number(item[names.range]?.N) !== out.length || !item.data?.B) break;
    out.push(item.data.B);
  }
  return out.slice(0, parts);
}

/** The ids of the runs in the runs table `table` (a Scan of its keys, strongly consistent), sorted. */
export async function runIds(client: DynamoDBClient, table: string): Promise<string[]> {
  const ids: string[] = [];
  let start: Item | undefined;
  do {
    const out = await client.send(
      new ScanCommand({ TableName: table, ProjectionExpression: '#run', ExpressionAttributeNames: { '#run': 'run' }, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const item of out.Items ?? []) if (item.run?.S && RUN_ID.test(item.run.S)) ids.push(item.run.S);
    start = out.LastEvaluatedKey;
  } while (start);
  return ids.sort();
}

/** Runs `fn` over `list`, CONCURRENCY at a time; rejects with the first failure. */
export async function eachLimited<T>(list: readonly T[], fn: (value: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const i = next++;
      await fn(list[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, list.length) }, worker));
}
