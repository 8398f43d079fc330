/**
 * Partition key names of tables and their indexes, read with DescribeTable from DynamoDB Local and
 * cached: dynamodb:LeadingKeys needs to know which attribute of a request is the partition key.
 */
import { request, type Agent } from 'node:http';
import { LOCAL_AUTHORIZATION } from '../local-auth.js';

export interface KeySchema {
  /** the table's partition key attribute */
  hash: string;
  /** partition key attribute of each index (a local index shares the table's) */
  indexes: ReadonlyMap<string, string>;
}

interface Described {
  Table?: {
    KeySchema?: Array<{ AttributeName: string; KeyType: string }>;
    GlobalSecondaryIndexes?: Array<{ IndexName: string; KeySchema: Array<{ AttributeName: string; KeyType: string }> }>;
    LocalSecondaryIndexes?: Array<{ IndexName: string; KeySchema: Array<{ AttributeName: string; KeyType: string }> }>;
  };
}

export class KeySchemas {
  private readonly cache = new Map<string, Promise<KeySchema | undefined>>();

  constructor(
    private readonly local: URL,
    private readonly agent: Agent,
  ) {}

  /** The key schema of a table, or undefined when it does not exist (nothing is cached then). */
  get(table: string): Promise<KeySchema | undefined> {
    let found = this.cache.get(table);
    if (!found) {
      found = this.describe(table);
      this.cache.set(table, found);
      found.then(
        (schema) => schema === undefined && this.cache.delete(table),
        () => this.cache.delete(table),
      );
    }
    return found;
  }

  /** Forgets a table (after CreateTable, UpdateTable or DeleteTable went through the gateway). */
  forget(table: string): void {
    this.cache.delete(table);
  }

  private describe(table: string): Promise<KeySchema | undefined> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.local.hostname,
          port: this.local.port,
          method: 'POST',
          path: '/',
          agent: this.agent,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': 'DynamoDB_20120810.DescribeTable',
            authorization: LOCAL_AUTHORIZATION,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode !== 200) return resolve(undefined);
            try {
              resolve(toSchema(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Described));
            } catch (err) {
              reject(err instanceof Error ? err : new Error('the DescribeTable answer is not JSON'));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ TableName: table }));
    });
  }
}

function toSchema(d: Described): KeySchema | undefined {
  const hashOf = (keys: Array<{ AttributeName: string; KeyType: string }> | undefined): string | undefined => keys?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const hash = hashOf(d.Table?.KeySchema);
  if (!hash) return undefined;
  const indexes = new Map<string, string>();
  for (const i of [...(d.Table?.GlobalSecondaryIndexes ?? []), ...(d.Table?.LocalSecondaryIndexes ?? [])]) {
    const h = hashOf(i.KeySchema);
    if (h) indexes.set(i.IndexName, h);
  }
  return { hash, indexes };
}
