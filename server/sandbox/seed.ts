/**
 * Seeds DynamoDB Local from the sandbox file: each table is created with its CreateTable input and
 * filled with its items, marshalled by the Document Client as runbooks' values are. A table that
 * already exists (a persistent --data folder) is left as it is, items included.
 */
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { RbError } from '../errors.js';
import { LOCAL_CREDENTIALS } from './local-auth.js';
import type { TableSeed } from './types.js';

// BatchWriteItem takes at most 25 requests.
const BATCH = 25;

export interface SeedResult {
  created: string[];
  existing: string[];
  items: number;
}

/** Creates the seed tables on DynamoDB Local and writes their items. */
export async function seedTables(dynamoLocalEndpoint: string, tables: readonly TableSeed[], region = 'us-east-1'): Promise<SeedResult> {
  const client = new DynamoDBClient({ endpoint: dynamoLocalEndpoint, region, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 });
  const doc = DynamoDBDocumentClient.from(client);
  const result: SeedResult = { created: [], existing: [], items: 0 };
  // Tables are independent: create and fill them concurrently (DynamoDB Local serves requests in parallel).
  const seedOne = async (table: TableSeed): Promise<void> => {
    const name = table.input.TableName;
    try {
      await client.send(new CreateTableCommand(table.input as never));
    } catch (err) {
      if (err instanceof ResourceInUseException) {
        result.existing.push(name);
        return;
      }
      throw new RbError('RB_ERR_SANDBOX_START', `Cannot create the seed table ${name}: ${(err as Error).message}`);
    }
    result.created.push(name);
    const batches: Promise<void>[] = [];
    for (let i = 0; i < table.items.length; i += BATCH) batches.push(writeBatch(doc, name, table.items, i));
    await Promise.all(batches);
    result.items += table.items.length;
  };
  try {
    await Promise.all(tables.map(seedOne));
  } finally {
    client.destroy();
  }
  result.created.sort();
  result.existing.sort();
  return result;
}

async function writeBatch(doc: DynamoDBDocumentClient, name: string, items: readonly Record<string, unknown>[], from: number): Promise<void> {
  let pending: Record<string, unknown[]> | undefined = {
    [name]: items.slice(from, from + BATCH).map((Item) => ({ PutRequest: { Item } })),
  };
  while (pending && Object.keys(pending).length) {
    try {
      const out: BatchWriteCommandOutput = await doc.send(new BatchWriteCommand({ RequestItems: pending as never }));
      pending = out.UnprocessedItems;
    } catch (err) {
      throw new RbError('RB_ERR_SANDBOX_START', `Cannot write the seed items of ${name} (items ${from + 1}-${Math.min(from + BATCH, items.length)}): ${(err as Error).message}`);
    }
  }
}
