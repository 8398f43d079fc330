/** Key schemas from DescribeTable, for pinning `dynamodb:LeadingKeys` in session policies. */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { Session } from '../aws/credentials.js';
import { secretsOf } from '../aws/credentials.js';
import type { AwsTarget } from '../aws/sdk.js';
import { clientsFor } from './client.js';
import { dynamoError } from './errors.js';

export interface KeySchema {
  partitionKey: string;
  sortKey?: string;
  /** global and local secondary indexes by name */
  indexes: Record<string, { partitionKey: string; sortKey?: string }>;
}

type KeyElements = Array<{ AttributeName?: string; KeyType?: string }> | undefined;

/** Reads a table's key schema through a session (one allowed `dynamodb:DescribeTable` on it). */
export async function describeKeySchema(table: string, session: Session, opts: AwsTarget): Promise<KeySchema> {
  let out;
  try {
    out = await clientsFor(session, opts).client.send(new DescribeTableCommand({ TableName: table }));
  } catch (err) {
    throw dynamoError(err, secretsOf(session));
  }
  const t = out.Table;
  const schema: KeySchema = { ...keysOf(t?.KeySchema), indexes: {} };
  for (const index of [...(t?.GlobalSecondaryIndexes ?? []), ...(t?.LocalSecondaryIndexes ?? [])]) {
    if (index.IndexName) schema.indexes[index.IndexName] = keysOf(index.KeySchema);
  }
  return schema;
}

function keysOf(elements: KeyElements): { partitionKey: string; sortKey?: string } {
  const hash = elements?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '';
  const range = elements?.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return range === undefined ? { partitionKey: hash } : { partitionKey: hash, sortKey: range };
}
