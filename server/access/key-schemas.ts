/**
 * Key schemas for policy derivation. Like every DynamoDB call the server makes, DescribeTable runs
 * through its own session, whose policy allows only `dynamodb:DescribeTable` on that table; its
 * credentials are forgotten as soon as the answer is in. The session is named
 * `rb-<run>-keys@<table>` after the run that needed the schema (`@` never occurs in a step name),
 * so that run's revocation pattern covers it too.
 *
 * Schemas are cached per server (`createKeySchemaStore`), not per run: a run of five steps paid an
 * AssumeRole and a DescribeTable per table on top of its five steps' calls. A schema is shared only
 * by runs of the same role, so a role that may not describe a table never gets what another role
 * read, and it is read again after a while (`ttlMs`), so a table recreated with other keys is seen.
 * A failed lookup is remembered only briefly (`failureTtlMs`): many steps at once against a missing
 * table cost one lookup, and a table created since is found within seconds.
 */
import { describeKeySchema, type KeySchema } from '../dynamo/describe.js';
import { tableArn, type ArnScope } from '../aws/arn.js';
import type { Broker } from './broker.js';
import { forget, type Session } from '../aws/credentials.js';
import { describeTablePolicy } from './derive-policy.js';
import type { AwsTarget } from '../aws/sdk.js';
import { sessionName } from './session-name.js';

export interface KeySchemaStoreOptions {
  /** how long a schema is used before it is read again (default 10 minutes) */
  ttlMs?: number;
  /** how long a failed lookup is answered with its error before it is tried again (default 5 s) */
  failureTtlMs?: number;
  /** entries kept at most; the oldest go first (default 1,000) */
  max?: number;
  now?: () => number;
}

/** The server's schemas, by role and table; lookups in flight are shared. */
export interface KeySchemaStore {
  /** The schema under `key`, from the cache while it is fresh, else from `lookup` (one at a time per key). */
  get(key: string, lookup: () => Promise<KeySchema>): Promise<KeySchema>;
  /** Forgets every entry. */
  clear(): void;
  readonly size: number;
}

export function createKeySchemaStore(options: KeySchemaStoreOptions = {}): KeySchemaStore {
  const ttl = options.ttlMs ?? 600_000;
  const failureTtl = options.failureTtlMs ?? 5_000;
  const max = options.max ?? 1_000;
  const now = options.now ?? Date.now;
  /** `expires` is Infinity while the lookup is in flight */
  const entries = new Map<string, { schema: Promise<KeySchema>; expires: number }>();

  return {
    get(key, lookup) {
      const known = entries.get(key);
      if (known && now() < known.expires) return known.schema;
      entries.delete(key);
      const entry = { schema: lookup(), expires: Infinity };
      entries.set(key, entry);
      if (entries.size > max) entries.delete(entries.keys().next().value!);
      entry.schema.then(
        () => (entry.expires = now() + ttl),
        () => (entry.expires = now() + failureTtl),
      );
      return entry.schema;
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}

export interface KeySchemaCacheOptions extends AwsTarget {
  broker: Broker;
  roleArn: string;
  runId: string;
  account: string;
  partition?: string;
  /** STS minimum (900) is plenty for one call */
  durationSeconds?: number;
  sourceIdentity: string;
  tags: Record<string, string>;
  /** told of every session issued, so that the run can record it */
  onSession?: (session: Session) => void;
  /** the server's cache (default: one of this run's own) */
  store?: KeySchemaStore;
}

export interface KeySchemaCache {
  /** table → partition key name for the given tables; tables whose lookup failed are left out (their policy stays unpinned) */
  partitionKeys(tables: readonly string[]): Promise<Record<string, string>>;
  /** one table's key schema; throws the lookup's coded error */
  schema(table: string): Promise<KeySchema>;
}

/** A run's view of the key schemas: its lookups go through sessions named after it. */
export function createKeySchemaCache(options: KeySchemaCacheOptions): KeySchemaCache {
  const scope: ArnScope = { region: options.region, account: options.account, partition: options.partition };
  const store = options.store ?? createKeySchemaStore();

  async function lookup(table: string): Promise<KeySchema> {
    const session = await options.broker.assume({
      roleArn: options.roleArn,
      policy: describeTablePolicy(table, scope),
      sessionName: sessionName(options.runId, `keys@${table}`),
      durationSeconds: options.durationSeconds ?? 900,
      sourceIdentity: options.sourceIdentity,
      tags: options.tags,
    });
    options.onSession?.(session);
    try {
      return await describeKeySchema(table, session, options);
    } finally {
      forget(session);
    }
  }

  async function schema(table: string): Promise<KeySchema> {
    const key = `${options.roleArn}\n${options.endpoint ?? ''}\n${tableArn(table, scope)}`;
    return store.get(key, () => lookup(table));
  }

  return {
    schema,
    async partitionKeys(tables) {
      const out: Record<string, string> = {};
      await Promise.all(
        tables.map(async (table) => {
          try {
            out[table] = (await schema(table)).partitionKey;
          } catch {
            // The policy for this table is derived without LeadingKeys; `schema` says why, to whoever asks.
          }
        }),
      );
      return out;
    },
  };
}
