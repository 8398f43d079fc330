/**
 * Who a session names: when dave executes a step of alice's run, the step's session carries dave as
 * its SourceIdentity and `user` tag (CloudTrail blames whoever executed it) and alice as its `owner`
 * tag. Shown by a role on a gateway of its own that allows only such sessions: dave's execution
 * succeeds, alice's own is refused. The audit record names dave too.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunbook } from '../../server/runbook/parse.js';
import { auditLogPath, type AuditRecord } from '../../server/runs/audit.js';
import type { RunEngine } from '../../server/runs/engine.js';
import type { Gateway } from '../../server/sandbox/index.js';
import { testEngine } from '../helpers/engine.js';
import { privateGateway } from '../helpers/sandbox.js';
const RUNBOOK = `---
title: One customer
---
# Read
\`\`\`dynamodb {"name":"read"}
operation: GetItem
TableName: Customers
Key: { customerId: C1001 }
\`\`\`
`;

describe("the identity of a step's session", () => {
  let gateway: Gateway;
  let engine: RunEngine;
  let dataDir: string;

  beforeAll(async () => {
    ({ gateway } = await privateGateway([
      {
        name: 'dave-only',
        maxSessionDuration: 3600,
        policies: [
          {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: 'dynamodb:GetItem',
                Resource: '*',
                Condition: { StringEquals: { 'aws:SourceIdentity': 'dave', 'aws:PrincipalTag/user': 'dave', 'aws:PrincipalTag/owner': 'alice' } },
              },
            ],
          },
        ],
      },
    ]));
    dataDir = await mkdtemp(join(tmpdir(), 'rb-identity-'));
    engine = await testEngine({
      dataDir,
      endpoint: gateway.endpoint,
      credentials: gateway.baseCredentials,
      defaultRoleArn: gateway.roles[0].arn,
    });
  });
  afterAll(async () => {
    await engine?.close();
    await gateway?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("names the executing user, and the run's owner separately", async () => {
    const { runbook } = parseRunbook(RUNBOOK, 'one.md');
    const run = await engine.startRun({ runbook: runbook!, source: RUNBOOK, runbookId: 'one', params: {}, user: 'alice' });
    const byDave = await engine.executeStep(run.id, 'read', { user: 'dave' });
    expect(byDave.status, JSON.stringify(byDave.error)).toBe('succeeded');
    expect(byDave.items).toEqual([expect.objectContaining({ customerId: 'C1001' })]);
    const byAlice = await engine.executeStep(run.id, 'read', { user: 'alice' });
    expect(byAlice.status).toBe('failed');
    expect(byAlice.error?.awsCode).toBe('AccessDeniedException');
    const records = (await readFile(auditLogPath(dataDir), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    const executed = records.filter((r) => r.type === 'step.executed').map((r) => r.user);
    expect(executed).toEqual(['dave', 'alice']);
  });
});
