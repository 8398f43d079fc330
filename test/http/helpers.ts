// Builds the real server for route tests: the real engine against the shared sandbox, a temporary
// data folder, the fixture runbooks, and three named users besides the default token's owner.
import { CreateTableCommand, ResourceInUseException, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { FastifyInstance } from 'fastify';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, type AppOptions } from '../../server/http/app.js';
import type { UserDecl } from '../../server/http/users.js';
import type { RunEngine } from '../../server/runs/engine.js';
import { testEngine } from '../helpers/engine.js';
import { localDynamo, roleArn, sandboxInfo } from '../helpers/sandbox.js';

/** A WebSocket upgrade: opened (with its socket), refused with the HTTP status it got, or failed; the load bench opens its viewers with it. */
export { wsOpen } from '../../bench/common.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/http/runbooks', import.meta.url));
export const ITEMS_TABLE = 'RbHttpItems';

export const OWNER = { name: 'owner', token: 'owner-token-0123456789abcdef0123456789abcdef' };
export const USERS: Record<'alice' | 'bob' | 'carol', UserDecl> = {
  alice: { name: 'alice', token: 'alice-token-0123456789abcdef0123456789abcd', roles: ['runner'] },
  bob: { name: 'bob', token: 'bob-token-0123456789abcdef0123456789abcdef', roles: ['approver'] },
  carol: { name: 'carol', token: 'carol-token-0123456789abcdef0123456789abcd', roles: ['runner', 'approver'] },
};

export type Who = 'owner' | keyof typeof USERS;

/** The Authorization header of a user. */
export function bearer(who: Who): { authorization: string } {
  return { authorization: `Bearer ${who === 'owner' ? OWNER.token : USERS[who].token}` };
}

/** A JSON request to a listening server, with `headers` (its Authorization, usually): the status and the parsed answer. */
export async function callJson(base: string | URL, headers: Record<string, string>, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
  });
  return { status: res.status, json: await res.json() };
}

/** The role every test run assumes: allowed dynamodb:* on *, so tests may use tables of their own. */
export function testerRoleArn(): string {
  return roleArn('runbook-tester');
}

export interface TestServer {
  app: FastifyInstance;
  engine: RunEngine;
  dataDir: string;
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<Omit<AppOptions, 'engine' | 'auth'>> {
  auth?: Partial<AppOptions['auth']>;
  iamRevocation?: boolean;
  dataDir?: string;
}

/** The app on a fresh data folder (or the given one), not listening: use inject(), or listen on port 0. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'rb-http-')));
  // The shared sandbox's roles are shared by every test file: only tests about revocation put denies.
  const engine = await testEngine({ dataDir, iamRevocation: options.iamRevocation ?? false });
  const { auth, iamRevocation: _i, dataDir: _d, ...rest } = options;
  const app = await buildApp({
    runbooksDir: FIXTURES,
    ...rest,
    engine,
    auth: { token: OWNER.token, tokenUser: OWNER.name, users: Object.values(USERS), ...auth },
  });
  return {
    app,
    engine,
    dataDir,
    async close() {
      await app.close();
      await engine.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates the fixture table RbHttpItems (HASH id) once, whichever test file gets there first. */
export async function ensureItemsTable(): Promise<void> {
  const client = localDynamo();
  try {
    await client.send(
      new CreateTableCommand({
        TableName: ITEMS_TABLE,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: ITEMS_TABLE });
  client.destroy();
}

export async function putItem(item: Record<string, unknown>): Promise<void> {
  const client = localDynamo();
  await DynamoDBDocumentClient.from(client).send(new PutCommand({ TableName: ITEMS_TABLE, Item: item }));
  client.destroy();
}

/** A unique suffix for item ids, so that test files sharing the table never meet. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Every string that would betray a credential in a response, a transcript or a log. */
export function credentialLeaks(text: string): string[] {
  const info = sandboxInfo();
  const found: string[] = [];
  if (text.includes(info.secretAccessKey)) found.push('the base secret access key');
  if (text.includes(info.accessKeyId)) found.push('the base access key id');
  for (const m of text.matchAll(/\b(?:ASIA|AKIA)[A-Z0-9]{16}\b/g)) found.push(`access key id ${m[0]}`);
  for (const word of ['SecretAccessKey', 'secretAccessKey', 'SessionToken', 'sessionToken', 'x-amz-security-token']) {
    if (text.includes(word)) found.push(word);
  }
  return found;
}

/** The `name=value` of the first Set-Cookie header. */
export function cookieOf(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  if (header === undefined) throw new Error('the answer set no cookie');
  return header.split(';')[0];
}
