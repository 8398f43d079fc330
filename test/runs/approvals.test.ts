/**
 * Approvals freeze the request they show: a write using `{{now}}` runs minutes after its approval
 * exactly as the approver saw it; an approval past `access.approvalTtl` is `expired`, never a denial;
 * every transition is an audit record. The clock is the engine's, moved by the test.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRbError } from '../../server/errors.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import type { Runbook } from '../../server/runbook/types.js';
import { auditLogPath, verifyAuditLog, type AuditRecord } from '../../server/runs/audit.js';
import type { RunEngine } from '../../server/runs/engine.js';
import { testEngine } from '../helpers/engine.js';
import { renderTranscript } from '../../server/runs/transcript.js';
import type { RunEvent } from '../../server/runs/types.js';
import { assumeRole, createTestTable, documentClient, uniqueTableName } from '../helpers/sandbox.js';

const table = uniqueTableName('approvals');

const RUNBOOK = `---
title: Stamp an item
params:
  id: { type: string }
access:
  approval: writes
  approvalTtl: 3600
---
# Stamp it
\`\`\`dynamodb {"name":"stamp"}
operation: PutItem
TableName: ${table}
Item: { id: "{{id}}", stampedAt: "{{now}}" }
\`\`\`
`;

function parse(text: string): Runbook {
  const { runbook, problems } = parseRunbook(text, 'stamp.md');
  expect(problems).toEqual([]);
  return runbook!;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isRbError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a refusal');
}

async function auditRecords(dataDir: string): Promise<AuditRecord[]> {
  const text = await readFile(auditLogPath(dataDir), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditRecord);
}

describe('approvals freeze the rendered request', () => {
  let dataDir: string;
  let engine: RunEngine;
  let now = new Date('2026-11-30T09:00:00.000Z');
  const events: RunEvent[] = [];

  beforeAll(async () => {
    await createTestTable(table);
    dataDir = await mkdtemp(join(tmpdir(), 'rb-approvals-'));
    engine = await testEngine({ dataDir, clock: () => now });
    engine.events.on('event', (e: RunEvent) => events.push(e));
  });

  afterAll(async () => {
    await engine.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs the approved request with {{now}} as rendered when approval was requested, minutes later', async () => {
    const run = await engine.startRun({ runbook: parse(RUNBOOK), source: RUNBOOK, runbookId: 'stamp', params: { id: 'frozen-1' }, user: 'alice' });
    expect(await codeOf(engine.executeStep(run.id, 'stamp', { user: 'alice', confirm: true }))).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
    const pending = engine.getRun(run.id)!.approvals.stamp;
    expect(pending).toMatchObject({ status: 'pending', renderedAt: '2026-11-30T09:00:00.000Z', expiresAt: '2026-11-30T10:00:00.000Z' });
    expect((pending.request.input as { Item: { stampedAt: string } }).Item.stampedAt).toBe('2026-11-30T09:00:00Z');

    now = new Date('2026-11-30T09:07:31.000Z');
    const approved = await engine.decideApproval(run.id, 'stamp', { user: 'bob', approve: true, comment: 'ok' });
    expect(approved).toMatchObject({ status: 'approved', decidedBy: 'bob', expiresAt: '2026-11-30T10:07:31.000Z' });

    now = new Date('2026-11-30T09:12:02.000Z');
    // Without confirmation it says so, with the frozen request, and does not use up the approval.
    expect(await codeOf(engine.executeStep(run.id, 'stamp', { user: 'alice' }))).toBe('RB_ERR_RUN_CONFIRM_REQUIRED');
    expect(engine.getRun(run.id)!.approvals.stamp.status).toBe('approved');
    const execution = await engine.executeStep(run.id, 'stamp', { user: 'alice', confirm: true });
    expect(execution.status).toBe('succeeded');
    expect(execution.request).toEqual(pending.request);

    // DynamoDB holds the value the approver saw, not one rendered at execution.
    const creds = await assumeRole('runbook-tester');
    const item = await documentClient(creds).send(new GetCommand({ TableName: table, Key: { id: 'frozen-1' } }));
    expect(item.Item).toEqual({ id: 'frozen-1', stampedAt: '2026-11-30T09:00:00Z' });

    const used = engine.getRun(run.id)!.approvals.stamp;
    expect(used).toMatchObject({ status: 'used', requestedBy: 'alice', decidedBy: 'bob', usedBy: 'alice', execution: 1 });
    const types = (await auditRecords(dataDir)).filter((r) => r.runId === run.id).map((r) => r.type);
    expect(types).toEqual(['run.started', 'approval.requested', 'approval.decided', 'approval.used', 'step.executed']);
    expect(types).not.toContain('approval.denied');

    const md = renderTranscript(engine.getRun(run.id)!, engine.runbookOf(run.id), 'md');
    expect(md).toMatch(/\| `stamp` \| used \| alice \| 2026-11-30T09:00:00.000Z \| bob \| 2026-11-30T09:07:31.000Z \| ok \| alice \| 2026-11-30T09:12:02.000Z \(execution 1\) \|/);
    expect(md).not.toMatch(/\| denied \|/);
  });

  it('asks approval for a revert like for any write of the step, then puts the before-image back', async () => {
    now = new Date('2026-11-30T10:30:00.000Z');
    const run = engine.listRuns().find((r) => r.params.id === 'frozen-1')!;
    expect(await codeOf(engine.revert(run.id, 'stamp', { user: 'alice', n: 1, confirm: true }))).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
    const pending = engine.getRun(run.id)!.approvals['stamp.revert'];
    // The request to approve deletes the item, on the condition that it is still what the write left.
    expect(pending).toMatchObject({ status: 'pending', requestedBy: 'alice', request: { operation: 'DeleteItem' } });
    expect(pending.before).toMatchObject({ items: [{ key: { id: 'frozen-1' }, before: { id: 'frozen-1', stampedAt: '2026-11-30T09:00:00Z' } }] });
    expect(await codeOf(engine.decideApproval(run.id, 'stamp.revert', { user: 'alice', approve: true }))).toBe('RB_ERR_APPROVAL_SELF');
    await engine.decideApproval(run.id, 'stamp.revert', { user: 'bob', approve: true });
    const reverted = await engine.revert(run.id, 'stamp', { user: 'alice', n: 1, confirm: true });
    expect(reverted).toMatchObject({ status: 'succeeded', revertOf: 1 });
    expect(engine.getRun(run.id)!.approvals['stamp.revert']).toMatchObject({ status: 'used', decidedBy: 'bob', usedBy: 'alice' });
    const creds = await assumeRole('runbook-tester');
    expect((await documentClient(creds).send(new GetCommand({ TableName: table, Key: { id: 'frozen-1' } }))).Item).toBeUndefined();
  });

  it('makes an approval 61 minutes old expired, not denied, and asks for a new one', async () => {
    now = new Date('2026-11-30T11:00:00.000Z');
    const run = await engine.startRun({ runbook: parse(RUNBOOK), source: RUNBOOK, runbookId: 'stamp', params: { id: 'late-1' }, user: 'alice' });
    await codeOf(engine.executeStep(run.id, 'stamp', { user: 'alice', confirm: true }));
    await engine.decideApproval(run.id, 'stamp', { user: 'bob', approve: true });
    now = new Date('2026-11-30T12:01:00.000Z');
    events.length = 0;
    expect(await codeOf(engine.executeStep(run.id, 'stamp', { user: 'alice', confirm: true }))).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
    const r = engine.getRun(run.id)!;
    expect(r.pastApprovals?.at(-1)).toMatchObject({ status: 'expired', decidedBy: 'bob', reason: expect.stringContaining('not used before 2026-11-30T12:00:00.000Z') });
    expect(r.approvals.stamp).toMatchObject({ status: 'pending', renderedAt: '2026-11-30T12:01:00.000Z' });
    expect(events.map((e) => `${e.type}:${'approval' in e ? e.approval.status : ''}`)).toEqual(['approval.updated:expired', 'approval.requested:pending']);

    // A pending request past its time cannot be approved any more.
    now = new Date('2026-11-30T13:02:00.000Z');
    expect(await codeOf(engine.decideApproval(run.id, 'stamp', { user: 'bob', approve: true }))).toBe('RB_ERR_APPROVAL_EXPIRED');
    expect(engine.getRun(run.id)!.approvals.stamp.status).toBe('expired');

    const records = (await auditRecords(dataDir)).filter((rec) => rec.runId === run.id);
    expect(records.map((rec) => rec.type)).toEqual(['run.started', 'approval.requested', 'approval.decided', 'approval.expired', 'approval.requested', 'approval.expired']);
    expect(records.filter((rec) => rec.type === 'approval.decided').map((rec) => rec.data?.decision)).toEqual(['approved']);
    expect(records.find((rec) => rec.type === 'approval.expired')?.user).toBe('system');
  });

  it('cancels a pending request when the run completes, and the transcript says so', async () => {
    now = new Date('2026-11-30T14:00:00.000Z');
    const run = await engine.startRun({ runbook: parse(RUNBOOK), source: RUNBOOK, runbookId: 'stamp', params: { id: 'cancel-1' }, user: 'alice' });
    await codeOf(engine.executeStep(run.id, 'stamp', { user: 'alice', confirm: true }));
    await engine.complete(run.id, { user: 'alice' });
    const done = engine.getRun(run.id)!;
    expect(done.approvals.stamp).toMatchObject({ status: 'cancelled', reason: expect.stringContaining('before the request was decided') });
    expect(renderTranscript(done, parse(RUNBOOK), 'md')).not.toMatch(/\| pending \|/);
    expect((await verifyAuditLog(dataDir)).ok).toBe(true);
  });

  it('refuses self-approval whatever the case of the name', async () => {
    now = new Date('2026-11-30T15:00:00.000Z');
    const run = await engine.startRun({ runbook: parse(RUNBOOK), source: RUNBOOK, runbookId: 'stamp', params: { id: 'self-1' }, user: 'alice' });
    await codeOf(engine.executeStep(run.id, 'stamp', { user: 'alice', confirm: true }));
    expect(await codeOf(engine.decideApproval(run.id, 'stamp', { user: 'Alice', approve: true }))).toBe('RB_ERR_APPROVAL_SELF');
    expect(await codeOf(engine.decideApproval(run.id, 'stamp', { user: 'ALICE', approve: true }))).toBe('RB_ERR_APPROVAL_SELF');
    expect(engine.getRun(run.id)!.approvals.stamp.status).toBe('pending');
  });
});
