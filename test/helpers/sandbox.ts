/**
 * The suite's shared sandbox (started once by test/global-setup.ts) and real SDK clients pointed at
 * it. Clients of the gateway sign with sandbox-issued credentials; `localDynamo()` talks to
 * DynamoDB Local directly, without access control, for setting up test tables only.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { IAMClient } from '@aws-sdk/client-iam';
import { startGateway, type Gateway, type RoleConfig } from '../../server/sandbox/index.js';

export interface SandboxInfo {
  /** http://127.0.0.1:PORT: STS, IAM and DynamoDB */
  endpoint: string;
  region: string;
  account: string;
  /** the base principal's long-term key: it may only assume roles, edit their inline policies and use the run store's tables */
  accessKeyId: string;
  secretAccessKey: string;
  roles: Array<{ name: string; arn: string; roleId: string }>;
  /** raw DynamoDB Local, no access control */
  dynamoLocalEndpoint: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: SandboxInfo;
  }
}

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration?: Date;
}

/** The shared sandbox of this test run. */
export function sandboxInfo(): SandboxInfo {
  return inject('sandbox');
}

/** The ARN of a sandbox role (runbook-runner, runbook-readonly, runbook-tester). */
export function roleArn(name: string, info = sandboxInfo()): string {
  const role = info.roles.find((r) => r.name === name);
  if (!role) throw new Error(`the sandbox has no role ${name} (it has ${info.roles.map((r) => r.name).join(', ')})`);
  return role.arn;
}

function base(info: SandboxInfo) {
  return {
    endpoint: info.endpoint,
    region: info.region,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    // A refusal should surface at once, not after the SDK's retries.
    maxAttempts: 1,
  };
}

/** STS client signed with the base principal's credentials (or `credentials`). */
export function stsClient(credentials?: SessionCredentials, info = sandboxInfo()): STSClient {
  return new STSClient({ ...base(info), ...(credentials ? { credentials } : {}) });
}

/** IAM client signed with the base principal's credentials (or `credentials`). */
export function iamClient(credentials?: SessionCredentials, info = sandboxInfo()): IAMClient {
  return new IAMClient({ ...base(info), ...(credentials ? { credentials } : {}) });
}

/** DynamoDB client of the gateway, signed with `credentials` (a session's, usually). */
export function dynamoClient(
  credentials: SessionCredentials | { accessKeyId: string; secretAccessKey: string },
  info = sandboxInfo(),
  extra: DynamoDBClientConfig = {},
): DynamoDBClient {
  return new DynamoDBClient({ ...base(info), credentials, ...extra });
}

/** Document client of the gateway, signed with `credentials`. */
export function documentClient(credentials: SessionCredentials, info = sandboxInfo()): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamoClient(credentials, info));
}

/** DynamoDB client of DynamoDB Local itself, bypassing the gateway: for test set-up only. */
export function localDynamo(info = sandboxInfo()): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: info.dynamoLocalEndpoint,
    region: info.region,
    credentials: { accessKeyId: 'sandboxlocal', secretAccessKey: 'sandboxlocal' },
  });
}

/** Assumes a sandbox role with the base principal and returns the session's credentials. */
export async function assumeRole(
  role: string,
  input: Partial<AssumeRoleCommandInput> = {},
  info = sandboxInfo(),
): Promise<SessionCredentials & { assumedRoleId: string; arn: string }> {
  const sts = stsClient(undefined, info);
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn(role, info), RoleSessionName: `t-${randomUUID().slice(0, 8)}`, DurationSeconds: 900, ...input }));
    const c = out.Credentials!;
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
      expiration: c.Expiration,
      assumedRoleId: out.AssumedRoleUser!.AssumedRoleId!,
      arn: out.AssumedRoleUser!.Arn!,
    };
  } finally {
    sts.destroy();
  }
}

/** A table name no other test uses. */
export function uniqueTableName(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

/**
 * Creates a PAY_PER_REQUEST table in DynamoDB Local (set-up only) whose key is the given string
 * attributes: the first the partition key, the second, if any, the sort key; `indexes` adds global
 * secondary indexes (all attributes projected) on string attributes, by name.
 */
export async function createTestTable(name: string, keys: [string] | [string, string] = ['id'], info = sandboxInfo(), indexes: Record<string, string> = {}): Promise<void> {
  const local = localDynamo(info);
  try {
    const attributes = [...new Set([...keys, ...Object.values(indexes)])];
    await local.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: keys.map((k, i) => ({ AttributeName: k, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        AttributeDefinitions: attributes.map((k) => ({ AttributeName: k, AttributeType: 'S' })),
        ...(Object.keys(indexes).length > 0
          ? {
              GlobalSecondaryIndexes: Object.entries(indexes).map(([index, key]) => ({
                IndexName: index,
                KeySchema: [{ AttributeName: key, KeyType: 'HASH' as const }],
                Projection: { ProjectionType: 'ALL' as const },
              })),
            }
          : {}),
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists({ client: local, maxWaitTime: 30 }, { TableName: name });
  } finally {
    local.destroy();
  }
}

/**
 * A gateway of its own on the shared DynamoDB Local, with the given roles (default: one allowed
 * dynamodb:* on everything): for tests that put state on a role — revocation denies, cutoffs,
 * conditions — that no other test file may see. `info` describes it as sandboxInfo() does.
 */
export async function privateGateway(roles: RoleConfig[] | string, options: { clock?: () => number } = {}): Promise<{ gateway: Gateway; info: SandboxInfo }> {
  const shared = sandboxInfo();
  const list =
    typeof roles === 'string'
      ? [{ name: roles, maxSessionDuration: 3600, policies: [{ Version: '2012-10-17' as const, Statement: [{ Effect: 'Allow' as const, Action: 'dynamodb:*', Resource: '*' }] }] }]
      : roles;
  const gateway = await startGateway({
    config: { account: shared.account, region: shared.region, roles: list, tables: [] },
    dynamoLocalEndpoint: shared.dynamoLocalEndpoint,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const info = {
    ...shared,
    endpoint: gateway.endpoint,
    accessKeyId: gateway.baseCredentials.accessKeyId,
    secretAccessKey: gateway.baseCredentials.secretAccessKey,
    roles: gateway.roles,
  };
  return { gateway, info };
}
