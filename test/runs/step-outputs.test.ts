/**
 * Step outputs as inputs (docs/format.md, "Step outputs"): a later step takes values from an earlier
 * step's last execution, bound like parameters. `check` places every bad reference; a step whose
 * inputs have not run names the step to run first; the values are recorded with the execution,
 * its audit record and its approval; the derived policy pins the looked-up key; and a hostile value
 * found by the first step is a value in the second, never part of its structure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRbError } from '../../server/errors.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import { auditLogPath } from '../../server/runs/audit.js';
import { renderTranscript } from '../../server/runs/transcript.js';
import type { RunEngine } from '../../server/runs/engine.js';
import { testEngine } from '../helpers/engine.js';
import { createTestTable, localDynamo } from '../helpers/sandbox.js';
import { lookupSteps } from '../helpers/runbooks.js';
import { readFile } from 'node:fs/promises';

const suffix = Date.now().toString(36);
const people = `RbPeople${suffix}`;
const orders = `RbOrders${suffix}`;
const HOSTILE = `X' OR 1=1 -- "}} {{email}} ]`;

const RUNBOOK = `---
title: Look up, then act
params:
  email: { type: string }
access:
  approval: writes
---
# Find
\`\`\`dynamodb {"name":"find"}
operation: Query
TableName: ${people}
IndexName: ByEmail
KeyConditionExpression: "email = :e"
ExpressionAttributeValues: { ":e": "{{email}}" }
\`\`\`
# Orders
\`\`\`dynamodb {"name":"orders"}
operation: Query
TableName: ${orders}
KeyConditionExpression: "pk = :pk"
ExpressionAttributeValues: { ":pk": "{{steps.find.first.id}}" }
\`\`\`
# Same, in PartiQL
\`\`\`partiql {"name":"orders-partiql"}
SELECT * FROM "${orders}" WHERE pk = {{steps.find.first.id}}
\`\`\`
# Note the order ids on the person
\`\`\`dynamodb {"name":"note"}
operation: UpdateItem
TableName: ${people}
Key: { id: "{{steps.find.first.id}}" }
UpdateExpression: "SET #seen = :ids, #total = :n"
ExpressionAttributeNames: { "#seen": seen, "#total": firstTotal }
ExpressionAttributeValues: { ":ids": "{{steps.orders.all.orderId}}", ":n": "{{steps.orders.first.total}}" }
\`\`\`
`;

function problemsOf(text: string): string[] {
  return parseRunbook(text, 'r.md').problems.map((p) => `${p.line}:${p.column} ${p.message}`);
}

describe('step outputs in check', () => {
  // Steps one, two (keyed by `ref`, on line 14 from column 15) and three.
  const base = (ref: string) => lookupSteps(ref, { steps: 3 });

  it('accepts a reference to an earlier step and records what the step uses', () => {
    const { runbook, problems } = parseRunbook(base('{{steps.one.first.id}}'), 'r.md');
    expect(problems).toEqual([]);
    expect(runbook!.steps[1].inputs).toEqual([{ step: 'one', kind: 'first', path: ['id'] }]);
    expect(runbook!.steps[0].inputs).toBeUndefined();
  });

  it('places every bad reference at its line and column', () => {
    expect(problemsOf(base('{{steps.three.first.id}}'))).toEqual(['14:15 step `three` comes at or after this one: a step can use the output of the steps above it only']);
    expect(problemsOf(base('{{steps.two.first.id}}'))).toEqual(['14:15 step `two` comes at or after this one: a step can use the output of the steps above it only']);
    expect(problemsOf(base('{{steps.onne.first.id}}'))[0]).toMatch(/^14:15 no step named `onne` above this one.*did you mean `one`/);
    expect(problemsOf(base('{{steps.one.last.id}}'))[0]).toMatch(/^14:15 `steps.one.last.id`: after the step's name comes `first` or `all`/);
    expect(problemsOf(base('{{steps.one.first}}'))[0]).toMatch(/^14:15 `steps.one.first` names no attribute/);
    expect(problemsOf(base('{{steps.one.all.a.b}}'))[0]).toMatch(/`all` takes one attribute/);
    expect(problemsOf(base('{{steps.one.first.constructor}}'))[0]).toMatch(/is not a step output path/);
  });

  it('reserves `steps`: no parameter may be called so', () => {
    const text = `---\ntitle: T\nparams:\n  steps: { type: string }\n---\n# T\n`;
    expect(problemsOf(text)[0]).toMatch(/parameter name `steps` is not allowed/);
  });
});

describe('step outputs in a run', () => {
  let dataDir: string;
  let engine: RunEngine;

  beforeAll(async () => {
    const local = localDynamo();
    try {
      await createTestTable(people, ['id'], undefined, { ByEmail: 'email' });
      await createTestTable(orders, ['pk', 'orderId']);
      const put = (table: string, item: Record<string, { S: string } | { N: string }>) => local.send(new PutItemCommand({ TableName: table, Item: item }));
      await put(people, { id: { S: 'P1' }, email: { S: 'ada@example.com' } });
      await put(people, { id: { S: HOSTILE }, email: { S: 'mallory@example.com' } });
      await put(orders, { pk: { S: 'P1' }, orderId: { S: 'O1' }, total: { N: '42.5' } });
      await put(orders, { pk: { S: 'P1' }, orderId: { S: 'O2' }, total: { N: '7' } });
      // An item keyed by the literal text a template would have produced had the value been re-read as one.
      await put(orders, { pk: { S: '{{email}}' }, orderId: { S: 'TRAP' }, total: { N: '1' } });
    } finally {
      local.destroy();
    }
    dataDir = await mkdtemp(join(tmpdir(), 'rb-outputs-'));
    engine = await testEngine({ dataDir });
  });
  afterAll(async () => {
    await engine?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(email: string) {
    const { runbook } = parseRunbook(RUNBOOK, 'outputs.md', { id: 'outputs' });
    return engine.startRun({ runbook: runbook!, source: RUNBOOK, runbookId: 'outputs', params: { email }, user: 'alice' });
  }

  it('refuses a step whose inputs have not run, naming the step to run first', async () => {
    const run = await start('ada@example.com');
    const err = await engine.executeStep(run.id, 'orders', { user: 'alice' }).catch((e: unknown) => e);
    expect(isRbError(err) && err.code).toBe('RB_ERR_STEP_INPUT_MISSING');
    expect((err as Error).message).toBe('Step orders uses {{steps.find.first.id}}, but it has not run in this run: run step find first.');
    expect(engine.getRun(run.id)!.executions).toEqual([]);
  });

  it('looks up, then acts: values bound like parameters, recorded, and pinned in the policy', async () => {
    const run = await start('ada@example.com');
    expect((await engine.executeStep(run.id, 'find', { user: 'alice' })).status).toBe('succeeded');
    const listed = await engine.executeStep(run.id, 'orders', { user: 'alice' });
    expect(listed.status).toBe('succeeded');
    expect(listed.request.input).toMatchObject({ ExpressionAttributeValues: { ':pk': 'P1' } });
    expect(listed.inputs).toEqual([{ ref: 'steps.find.first.id', step: 'find', n: 1, value: 'P1' }]);
    expect(JSON.stringify(listed.policy)).toContain('"dynamodb:LeadingKeys":["P1"]');
    expect(listed.items.map((i) => i.orderId)).toEqual(['O1', 'O2']);

    const partiql = await engine.executeStep(run.id, 'orders-partiql', { user: 'alice' });
    expect(partiql.request.input).toMatchObject({ Statement: `SELECT * FROM "${orders}" WHERE pk = ?`, Parameters: ['P1'] });
    expect(partiql.items).toHaveLength(2);

    // The write needs approval: the request it asks for carries its inputs, typed (a list, a number).
    const asked = await engine.executeStep(run.id, 'note', { user: 'alice', confirm: true }).catch((e: unknown) => e);
    expect(isRbError(asked) && asked.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
    const approval = engine.getRun(run.id)!.approvals.note;
    expect(approval.request.input).toMatchObject({ Key: { id: 'P1' }, ExpressionAttributeValues: { ':ids': ['O1', 'O2'], ':n': 42.5 } });
    expect(approval.inputs!.map((i) => [i.ref, i.value])).toEqual([
      ['steps.find.first.id', 'P1'],
      ['steps.orders.all.orderId', ['O1', 'O2']],
      ['steps.orders.first.total', 42.5],
    ]);
    await engine.decideApproval(run.id, 'note', { user: 'bob', approve: true });
    const noted = await engine.executeStep(run.id, 'note', { user: 'alice', confirm: true });
    expect(noted.status).toBe('succeeded');
    expect(noted.inputs).toEqual(approval.inputs);

    const audit = (await readFile(auditLogPath(dataDir), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; runId?: string; data?: { step?: string; inputs?: unknown } });
    const executed = audit.filter((r) => r.type === 'step.executed' && r.runId === run.id);
    expect(executed.find((r) => r.data?.step === 'orders')?.data?.inputs).toEqual(listed.inputs);
    expect(audit.find((r) => r.type === 'approval.requested' && r.runId === run.id)?.data?.inputs).toEqual(approval.inputs);
    // The transcripts say where each value came from.
    const whole = await engine.withAllItems(run.id);
    const md = renderTranscript(whole, engine.runbookOf(run.id), 'md', engine.sourceOf(run.id));
    expect(md).toContain('value from an earlier step: `{{steps.find.first.id}}` = `P1` (execution 1 of `find`)');
    const html = renderTranscript(whole, engine.runbookOf(run.id), 'html', engine.sourceOf(run.id));
    expect(html).toContain('Value from an earlier step: <code>{{steps.orders.all.orderId}}</code>');
  });

  it('keeps a hostile value found by the first step a value in the second', async () => {
    const run = await start('mallory@example.com');
    expect((await engine.executeStep(run.id, 'find', { user: 'alice' })).items[0].id).toBe(HOSTILE);
    const listed = await engine.executeStep(run.id, 'orders', { user: 'alice' });
    expect(listed.status).toBe('succeeded');
    expect(listed.request.input).toMatchObject({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': HOSTILE } });
    expect(listed.items).toEqual([]);
    const partiql = await engine.executeStep(run.id, 'orders-partiql', { user: 'alice' });
    expect(partiql.request.input).toMatchObject({ Statement: `SELECT * FROM "${orders}" WHERE pk = ?`, Parameters: [HOSTILE] });
    expect(partiql.items).toEqual([]);
    expect(JSON.stringify(listed.policy)).toContain(JSON.stringify(HOSTILE.replace('${', '${$}')).slice(1, -1));
  });
});
