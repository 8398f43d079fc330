/**
 * The local sandbox: DynamoDB Local behind a gateway that enforces STS sessions and IAM policies,
 * with the roles and seed tables of a sandbox file. It stands in for AWS and knows nothing of the
 * tool: the run store's tables, which `npm start`, the tests and `runbooks sandbox` need in it, are
 * created by the caller's `createTables` (server/cli/local-sandbox.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RbError } from '../errors.js';
import { checkSandboxConfig } from './config.js';
import { startDynamoLocal, type DynamoLocal } from './dynamo-local.js';
import { STORE_POLICY_PREFIX, storeTablesArn } from './gateway/identities.js';
import { startGateway } from './gateway/server.js';
import { loadSandboxFile } from './load-file.js';
import { LOCAL_CREDENTIALS } from './local-auth.js';
import { seedTables } from './seed.js';
import { superviseDynamoLocal, type SandboxHealth, type SupervisionEvent } from './supervise.js';
import type { BaseCredentials, SandboxConfig, SandboxRole } from './types.js';

export { startGateway, type Gateway, type GatewayOptions } from './gateway/server.js';
export { loadSandboxFile, parseSandboxFile, type SandboxFileProblem } from './load-file.js';
export { findJava } from './java.js';
export { startDynamoLocal, type DynamoLocal } from './dynamo-local.js';
export { LOCAL_CREDENTIALS } from './local-auth.js';
export { describeSupervisionEvent, type SandboxHealth, type SupervisionEvent } from './supervise.js';
export type { BaseCredentials, PolicyDocument, RoleConfig, SandboxConfig, SandboxRole, TableSeed } from './types.js';

export interface SandboxOptions {
  /** sandbox file to read (ignored when `config` is given); default runbooks/sandbox.yaml */
  sandboxFile?: string;
  config?: SandboxConfig;
  /** gateway port on 127.0.0.1; 0 or absent picks a free one */
  port?: number;
  /** keep DynamoDB Local's data in this folder instead of memory */
  dataDir?: string;
  /** epoch milliseconds, for the gateway (session expiry, signature times) */
  clock?: () => number;
  /** the run store's table prefix: the base principal may use `table/<prefix>*`; default runbooks- */
  storePrefix?: string;
  /**
   * creates the tables the sandbox file does not list (the run store's), at start and again after
   * DynamoDB Local restarts; the client talks to DynamoDB Local directly
   */
  createTables?: (client: DynamoDBClient) => Promise<unknown>;
  /** DynamoDB Local restarts allowed in `restartWindowMs` before it stays down (default 5 in 10 minutes) */
  maxRestarts?: number;
  restartWindowMs?: number;
}

export interface Sandbox {
  /** http://127.0.0.1:PORT, for STS, IAM and DynamoDB alike */
  endpoint: string;
  region: string;
  account: string;
  /** the base principal: it can only assume the roles, edit their inline policies and use the store's tables */
  baseCredentials: BaseCredentials;
  roles: SandboxRole[];
  /** the prefix of the run store's tables, `table/<prefix>*`, which the base principal may use (and no other table) */
  store: { prefix: string };
  /** raw DynamoDB Local, without any access control: for test set-up only */
  dynamoLocalEndpoint: string;
  /** milliseconds spent starting: DynamoDB Local to ready, seeding, in total */
  timings: { dynamoLocalMs: number; seedMs: number; totalMs: number };
  /** DynamoDB Local's state under supervision: it is restarted (and reseeded) when it dies */
  health(): SandboxHealth;
  /** deaths and restarts of DynamoDB Local, for the server's log; returns an unsubscribe function */
  onDynamoLocalEvent(listener: (event: SupervisionEvent) => void): () => void;
  /** the running JVM's pid (Linux), for tests that kill it */
  dynamoLocalPid(): number | undefined;
  /** stops the gateway and DynamoDB Local (with its whole process group); idempotent */
  stop(): Promise<void>;
}

/** Starts DynamoDB Local, seeds it (and has `createTables` make the rest) and starts the gateway in front of it. */
export async function startBareSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const started = performance.now();
  const config = options.config ? checkSandboxConfig(options.config) : loadSandboxFile(options.sandboxFile ?? 'runbooks/sandbox.yaml');
  const storePrefix = options.storePrefix ?? STORE_POLICY_PREFIX;
  storeTablesArn(config.region, config.account, storePrefix);
  // The base principal may use every table under the store's prefix: a runbook table there would
  // be open to the server's own identity, outside any step's session.
  const clash = config.tables.find((t) => t.input.TableName.startsWith(storePrefix));
  if (clash) {
    throw new RbError(
      'RB_ERR_CONFIG_INVALID',
      `The seed table ${clash.input.TableName} starts with the run store's prefix ${storePrefix}, whose tables the server's identity may use: rename it.`,
    );
  }
  const local = await startDynamoLocal({ dataDir: options.dataDir });
  try {
    const seedStart = performance.now();
    // Also run after a restart: an in-memory DynamoDB Local comes back empty.
    const prepare = async (target: DynamoLocal): Promise<void> => {
      const client = new DynamoDBClient({ endpoint: target.endpoint, region: config.region, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 });
      try {
        await Promise.all([seedTables(target.endpoint, config.tables, config.region), options.createTables?.(client)]);
      } finally {
        client.destroy();
      }
    };
    await prepare(local);
    const seedMs = performance.now() - seedStart;
    const gateway = await startGateway({ config, dynamoLocalEndpoint: local.endpoint, port: options.port, clock: options.clock, storePrefix });
    const supervisor = superviseDynamoLocal(local, { dataDir: options.dataDir, prepare, maxRestarts: options.maxRestarts, windowMs: options.restartWindowMs });
    let stopping: Promise<void> | undefined;
    return {
      endpoint: gateway.endpoint,
      region: gateway.region,
      account: gateway.account,
      baseCredentials: gateway.baseCredentials,
      roles: gateway.roles,
      store: { prefix: storePrefix },
      dynamoLocalEndpoint: local.endpoint,
      timings: { dynamoLocalMs: local.startupMs, seedMs, totalMs: performance.now() - started },
      health: () => supervisor.health(),
      onDynamoLocalEvent: (listener) => supervisor.onEvent(listener),
      dynamoLocalPid: () => supervisor.current().jvmPid(),
      stop: () => (stopping ??= gateway.stop().finally(() => supervisor.stop())),
    };
  } catch (err) {
    await local.stop();
    throw err instanceof RbError ? err : new RbError('RB_ERR_SANDBOX_START', `The sandbox could not start: ${(err as Error).message}`);
  }
}
