/**
 * Replicas for the replica tests: a private gateway on the suite's DynamoDB Local (its own IAM
 * state, so the denies that completions put stay out of other test files' roles), store tables
 * under a prefix of the test's own, and a runbooks folder with one runbook whose steps cover paging,
 * an approved write and its count of writes.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { WebSocket } from 'ws';
import { buildApp } from '../../server/http/app.js';
import type { RunEngine } from '../../server/runs/engine.js';
import { testEngine } from '../helpers/engine.js';
import { createStoreTables } from '../../server/runs/dynamo-tables.js';
import type { RunEvent } from '../../server/runs/types.js';
import { createTestTable, localDynamo, privateGateway, type SandboxInfo } from '../helpers/sandbox.js';
import { OWNER, USERS, type Who, bearer, callJson } from '../http/helpers.js';
import type { Gateway } from '../../server/sandbox/index.js';

export const RUNBOOK = (table: string) => `---
title: Replicas
params:
  id:
    type: string
access:
  approval: writes
---

# Replicas

## List the item's parts

Two a page, so that the rest needs "more".

\`\`\`dynamodb {"name":"parts", "maxItems": 2}
operation: Query
TableName: ${table}
KeyConditionExpression: "pk = :pk"
ExpressionAttributeValues:
  ":pk": "{{id}}"
\`\`\`

## Fix it

\`\`\`dynamodb {"name":"fix"}
operation: UpdateItem
TableName: ${table}
Key:
  pk: "{{id}}"
  sk: "0"
UpdateExpression: "SET #s = :s ADD #n :one"
ExpressionAttributeNames:
  "#s": state
  "#n": writes
ExpressionAttributeValues:
  ":s": FIXED
  ":one": 1
ReturnValues: ALL_NEW
\`\`\`
`;

export interface Replica {
  name: string;
  engine: RunEngine;
  url: string;
  close(): Promise<void>;
}

export interface ReplicaWorld {
  gateway: Gateway;
  info: SandboxInfo;
  prefix: string;
  table: string;
  runbooksDir: string;
  roleArn: string;
  replica(name: string, options?: { idleTimeoutMs?: number }): Promise<Replica>;
  close(): Promise<void>;
}

/** The world, with `parts` items for `id` (sk 0…parts-1). */
export async function replicaWorld(): Promise<ReplicaWorld> {
  const { gateway, info } = await privateGateway('runbook-tester');
  const prefix = `runbooks-r${randomUUID().slice(0, 8)}-`;
  const table = `rb-replicas-${randomUUID().slice(0, 8)}`;
  const local = localDynamo(info);
  try {
    await createStoreTables({ client: local, prefix });
  } finally {
    local.destroy();
  }
  await createTestTable(table, ['pk', 'sk'], info);
  const runbooksDir = await mkdtemp(join(tmpdir(), 'rb-replicas-'));
  await mkdir(join(runbooksDir, 'ops'));
  await writeFile(join(runbooksDir, 'ops', 'replicas.md'), RUNBOOK(table));
  const dataDir = join(runbooksDir, '.data');
  const opened: Replica[] = [];
  const roleArn = info.roles[0].arn;
  return {
    gateway,
    info,
    prefix,
    table,
    runbooksDir,
    roleArn,
    async replica(name, options = {}) {
      const engine = await testEngine({ dataDir, iamRevocation: true, idleTimeoutMs: options.idleTimeoutMs ?? 0, store: { kind: 'dynamodb', prefix } }, info);
      const app = await buildApp({ runbooksDir, engine, auth: { token: OWNER.token, tokenUser: OWNER.name, users: Object.values(USERS) } });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const port = (app.server.address() as AddressInfo).port;
      const replica: Replica = {
        name,
        engine,
        url: `http://127.0.0.1:${port}`,
        async close() {
          await app.close();
          await engine.close();
        },
      };
      opened.push(replica);
      return replica;
    },
    async close() {
      for (const r of opened) await r.close().catch(() => undefined);
      await gateway.stop();
      await rm(runbooksDir, { recursive: true, force: true });
    },
  };
}

/** Puts items sk 0…count-1 under `id`. */
export async function putParts(world: ReplicaWorld, id: string, count: number): Promise<void> {
  const local = localDynamo(world.info);
  try {
    for (let i = 0; i < count; i++) {
      await local.send(new PutItemCommand({ TableName: world.table, Item: { pk: { S: id }, sk: { S: String(i) }, state: { S: 'BROKEN' } } }));
    }
  } finally {
    local.destroy();
  }
}

/** A JSON request to a replica as a user. */
export function call(replica: Replica, who: Who, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return callJson(replica.url, bearer(who), method, path, body);
}

/** A WebSocket viewer of a replica's events. */
export async function viewer(replica: Replica): Promise<{ events: RunEvent[]; close(): void }> {
  const socket = new WebSocket(`${replica.url.replace('http', 'ws')}/api/events`, { headers: bearer('owner') });
  const events: RunEvent[] = [];
  socket.on('message', (data) => events.push(JSON.parse(String(data)) as RunEvent));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { events, close: () => socket.close() };
}

export { eventually } from '../helpers/eventually.js';

/** The types of a run's records in the store's audit chain, in chain order. */
export async function auditTypes(world: ReplicaWorld, runId: string): Promise<string[]> {
  const local = localDynamo(world.info);
  const types: string[] = [];
  try {
    let start: Record<string, any> | undefined;
    do {
      const page = await local.send(
        new QueryCommand({
          TableName: `${world.prefix}audit`,
          KeyConditionExpression: '#c = :c',
          ExpressionAttributeNames: { '#c': 'chain' },
          ExpressionAttributeValues: { ':c': { S: 'audit' } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const record = JSON.parse(item.json.S!) as { runId?: string; type: string };
        if (record.runId === runId) types.push(record.type);
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    local.destroy();
  }
  return types;
}
