/**
 * Revocation never fills up: 1,000 runs completed in a row, each with one executed step and 900 s
 * sessions, every completion revoking through IAM. The role's revocation policy stays within IAM's
 * 10,240 characters (per-run entries, compacted, then folded into an `aws:TokenIssueTime` cutoff),
 * a session of a sample of those runs is refused afterwards, and a run active throughout keeps
 * working — new steps and further pages alike. On a gateway of its own (the same DynamoDB Local),
 * so that the cutoff touches no other test's role.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsOf, isHeld } from '../../server/aws/credentials.js';
import { INLINE_POLICY_MAX_CHARS, REVOCATION_POLICY_NAME } from '../../server/access/revocation-policy.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import type { Runbook } from '../../server/runbook/types.js';
import type { RunEngine } from '../../server/runs/engine.js';
import type { Gateway } from '../../server/sandbox/index.js';
import { testEngine } from '../helpers/engine.js';
import { createTestTable, dynamoClient, iamClient, localDynamo, privateGateway, uniqueTableName, type SandboxInfo } from '../helpers/sandbox.js';

const ROLE = 'revocation-scale';
const RUNS = 1000;
const table = uniqueTableName('revscale');

const RUNBOOK = `---
title: One read
params:
  id: { type: string }
access:
  duration: 900
---
# Read one
\`\`\`dynamodb {"name":"read"}
operation: GetItem
TableName: ${table}
Key: { id: "{{id}}" }
\`\`\`
# Page through all
\`\`\`dynamodb {"name":"scan", "maxItems": 2}
operation: Scan
TableName: ${table}
Limit: 2
\`\`\`
`;

describe('revocation of bounded size', { timeout: 600_000 }, () => {
  let gateway: Gateway;
  let info: SandboxInfo;
  let engine: RunEngine;
  let dataDir: string;
  let runbook: Runbook;
  let roleArn: string;

  beforeAll(async () => {
    await createTestTable(table);
    const doc = DynamoDBDocumentClient.from(localDynamo());
    await doc.send(new BatchWriteCommand({ RequestItems: { [table]: Array.from({ length: 10 }, (_, i) => ({ PutRequest: { Item: { id: `item-${i}` } } })) } }));
    doc.destroy();
    ({ gateway, info } = await privateGateway(ROLE));
    roleArn = gateway.roles[0].arn;
    dataDir = await mkdtemp(join(tmpdir(), 'rb-revscale-'));
    engine = await testEngine({ dataDir, endpoint: info.endpoint, credentials: gateway.baseCredentials, defaultRoleArn: roleArn, iamRevocation: true });
    const parsed = parseRunbook(RUNBOOK, 'one-read.md');
    expect(parsed.problems).toEqual([]);
    runbook = parsed.runbook!;
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    await gateway?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** GetItem with raw credentials, as someone holding a copied key would; the AWS error name, or 'ok'. */
  async function tryRead(creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, id: string): Promise<string> {
    const ddb = dynamoClient({ ...creds }, info, { maxAttempts: 1 });
    try {
      await ddb.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } } }));
      return 'ok';
    } catch (err) {
      return (err as Error).name;
    } finally {
      ddb.destroy();
    }
  }

  async function policySize(): Promise<number> {
    const iam = iamClient(undefined, info);
    try {
      const out = await iam.send(new GetRolePolicyCommand({ RoleName: ROLE, PolicyName: REVOCATION_POLICY_NAME }));
      return JSON.stringify(JSON.parse(decodeURIComponent(out.PolicyDocument!))).length;
    } finally {
      iam.destroy();
    }
  }

  it(`completes ${RUNS} runs in a row, every completion revoking, within IAM's limit`, async () => {
    // A run that stays active throughout, with a step whose results have further pages.
    const active = await engine.startRun({ runbook, source: RUNBOOK, runbookId: 'one-read', params: { id: 'item-1' }, user: 'alice' });
    const paged = await engine.executeStep(active.id, 'scan', { user: 'alice' });
    expect(paged).toMatchObject({ status: 'succeeded', hasMore: true });
    const firstPage = paged.items.length;

    const samples: Array<{ runId: string; id: string; creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } }> = [];
    const statuses = new Map<string, number>();
    let largest = 0;
    for (let i = 0; i < RUNS; i++) {
      const run = await engine.startRun({ runbook, source: RUNBOOK, runbookId: 'one-read', params: { id: `item-${i % 10}` }, user: 'bob' });
      const execution = await engine.executeStep(run.id, 'read', { user: 'bob' });
      expect(execution.status).toBe('succeeded');
      if (i % 100 === 7) {
        const session = engine.sessionsOf(run.id).find((s) => isHeld(s) && s.assumedRoleId === execution.session?.assumedRoleId)!;
        samples.push({ runId: run.id, id: `item-${i % 10}`, creds: { ...credentialsOf(session) } });
        expect(await tryRead(samples.at(-1)!.creds, samples.at(-1)!.id)).toBe('ok');
      }
      const done = await engine.complete(run.id, { user: 'bob' });
      const key = `${done.status}/${done.revocation?.iam}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (i % 50 === 0) largest = Math.max(largest, await policySize());
    }
    largest = Math.max(largest, await policySize());

    // Every completion succeeded and put its deny; the policy never outgrew IAM's limit.
    expect(Object.fromEntries(statuses)).toEqual({ 'completed/done': RUNS });
    expect(largest).toBeLessThanOrEqual(INLINE_POLICY_MAX_CHARS);

    // What was promised holds: a copied session of each sampled run is refused now.
    expect(samples).toHaveLength(10);
    for (const sample of samples) expect(await tryRead(sample.creds, sample.id), `run ${sample.runId}`).toBe('AccessDeniedException');

    // The run active throughout keeps working: its next page and a new step, each with a fresh session.
    const more = await engine.nextPage(active.id, 'scan', { user: 'alice' });
    expect(more.error).toBeUndefined();
    expect(more.items.length).toBeGreaterThan(firstPage);
    const again = await engine.executeStep(active.id, 'read', { user: 'alice' });
    expect(again).toMatchObject({ status: 'succeeded', count: 1 });
    expect(engine.getRun(active.id)?.status).toBe('active');
  });
});
