/**
 * Key schemas for policy derivation, looked up once per table per run. Like every DynamoDB call the
 * server makes, DescribeTable runs through its own session, whose policy allows only
 * `dynamodb:DescribeTable` on that table; its credentials are forgotten as soon as the answer is in.
 * The session is named `rb-<run>-keys@<table>` (`@` never occurs in a step name), so the run's
 * revocation pattern covers it too.
 */
import { describeKeySchema, type KeySchema } from '../dynamo/describe.js';
import type { RbError } from '../errors.js';
import type { Broker } from './broker.js';
import { forget, type Session } from './credentials.js';
import { describeTablePolicy } from './derive-policy.js';
import type { ArnScope } from './arn.js';
import type { AwsTarget } from './sdk.js';
import { sessionName } from './session-name.js';

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
}

export interface KeySchemaCache {
  /** table → partition key name for the given tables; tables whose lookup failed are left out (their policy stays unpinned) */
  partitionKeys(tables: readonly string[]): Promise<Record<string, string>>;
  /** one table's key schema; throws the lookup's coded error */
  schema(table: string): Promise<KeySchema>;
  /** the last lookup failure of each table that has one */
  failures: Map<string, RbError>;
}

/** Creates the per-run cache of key schemas. */
export function createKeySchemaCache(options: KeySchemaCacheOptions): KeySchemaCache {
  const scope: ArnScope = { region: options.region, account: options.account, partition: options.partition };
  const schemas = new Map<string, Promise<KeySchema>>();
  const failures = new Map<string, RbError>();

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

  function schema(table: string): Promise<KeySchema> {
    let pending = schemas.get(table);
    if (!pending) {
      pending = lookup(table);
      schemas.set(table, pending);
      // A failure is not cached: the next step retries (the table may have been created since).
      pending.then(
        () => failures.delete(table),
        (err: RbError) => {
          schemas.delete(table);
          failures.set(table, err);
        },
      );
    }
    return pending;
  }

  return {
    schema,
    failures,
    async partitionKeys(tables) {
      const out: Record<string, string> = {};
      await Promise.all(
        tables.map(async (table) => {
          try {
            out[table] = (await schema(table)).partitionKey;
          } catch {
            // recorded in `failures`; the policy for this table is derived without LeadingKeys
          }
        }),
      );
      return out;
    },
  };
}
