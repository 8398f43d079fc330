/**
 * `runbooks run` and `runbooks policy` as a user runs them: the compiled command in a child process.
 * Most cases use `--aws` with the standard AWS environment pointed at the shared sandbox — the very
 * path a real account takes — and one runs against a sandbox the command starts itself.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { awsVars, requireBuild, runCli } from '../helpers/cli.js';
import { createTestTable, roleArn } from '../helpers/sandbox.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const sandbox = inject('sandbox');
const samples = resolve('runbooks');
const tester = roleArn('runbook-tester', sandbox);
const table = `CliRun${Date.now().toString(36)}`;
let work: string;

/** The command in a bare environment (a PATH, a home of its own, user carol), run from `work`. */
const runbooks = (args: string[], env: Record<string, string> = {}) => runCli(args, { PATH: process.env.PATH ?? '', HOME: work, USER: 'carol', ...env }, { cwd: work });

/** The standard AWS environment, pointed at the shared sandbox, as for a real account. */
const awsEnv = () => awsVars(sandbox);

const ACCESS_KEY = /\b(?:ASIA|AKIA)[A-Z0-9]{16}\b/;

beforeAll(async () => {
  requireBuild();
  work = await mkdtemp(join(tmpdir(), 'rb-cli-run-'));
  await createTestTable(table);
  await writeFile(
    join(work, 'write.md'),
    `---
params:
  id: { type: string }
---
# Put a marker
\`\`\`dynamodb {"name":"put"}
operation: PutItem
TableName: ${table}
Item: { id: "{{id}}", by: cli }
\`\`\`
# Read it back
\`\`\`dynamodb {"name":"get"}
operation: GetItem
TableName: ${table}
Key: { id: "{{id}}" }
\`\`\`
`,
  );
  await writeFile(
    join(work, 'missing-table.md'),
    `# Nothing there
\`\`\`dynamodb {"name":"scan-missing"}
operation: Scan
TableName: NoSuchTable${Date.now()}
\`\`\`
`,
  );
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('runbooks run', () => {
  it('prints the §5 JSON document and exits 0 when every step succeeds', async () => {
    const r = await runbooks(
      ['run', join(samples, 'orders/recent-orders.md'), '-p', 'customerId=C1001', '-p', 'days=365', '--json', '--aws', '--role', sandbox.roles[0].arn, '--iam-revocation'],
      awsEnv(),
    );
    expect(r.stderr).toContain('step recent-orders: 3 items');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.run).toMatchObject({ runbook: 'orders/recent-orders', user: 'carol', status: 'completed', params: { customerId: 'C1001', days: 365 } });
    expect(doc.steps).toHaveLength(1);
    expect(doc.steps[0]).toMatchObject({ name: 'recent-orders', status: 'succeeded', count: 3 });
    expect(doc.steps[0].items.map((i: { orderId: string }) => i.orderId)).toEqual(['C9', 'B2', 'A7']);
    expect(doc.steps[0].session.assumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:rb-/);
    expect(doc.steps[0].policy.Statement[0].Action).toEqual(['dynamodb:Query']);
    // No credential of any kind in what the user sees.
    expect(r.stdout + r.stderr).not.toMatch(ACCESS_KEY);
    expect(r.stdout + r.stderr).not.toContain(sandbox.secretAccessKey);
  });

  it('exits 2 on a bad parameter, naming it, before anything runs', async () => {
    const r = await runbooks(['run', join(samples, 'orders/recent-orders.md'), '-p', "customerId=C1' OR '1'='1", '--aws'], awsEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('customerId');
    expect(r.stderr).not.toContain('running');
  });

  it('exits 2 on an unknown step and on a malformed flag', async () => {
    const unknown = await runbooks(['run', join(samples, 'orders/recent-orders.md'), '-p', 'customerId=C1001', '--step', 'nope', '--aws'], awsEnv());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('recent-orders');
    const flag = await runbooks(['run', join(samples, 'orders/recent-orders.md'), '-p', 'customerId', '--aws'], awsEnv());
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('name=value');
  });

  it('exits 1 with the AWS code when a step fails', async () => {
    const r = await runbooks(['run', join(work, 'missing-table.md'), '--json', '--aws', '--role', tester], awsEnv());
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.steps[0].status).toBe('failed');
    expect(doc.steps[0].error.code).toMatch(/^RB_ERR_/);
    expect(doc.steps[0].error.message).toMatch(/ResourceNotFound|not found|does not exist/i);
  });

  it('refuses a write without --yes when no terminal can confirm it, and runs it with --yes', async () => {
    const refused = await runbooks(['run', join(work, 'write.md'), '-p', 'id=a1', '--json', '--aws', '--role', tester], awsEnv());
    expect(refused.code).toBe(1);
    const doc = JSON.parse(refused.stdout);
    expect(doc.steps[0]).toMatchObject({ name: 'put', status: 'skipped', error: { code: 'RB_ERR_RUN_CONFIRM_REQUIRED' } });
    expect(doc.steps[1]).toMatchObject({ name: 'get', status: 'skipped' });

    const confirmed = await runbooks(['run', join(work, 'write.md'), '-p', 'id=a1', '--yes', '--json', '--aws', '--role', tester], awsEnv());
    expect(confirmed.code).toBe(0);
    const done = JSON.parse(confirmed.stdout);
    expect(done.steps[1].items).toEqual([{ id: 'a1', by: 'cli' }]);
  });

  it('writes a transcript', async () => {
    const out = join(work, 'transcript.md');
    const r = await runbooks(
      ['run', join(samples, 'customers/lookup-customer.md'), '-p', 'customerId=C1002', '--step', 'customer-by-id', '--transcript', out, '--aws', '--role', sandbox.roles[0].arn],
      awsEnv(),
    );
    expect(r.code).toBe(0);
    const md = await readFile(out, 'utf8');
    expect(md).toContain('C1002');
    expect(md).toContain('Grace Hopper');
    expect(md).not.toMatch(ACCESS_KEY);
  });

  it('runs against a sandbox it starts itself from the nearest sandbox.yaml', async () => {
    const r = await runbooks(['run', join(samples, 'customers/lookup-customer.md'), '-p', 'customerId=C1003', '--step', 'customer-by-id', '--data', join(work, 'data')]);
    expect(r.stderr).toContain('starting the local sandbox');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Katherine Johnson');
    expect(r.stdout + r.stderr).not.toMatch(ACCESS_KEY);
  }, 60_000);

  it('runs the sample that looks up, then acts, headless: each step takes its key from the one before', async () => {
    // Its own sandbox (from the samples' sandbox.yaml), so the write touches no other test's data.
    const r = await runbooks(['run', join(samples, 'customers/hold-order-by-email.md'), '-p', 'email=Sean@Example.com', '--yes', '--json', '--data', join(work, 'data-hold')]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['find-customer', 'succeeded'],
      ['pending-orders', 'succeeded'],
      ['hold-order', 'succeeded'],
    ]);
    const hold = doc.steps[2];
    expect(hold.attributes).toMatchObject({ pk: 'CUSTOMER#C1004', orderId: 'G8', status: 'ON_HOLD' });
    // The looked-up customer pins the write's session to that customer's partition.
    expect(JSON.stringify(hold.policy)).toContain('"dynamodb:LeadingKeys":["CUSTOMER#C1004"]');
  }, 60_000);
});

describe('runbooks policy', () => {
  it("prints each step's session policy and the role policy the runbook needs", async () => {
    const r = await runbooks([
      'policy',
      join(samples, 'orders/fix-stuck-order.md'),
      '-p',
      'customerId=C1001',
      '-p',
      'orderId=C9',
      '-p',
      'orderDate=2026-11-25',
      '-p',
      'ticket=SUP-1',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.steps.map((s: { name: string }) => s.name)).toEqual(['read-order', 'captured-payment', 'set-pending']);
    const update = doc.steps[2];
    expect(update).toMatchObject({ operation: 'UpdateItem', write: true });
    expect(update.policy.Statement[0]).toEqual({
      Effect: 'Allow',
      Action: ['dynamodb:UpdateItem'],
      Resource: ['arn:aws:dynamodb:us-east-1:000000000000:table/Orders'],
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CUSTOMER#C1001'] } },
    });
    const actions = doc.rolePolicy.Statement.flatMap((s: { Action: string[] }) => s.Action);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PartiQLSelect', 'dynamodb:UpdateItem', 'dynamodb:DescribeTable']));
    expect(JSON.stringify(doc.rolePolicy)).not.toContain('Condition');
  });

  it('exits 2 naming a missing parameter', async () => {
    const r = await runbooks(['policy', join(samples, 'orders/fix-stuck-order.md'), '-p', 'customerId=C1001']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('orderId');
  });
});
