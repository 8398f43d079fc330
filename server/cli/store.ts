/**
 * `runbooks store init [--store-prefix P] [--aws] [--sandbox-file PATH] [--json]`: creates the run
 * store's DynamoDB tables (docs/deploy.md) where they are missing and turns TTL on for the items
 * table; tables that exist with the right keys are kept, so it can run again at every deploy.
 *
 * With `--aws` it works in the account and region of the standard chain (AWS_ENDPOINT_URL_DYNAMODB
 * included), as the caller's identity, which needs the STORE_INIT_ACTIONS on table/<prefix>*.
 * Without, it starts the local sandbox, which creates the tables as it starts, opens the store
 * through the gateway as the base principal (showing that the server may use them), and stops.
 *
 * Exit 0 when the tables are there; 1 when DynamoDB refused or a table has other keys; 2 for bad
 * input (a prefix no table name can start with, no region, a bad sandbox file).
 */
import { isRbError, RbError } from '../errors.js';
import { DEFAULT_STORE_PREFIX, storeTables, TTL_ATTRIBUTE, type CreatedTables, type StoreTables } from '../runs/dynamo-tables.js';
import { reportBadInput } from './target.js';

export interface StoreInitOptions {
  storePrefix?: string;
  aws?: boolean;
  sandboxFile?: string;
  json?: boolean;
}

const BAD_INPUT = new Set(['RB_ERR_CLI_USAGE', 'RB_ERR_SANDBOX_FILE_INVALID']);

export async function storeInitCommand(opts: StoreInitOptions): Promise<number> {
  const prefix = opts.storePrefix ?? DEFAULT_STORE_PREFIX;
  let tables: StoreTables;
  try {
    tables = storeTables(prefix);
  } catch (err) {
    return reportBadInput(err);
  }
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { createStoreTables } = await import('../runs/dynamo-tables.js');
  let result: CreatedTables;
  let region: string;
  let where: string;
  try {
    if (opts.aws) {
      const fromEnv = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
      if (!fromEnv) return reportBadInput(new RbError('RB_ERR_CLI_USAGE', 'With --aws, set the region: AWS_REGION=eu-west-1 (or AWS_DEFAULT_REGION).'));
      region = fromEnv;
      where = `AWS (${region})`;
      const client = new DynamoDBClient({ region });
      try {
        result = await createStoreTables({ client, prefix });
      } finally {
        client.destroy();
      }
    } else {
      const sandboxFile = opts.sandboxFile ?? 'runbooks/sandbox.yaml';
      const { startSandbox } = await import('./local-sandbox.js');
      const { openDynamoStore } = await import('../runs/dynamo-store.js');
      const sandbox = await startSandbox({ sandboxFile, storePrefix: prefix });
      region = sandbox.region;
      where = `the local sandbox of ${sandboxFile} (in memory: \`runbooks serve\` and \`runbooks sandbox\` create these tables at every start)`;
      const client = new DynamoDBClient({ endpoint: sandbox.endpoint, region, credentials: sandbox.baseCredentials, maxAttempts: 2 });
      try {
        // As the server would: the base principal opens the store (DescribeTable) and lists it (Scan).
        const store = await openDynamoStore({ client, prefix });
        await store.list();
      } finally {
        client.destroy();
        await sandbox.stop();
      }
      result = { created: Object.values(tables).sort(), existing: [] };
    }
  } catch (err) {
    if (isRbError(err) && BAD_INPUT.has(err.code)) return reportBadInput(err);
    process.stderr.write(`runbooks: ${isRbError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }

  const status = (name: string) => (result.created.includes(name) ? 'created' : 'exists');
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({
        prefix,
        region,
        tables: (Object.keys(tables) as Array<keyof typeof tables>).map((kind) => ({ kind, name: tables[kind], status: status(tables[kind]) })),
        ttl: { table: tables.items, attribute: TTL_ATTRIBUTE },
      })}\n`,
    );
    return 0;
  }
  const width = Math.max(...Object.values(tables).map((t) => t.length));
  process.stdout.write(
    [
      `run store tables (prefix ${prefix}) in ${where}:`,
      ...Object.values(tables).map((t) => `  ${t.padEnd(width)}  ${status(t)}${t === tables.items ? `, TTL on ${TTL_ATTRIBUTE}` : ''}`),
      '',
    ].join('\n'),
  );
  return 0;
}
