/**
 * The run store's DynamoDB tables (docs/deploy.md): their names under a prefix, their key schemas,
 * the IAM actions the store uses on them, and `createStoreTables`, which `runbooks store init` and
 * the sandbox call. Creating is idempotent: a table that exists with the right keys is kept. The
 * audit table (./dynamo-audit.ts) is one of them, so that one init and one policy cover it.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { isRbError, RbError } from '../errors.js';
import { awsCode } from './dynamo-store-errors.js';

export const DEFAULT_STORE_PREFIX = 'runbooks-';
/** The items table's TTL attribute: epoch seconds after which DynamoDB may delete the chunk. */
export const TTL_ATTRIBUTE = 'expiresAt';

/**
 * The change feed: a sparse index on the runs and journal tables, keyed by the UTC day of a change
 * (`feed`) and `<time>#<run>#<seq>` (`feedAt`), keys only. A replica learns what the others changed
 * with one Query per table and poll, however many runs are active (../runs/follow.ts).
 */
export const FEED_INDEX = 'feed';
export const FEED_KEYS = [
  { name: 'feed', type: 'S' },
  { name: 'feedAt', type: 'S' },
] as const;
/** The tables that carry the feed index. */
export const FEED_TABLES: ReadonlyArray<keyof StoreTables> = ['runs', 'journal'];

/** What the store calls, and nothing else: the server's identity needs exactly these on table/<prefix>*. */
export const STORE_ACTIONS = ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:Scan'] as const;
/** What `runbooks store init` calls besides DescribeTable: an administrator's rights, not the server's. */
export const STORE_INIT_ACTIONS = ['dynamodb:CreateTable', 'dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive', 'dynamodb:UpdateTimeToLive', 'dynamodb:UpdateTable'] as const;

// Table names are 3-255 characters of A-Z a-z 0-9 _ . -; the longest suffix is `journal`.
const PREFIX = /^[A-Za-z0-9_.-]{1,248}$/;

export type StoreTables = {
  /** `<prefix>runs`: one header item per run, key `run` (S) */
  runs: string;
  /** `<prefix>journal`: one item per record, keys `run` (S) and `seq` (N) */
  journal: string;
  /** `<prefix>items`: result item chunks and parts of large values, keys `id` (S) and `chunk` (N) */
  items: string;
  /** `<prefix>audit`: the audit chain, keys `chain` (S, "audit": one chain per store) and `seq` (N); no TTL, records are evidence */
  audit: string;
};

/** The table names under `prefix`; RB_ERR_CONFIG_INVALID for a prefix no table name can start with. */
export function storeTables(prefix: string): StoreTables {
  if (!PREFIX.test(prefix)) {
    throw new RbError(
      'RB_ERR_CONFIG_INVALID',
      `The store prefix ${JSON.stringify(prefix)} cannot start a DynamoDB table name: use 1-248 characters of A-Z a-z 0-9 _ . - (default ${DEFAULT_STORE_PREFIX}).`,
    );
  }
  return { runs: `${prefix}runs`, journal: `${prefix}journal`, items: `${prefix}items`, audit: `${prefix}audit` };
}

/** The resource the store's rights are granted on: every table whose name starts with the prefix. */
export function storeTablesArn(region: string, account: string, prefix: string): string {
  storeTables(prefix);
  return `arn:aws:dynamodb:${region}:${account}:table/${prefix}*`;
}

type Keys = Array<{ name: string; type: 'S' | 'N' }>;

/** Each table's key attributes: the partition key, then the sort key if any. */
export const TABLE_KEYS: Record<keyof StoreTables, Keys> = {
  runs: [{ name: 'run', type: 'S' }],
  journal: [
    { name: 'run', type: 'S' },
    { name: 'seq', type: 'N' },
  ],
  items: [
    { name: 'id', type: 'S' },
    { name: 'chunk', type: 'N' },
  ],
  audit: [
    { name: 'chain', type: 'S' },
    { name: 'seq', type: 'N' },
  ],
};

export interface CreatedTables {
  created: string[];
  existing: string[];
}

/**
 * Creates the four tables (on-demand capacity) where they are missing, waits until they are active
 * and turns TTL on for the items table only (the audit table's records are evidence: they never
 * expire). RB_ERR_CONFIG_INVALID if a table exists with other keys; RB_ERR_STORE_WRITE (with the
 * AWS code) if DynamoDB refuses.
 */
export async function createStoreTables(options: { client: DynamoDBClient; prefix: string; maxWaitSeconds?: number }): Promise<CreatedTables> {
  const { client, prefix } = options;
  const names = storeTables(prefix);
  const result: CreatedTables = { created: [], existing: [] };
  const step = async <T>(what: string, table: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (isRbError(err) || err instanceof ResourceInUseException) throw err;
      const code = awsCode(err);
      const hint =
        code === 'AccessDeniedException'
          ? `The identity running it needs ${STORE_INIT_ACTIONS.join(', ')} on table/${prefix}* (docs/deploy.md).`
          : 'See the AWS error code, then run it again: tables created already are kept.';
      throw new RbError('RB_ERR_STORE_WRITE', `Creating the run store failed: ${what} of ${table} was refused (${code}). ${hint}`, { awsCode: code });
    }
  };

  await Promise.all(
    (Object.keys(names) as Array<keyof StoreTables>).map(async (kind) => {
      const table = names[kind];
      const keys = TABLE_KEYS[kind];
      try {
        await step('CreateTable', table, () =>
          client.send(
            new CreateTableCommand({
              TableName: table,
              KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
              AttributeDefinitions: [...keys, ...(FEED_TABLES.includes(kind) ? FEED_KEYS : [])].map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
              BillingMode: 'PAY_PER_REQUEST',
              ...(FEED_TABLES.includes(kind) ? { GlobalSecondaryIndexes: [feedIndex()] } : {}),
            }),
          ),
        );
        result.created.push(table);
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) throw err;
        result.existing.push(table);
      }
      // A new table is CREATING for a few seconds on AWS; TTL can be set only once it is active.
      const deadline = Date.now() + (options.maxWaitSeconds ?? 300) * 1000;
      for (;;) {
        const described = await step('DescribeTable', table, () => client.send(new DescribeTableCommand({ TableName: table })));
        checkKeys(table, kind, described.Table?.KeySchema ?? [], described.Table?.AttributeDefinitions ?? []);
        const index = described.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === FEED_INDEX);
        if (FEED_TABLES.includes(kind) && !index && described.Table?.TableStatus === 'ACTIVE') {
          // A store made before replicas followed each other through the feed gets its index now.
          await step('UpdateTable', table, () =>
            client.send(
              new UpdateTableCommand({
                TableName: table,
                AttributeDefinitions: FEED_KEYS.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
                GlobalSecondaryIndexUpdates: [{ Create: feedIndex() }],
              }),
            ),
          );
          // Built in the background (minutes on a large table): replicas follow the feed once it is active.
          break;
        }
        if (described.Table?.TableStatus === 'ACTIVE') break;
        if (Date.now() > deadline)
          throw new RbError('RB_ERR_STORE_WRITE', `Table ${table} is still ${described.Table?.TableStatus ?? 'not active'}: run runbooks store init again in a minute.`);
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
      if (kind === 'items') await enableTtl(table, step);
    }),
  );
  result.created.sort();
  result.existing.sort();
  return result;

  async function enableTtl(table: string, step: <T>(what: string, table: string, call: () => Promise<T>) => Promise<T>): Promise<void> {
    const ttl = await step('DescribeTimeToLive', table, () => client.send(new DescribeTimeToLiveCommand({ TableName: table })));
    const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
    const attribute = ttl.TimeToLiveDescription?.AttributeName;
    if ((status === 'ENABLED' || status === 'ENABLING') && attribute === TTL_ATTRIBUTE) return;
    if (status === 'ENABLED' || status === 'ENABLING') {
      throw new RbError(
        'RB_ERR_CONFIG_INVALID',
        `Table ${table} has TTL on ${attribute}, not on ${TTL_ATTRIBUTE}: turn it off (or use another --store-prefix), then run runbooks store init again.`,
      );
    }
    await step('UpdateTimeToLive', table, () =>
      client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE } })),
    );
  }
}

function feedIndex() {
  return {
    IndexName: FEED_INDEX,
    KeySchema: [
      { AttributeName: FEED_KEYS[0].name, KeyType: 'HASH' as const },
      { AttributeName: FEED_KEYS[1].name, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'KEYS_ONLY' as const },
  };
}

/** RB_ERR_CONFIG_INVALID unless a table's keys are those the store writes. */
export function checkKeys(table: string, kind: keyof StoreTables, schema: KeySchemaElement[], definitions: Array<{ AttributeName?: string; AttributeType?: string }>): void {
  const expected = TABLE_KEYS[kind];
  const types = new Map(definitions.map((d) => [d.AttributeName, d.AttributeType]));
  const actual = schema.map((k) => `${k.AttributeName} ${types.get(k.AttributeName) ?? '?'}`);
  const wanted = expected.map((k) => `${k.name} ${k.type}`);
  if (actual.join(', ') !== wanted.join(', ')) {
    throw new RbError(
      'RB_ERR_CONFIG_INVALID',
      `Table ${table} has the keys (${actual.join(', ')}), not the run store's (${wanted.join(', ')}): choose another --store-prefix, or remove that table.`,
    );
  }
}
