/**
 * The run lifecycle against the shared sandbox: each step runs with its own least-privilege
 * session; completion, idle expiry, shutdown and crash recovery revoke every session of the run,
 * shown by the gateway refusing the very credentials the engine held.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CUSTOMER_READS } from '../helpers/runbooks.js';
import { testEngine } from '../helpers/engine.js';
import { createTestTable, dynamoClient, roleArn } from '../helpers/sandbox.js';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { credentialsOf, isHeld } from '../../server/aws/credentials.js';
import { isRbError } from '../../server/errors.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import type { Runbook } from '../../server/runbook/types.js';
import { verifyAuditLog } from '../../server/runs/audit.js';
import { RunEngine, type EngineOptions } from '../../server/runs/engine.js';
import type { RunEvent } from '../../server/runs/types.js';

const sandbox = inject('sandbox');
const table = `EngineTest${Date.now().toString(36)}`;

const WRITES = `---
title: Engine writes
params:
  id: { type: string }
access:
  approval: writes
---
# Put
\`\`\`dynamodb {"name":"put"}
operation: PutItem
TableName: ${table}
Item: { id: "{{id}}", note: "written by the engine test" }
\`\`\`
# Read back
\`\`\`dynamodb {"name":"get"}
operation: GetItem
TableName: ${table}
Key: { id: "{{id}}" }
\`\`\`
`;

function parse(text: string): Runbook {
  const { runbook, problems } = parseRunbook(text, 'engine-test.md');
  expect(problems).toEqual([]);
  return runbook!;
}

/** A Document Client that signs with raw credentials, talking to the gateway as any AWS client would. */
function clientWith(creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  return DynamoDBDocumentClient.from(dynamoClient({ ...creds }, sandbox));
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'allowed';
  } catch (err) {
    return (err as Error).name;
  }
}

/** Credentials of the sessions the engine still holds for a run (key-schema lookups are forgotten at once). */
function heldCredentials(engine: RunEngine, runId: string) {
  return engine
    .sessionsOf(runId)
    .filter(isHeld)
    .map((s) => ({ ...credentialsOf(s) }));
}

const dirs: string[] = [];
const engines: RunEngine[] = [];
async function newEngine(extra: Partial<EngineOptions> = {}): Promise<RunEngine> {
  const dataDir = extra.dataDir ?? (await mkdtemp(join(tmpdir(), 'rb-engine-')));
  dirs.push(dataDir);
  const engine = await testEngine({ defaultRoleArn: roleArn('runbook-runner'), iamRevocation: true, ...extra, dataDir }, sandbox);
  engines.push(engine);
  return engine;
}

beforeAll(async () => {
  await createTestTable(table);
});

afterAll(async () => {
  for (const e of engines) await e.close().catch(() => undefined);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('run engine', () => {
  it('runs each step with a session that can do exactly that step', async () => {
    const engine = await newEngine();
    const run = await engine.startRun({ runbook: parse(CUSTOMER_READS), source: CUSTOMER_READS, runbookId: 'reads', params: { customerId: 'C1001' }, user: 'alice' });
    const ex = await engine.executeStep(run.id, 'customer', { user: 'alice' });
    expect(ex.status).toBe('succeeded');
    expect(ex.items).toEqual([expect.objectContaining({ customerId: 'C1001', name: 'Ada Lovelace' })]);
    expect(ex.session?.assumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:rb-/);
    expect(ex.keys).toEqual(['customerId']);
    expect(JSON.stringify(ex.policy)).toContain('dynamodb:LeadingKeys');

    const stepSession = engine.sessionsOf(run.id).find((s) => s.assumedRoleId === ex.session!.assumedRoleId)!;
    const creds = { ...credentialsOf(stepSession) };
    const client = clientWith(creds);
    // What the step did still works with its credentials…
    const own = await client.send(new GetCommand({ TableName: 'Customers', Key: { customerId: 'C1001' } }));
    expect(own.Item?.name).toBe('Ada Lovelace');
    // …and nothing else does: another partition key, another table, a write.
    expect(await refusal(client.send(new GetCommand({ TableName: 'Customers', Key: { customerId: 'C1002' } })))).toBe('AccessDeniedException');
    expect(await refusal(client.send(new QueryCommand({ TableName: 'Orders', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'CUSTOMER#C1001' } })))).toBe(
      'AccessDeniedException',
    );
    expect(await refusal(client.send(new PutCommand({ TableName: 'Customers', Item: { customerId: 'C1001', name: 'x' } })))).toBe('AccessDeniedException');
    await engine.complete(run.id, { user: 'alice' });
  });

  it('revokes every session of a run at completion, and only that run', async () => {
    const engine = await newEngine();
    const events: RunEvent[] = [];
    engine.events.on('event', (e: RunEvent) => events.push(e));
    const runbook = parse(CUSTOMER_READS);
    const a = await engine.startRun({ runbook, source: CUSTOMER_READS, runbookId: 'reads', params: { customerId: 'C1001' }, user: 'alice' });
    const b = await engine.startRun({ runbook, source: CUSTOMER_READS, runbookId: 'reads', params: { customerId: 'C1001' }, user: 'bob' });
    await engine.executeStep(a.id, 'customer', { user: 'alice' });
    await engine.executeStep(a.id, 'orders', { user: 'alice' });
    await engine.executeStep(b.id, 'customer', { user: 'bob' });
    const credsA = heldCredentials(engine, a.id);
    const credsB = heldCredentials(engine, b.id);
    expect(credsA.length).toBeGreaterThanOrEqual(2);

    const ended = await engine.complete(a.id, { user: 'alice' });
    expect(ended.status).toBe('completed');
    expect(ended.revocation).toMatchObject({ iam: 'done' });
    expect(ended.executions.every((e) => e.session?.revoked)).toBe(true);
    expect(engine.sessionsOf(a.id)).toEqual([]);

    const get = { TableName: 'Customers', Key: { customerId: 'C1001' } };
    for (const creds of credsA) expect(await refusal(clientWith(creds).send(new GetCommand(get)))).toBe('AccessDeniedException');
    const stillB = await clientWith(credsB[0]).send(new GetCommand(get));
    expect(stillB.Item?.customerId).toBe('C1001');

    const types = events.filter((e) => ('runId' in e ? e.runId === a.id : e.run.id === a.id)).map((e) => e.type);
    expect(types).toEqual([
      'run.started',
      'step.started',
      'session.issued',
      'step.succeeded',
      'step.started',
      'session.issued',
      'step.succeeded',
      'session.revoked',
      'run.completed',
    ]);
    await expect(engine.executeStep(a.id, 'customer', { user: 'alice' })).rejects.toMatchObject({ code: 'RB_ERR_RUN_NOT_ACTIVE' });
    await engine.complete(b.id, { user: 'bob' });
  });

  it('refuses bad parameters by name before anything runs', async () => {
    const engine = await newEngine();
    const err = await engine
      .startRun({ runbook: parse(CUSTOMER_READS), source: CUSTOMER_READS, runbookId: 'reads', params: { customerId: "C1' OR 1=1" }, user: 'alice' })
      .catch((e) => e);
    expect(isRbError(err)).toBe(true);
    expect(err.code).toBe('RB_ERR_PARAM_INVALID');
    expect(err.details.params[0].param).toBe('customerId');
    expect(engine.listRuns()).toEqual([]);
  });

  it('runs a write only when confirmed, and only after another person approves', async () => {
    const engine = await newEngine({ defaultRoleArn: roleArn('runbook-tester') });
    const run = await engine.startRun({ runbook: parse(WRITES), source: WRITES, runbookId: 'writes', params: { id: 'w1' }, user: 'alice' });

    const first = await engine.executeStep(run.id, 'put', { user: 'alice', confirm: true }).catch((e) => e);
    expect(first.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
    expect(first.details.approval).toMatchObject({ status: 'pending', requestedBy: 'alice' });
    await expect(engine.decideApproval(run.id, 'put', { user: 'alice', approve: true })).rejects.toMatchObject({ code: 'RB_ERR_APPROVAL_SELF' });
    const approval = await engine.decideApproval(run.id, 'put', { user: 'bob', approve: true, comment: 'ok' });
    expect(approval).toMatchObject({ status: 'approved', decidedBy: 'bob', comment: 'ok' });

    const unconfirmed = await engine.executeStep(run.id, 'put', { user: 'alice' }).catch((e) => e);
    expect(unconfirmed.code).toBe('RB_ERR_RUN_CONFIRM_REQUIRED');
    expect(unconfirmed.details.request).toEqual({
      operation: 'PutItem',
      input: { TableName: table, Item: { id: 'w1', note: 'written by the engine test' }, ReturnConsumedCapacity: 'TOTAL' },
    });

    const put = await engine.executeStep(run.id, 'put', { user: 'alice', confirm: true });
    expect(put.status).toBe('succeeded');
    const get = await engine.executeStep(run.id, 'get', { user: 'alice' });
    expect(get.items).toEqual([{ id: 'w1', note: 'written by the engine test' }]);

    // The approval was for one execution: the next one asks again.
    const again = await engine.executeStep(run.id, 'put', { user: 'alice', confirm: true }).catch((e) => e);
    expect(again.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
    // The earlier decision stays on the record for the transcript.
    expect(engine.getRun(run.id)?.pastApprovals).toEqual([expect.objectContaining({ step: 'put', status: 'used', decidedBy: 'bob', comment: 'ok' })]);
    await engine.complete(run.id, { user: 'alice' });
  });

  it('expires idle runs and revokes their sessions', async () => {
    let now = Date.now();
    const engine = await newEngine({ idleTimeoutMs: 400, clock: () => new Date(now) });
    const run = await engine.startRun({ runbook: parse(CUSTOMER_READS), source: CUSTOMER_READS, runbookId: 'reads', params: { customerId: 'C1001' }, user: 'alice' });
    await engine.executeStep(run.id, 'customer', { user: 'alice' });
    const creds = heldCredentials(engine, run.id);
    now += 60_000;
    await expect.poll(() => engine.getRun(run.id)?.status, { timeout: 5000 }).toBe('expired');
    expect(engine.getRun(run.id)?.endReason).toBe('idle');
    for (const c of creds) {
      expect(await refusal(clientWith(c).send(new GetCommand({ TableName: 'Customers', Key: { customerId: 'C1001' } })))).toBe('AccessDeniedException');
    }
  });

  it("revokes at shutdown; a second engine on the folder leaves a live engine's run alone", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rb-engine-'));
    dirs.push(dataDir);
    const get = new GetCommand({ TableName: 'Customers', Key: { customerId: 'C1001' } });

    // Shutdown.
    const closing = await newEngine({ dataDir });
    const r1 = await closing.startRun({ runbook: parse(CUSTOMER_READS), source: CUSTOMER_READS, runbookId: 'reads', params: { customerId: 'C1001' }, user: 'alice' });
    await closing.executeStep(r1.id, 'customer', { user: 'alice' });
    const [c1] = heldCredentials(closing, r1.id);
    await closing.close();
    expect(closing.getRun(r1.id)).toMatchObject({ status: 'completed', endReason: 'shutdown' });
    expect(await refusal(clientWith(c1).send(get))).toBe('AccessDeniedException');

    // Another engine on the same folder while this one is alive: its run is not taken for a crash's
    // (a crash, with the run then interrupted and revoked, is test/http/restart.test.ts's SIGKILL).
    const running = await newEngine({ dataDir });
    const r2 = await running.startRun({ runbook: parse(CUSTOMER_READS), source: CUSTOMER_READS, runbookId: 'reads', params: { customerId: 'C1001' }, user: 'alice' });
    await running.executeStep(r2.id, 'customer', { user: 'alice' });
    const [c2] = heldCredentials(running, r2.id);
    const other = await newEngine({ dataDir });
    expect(other.getRun(r2.id)).toMatchObject({ status: 'active', elsewhere: expect.stringContaining(`process ${process.pid}`) });
    expect(other.getRun(r1.id)?.status).toBe('completed');
    await expect(other.executeStep(r2.id, 'customer', { user: 'alice' })).rejects.toMatchObject({ code: 'RB_ERR_RUN_ELSEWHERE' });
    expect((await clientWith(c2).send(get)).Item?.customerId).toBe('C1001');
    await running.executeStep(r2.id, 'orders', { user: 'alice' });
    await other.sync();
    expect(other.getRun(r2.id)?.executions.map((e) => e.step)).toEqual(['customer', 'orders']);
    await running.close();
    expect(await refusal(clientWith(c2).send(get))).toBe('AccessDeniedException');
    await other.sync();
    expect(other.getRun(r2.id)).toMatchObject({ status: 'completed', endReason: 'shutdown' });
    await other.close();
    const audit = await verifyAuditLog(dataDir);
    expect(audit.ok, JSON.stringify(audit.firstBad)).toBe(true);
  });

  it('never writes a credential to the run store, the audit log, events or results', async () => {
    const engine = await newEngine();
    const seen: string[] = [];
    engine.events.on('event', (e: RunEvent) => seen.push(JSON.stringify(e)));
    const run = await engine.startRun({ runbook: parse(CUSTOMER_READS), source: CUSTOMER_READS, runbookId: 'reads', params: { customerId: 'C1001' }, user: 'alice' });
    const results = [await engine.executeStep(run.id, 'customer', { user: 'alice' }), await engine.executeStep(run.id, 'orders', { user: 'alice' })];
    const secrets = heldCredentials(engine, run.id).flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken!]);
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    secrets.push(sandbox.secretAccessKey);
    await engine.complete(run.id, { user: 'alice' });
    const dataDir = dirs[dirs.length - 1];
    const files = (await readdir(join(dataDir, 'runs'), { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
    // The steps' few items are kept in their execution records (store.ts, INLINE_ITEMS), so the journal is read too.
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['header.json', 'journal.jsonl']));
    const texts = [
      ...seen,
      JSON.stringify(results),
      JSON.stringify(engine.getRun(run.id)),
      await readFile(join(dataDir, 'audit.jsonl'), 'utf8'),
      ...(await Promise.all(files.map((f) => readFile(join(f.parentPath, f.name), 'utf8')))),
    ].join('\n');
    expect(texts).toContain(results[0].session!.assumedRoleId);
    for (const secret of secrets) expect(texts).not.toContain(secret);
  });
});
