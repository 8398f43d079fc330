/**
 * The sample runbooks are what a new user sees first: they must pass `check` and every step must
 * do what its prose says against the seed data of runbooks/sandbox.yaml, through the sandbox
 * gateway with a session of the sample role and the real SDK.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRunbooks } from '../../server/runbook/load.js';
import { coerceParams } from '../../server/runbook/params.js';
import { renderStep } from '../../server/runbook/render.js';
import type { StepOutputs } from '../../server/runbook/templates.js';
import type { RenderedRequest, Runbook } from '../../server/runbook/types.js';
import { sendDirect } from '../helpers/direct.js';
import { assumeRole, createTestTable, dynamoClient, localDynamo, uniqueTableName, type SessionCredentials } from '../helpers/sandbox.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const root = join(import.meta.dirname, '../../runbooks');
let runbooks: Map<string, Runbook>;
let runner: SessionCredentials;
let tester: SessionCredentials;

beforeAll(async () => {
  const list = await listRunbooks(root);
  for (const entry of list) expect(entry.problems, entry.id).toEqual([]);
  runbooks = new Map(list.map((entry) => [entry.id, entry.runbook!]));
  runner = await assumeRole('runbook-runner');
  tester = await assumeRole('runbook-tester');
});

/** Renders a step with string parameters, as a form or `--param` would give them. */
function render(id: string, step: string, raw: Record<string, string>, outputs?: StepOutputs): RenderedRequest {
  const runbook = runbooks.get(id)!;
  const { values, errors } = coerceParams(runbook.params, raw);
  expect(errors).toEqual([]);
  return renderStep(
    runbook.steps.find((s) => s.name === step)!,
    values,
    NOW,
    outputs,
  );
}

/** Runs a rendered request with the SDK command for its operation, signed with `credentials`. */
async function execute(request: RenderedRequest, credentials = runner): Promise<Record<string, any>> {
  const client = dynamoClient(credentials);
  try {
    return await sendDirect(DynamoDBDocumentClient.from(client), request);
  } finally {
    client.destroy();
  }
}

describe('sample runbooks', () => {
  it('cover the shop domain with at least five runbooks', () => {
    expect([...runbooks.keys()]).toEqual([
      'customers/hold-order-by-email',
      'customers/lookup-customer',
      'orders/fix-stuck-order',
      'orders/orders-by-status',
      'orders/recent-orders',
      'orders/stuck-pending-scan',
      'payments/payments-for-order',
    ]);
    const operations = [...runbooks.values()].flatMap((r) => r.steps.map((s) => s.operation));
    expect(new Set(operations)).toEqual(new Set(['GetItem', 'Query', 'Scan', 'DescribeTable', 'ExecuteStatement', 'UpdateItem']));
  });

  it('customers/lookup-customer finds a customer by id and by e-mail', async () => {
    const byId = await execute(render('customers/lookup-customer', 'customer-by-id', { customerId: 'C1001' }));
    expect(byId.Item).toMatchObject({ customerId: 'C1001', name: 'Ada Lovelace', tier: 'GOLD', address: { country: 'GB' } });
    const byEmail = await execute(render('customers/lookup-customer', 'customer-by-email', { email: 'Ada@Example.com' }));
    expect(byEmail.Items).toEqual([{ customerId: 'C1001', name: 'Ada Lovelace', email: 'ada@example.com', tier: 'GOLD' }]);
  });

  it("customers/hold-order-by-email takes each step's values from the one before", async () => {
    const found = await execute(render('customers/hold-order-by-email', 'find-customer', { email: 'Grace@Example.com' }));
    expect(found.Items).toEqual([{ customerId: 'C1002', name: 'Grace Hopper', email: 'grace@example.com', tier: 'SILVER' }]);
    const pending = await execute(render('customers/hold-order-by-email', 'pending-orders', { email: 'x' }, { 'find-customer': { first: found.Items[0] } }));
    expect(pending.Items.map((o: { orderId: string }) => o.orderId)).toEqual(['E5']);
    // The write is rendered, not run: other tests read the seed orders as they are.
    const hold = render('customers/hold-order-by-email', 'hold-order', { email: 'x' }, { 'pending-orders': { first: pending.Items[0] } });
    expect(hold.input).toMatchObject({ Key: { pk: 'CUSTOMER#C1002', sk: 'ORDER#2026-11-24#E5' }, ConditionExpression: '#status = :pending' });
  });

  it('orders/recent-orders lists the last 30 days of a customer, newest first', async () => {
    const out = await execute(render('orders/recent-orders', 'recent-orders', { customerId: 'C1001' }));
    expect(out.Items.map((o: { orderId: string; status: string }) => [o.orderId, o.status])).toEqual([
      ['C9', 'PAYMENT_FAILED'],
      ['B2', 'PENDING'],
      ['A7', 'SHIPPED'],
    ]);
    const week = await execute(render('orders/recent-orders', 'recent-orders', { customerId: 'C1001', days: '7' }));
    expect(week.Items.map((o: { orderId: string }) => o.orderId)).toEqual(['C9', 'B2']);
  });

  it('orders/orders-by-status queries the ByStatus index, oldest first', async () => {
    const out = await execute(render('orders/orders-by-status', 'orders-in-status', {}));
    expect(out.Items.map((o: { orderId: string }) => o.orderId)).toEqual(['B2', 'G8', 'E5']);
    const failed = await execute(render('orders/orders-by-status', 'orders-in-status', { status: 'PAYMENT_FAILED' }));
    expect(failed.Items.map((o: { orderId: string }) => o.orderId)).toEqual(['C9']);
  });

  it('orders/stuck-pending-scan describes the table, then scans with its guards', async () => {
    const table = await execute(render('orders/stuck-pending-scan', 'orders-table', {}));
    expect(table.Table.TableName).toBe('Orders');
    const scan = render('orders/stuck-pending-scan', 'stuck-pending', {});
    expect(scan.input).toMatchObject({ Limit: 200, ExpressionAttributeValues: { ':before': '2026-11-26T12:00:00Z', ':currency': 'EUR' } });
    const out = await execute(scan);
    expect(out.Items.map((o: { orderId: string }) => o.orderId).sort()).toEqual(['B2', 'G8']);
    expect(out.ScannedCount).toBeGreaterThanOrEqual(out.Count);
    const usd = await execute(render('orders/stuck-pending-scan', 'stuck-pending', { currency: 'USD', hours: '1' }));
    expect(usd.Items.map((o: { orderId: string }) => o.orderId)).toEqual(['E5']);
  });

  it('payments/payments-for-order lists every attempt, then only captures', async () => {
    const all = await execute(render('payments/payments-for-order', 'payment-attempts', { orderId: 'C9' }));
    expect(all.Items.map((p: { paymentId: string; state: string }) => [p.paymentId, p.state]).sort()).toEqual([
      ['P-1003', 'FAILED'],
      ['P-1004', 'CAPTURED'],
    ]);
    const captured = await execute(render('payments/payments-for-order', 'captured-payments', { orderId: 'C9' }));
    expect(captured.Items).toEqual([{ paymentId: 'P-1004', amount: 99.9, currency: 'EUR', provider: 'paypal', at: '2026-11-25T11:30:00Z' }]);
  });

  describe('orders/fix-stuck-order', () => {
    const params = { customerId: 'C1001', orderDate: '2026-11-25', orderId: 'C9', ticket: 'SUP-4711' };
    const copy = uniqueTableName('orders');

    beforeAll(async () => {
      // The write runs on a copy of the order, so that the seed data stays as other tests expect it.
      const local = localDynamo();
      await createTestTable(copy, ['pk', 'sk']);
      const order = await execute(render('orders/fix-stuck-order', 'read-order', params));
      await DynamoDBDocumentClient.from(local).send(new PutCommand({ TableName: copy, Item: order.Item }));
      local.destroy();
    });

    afterAll(async () => {
      const local = localDynamo();
      await local.send(new DeleteTableCommand({ TableName: copy }));
      local.destroy();
    });

    it('needs approval for its write step only', () => {
      const steps = runbooks.get('orders/fix-stuck-order')!.steps;
      expect(steps.map((s) => [s.name, s.write, s.needsApproval])).toEqual([
        ['read-order', false, false],
        ['captured-payment', false, false],
        ['set-pending', true, true],
      ]);
    });

    it('reads the stuck order and its captured payment', async () => {
      const order = await execute(render('orders/fix-stuck-order', 'read-order', params));
      expect(order.Item).toMatchObject({ orderId: 'C9', status: 'PAYMENT_FAILED', total: 99.9 });
      const payment = await execute(render('orders/fix-stuck-order', 'captured-payment', params));
      expect(payment.Items.map((p: { paymentId: string }) => p.paymentId)).toEqual(['P-1004']);
    });

    it('moves the order back to PENDING once, guarded by its condition', async () => {
      const update = render('orders/fix-stuck-order', 'set-pending', params);
      const onCopy = { ...update, input: { ...update.input, TableName: copy } } as RenderedRequest;
      const out = await execute(onCopy, tester);
      expect(out.Attributes).toMatchObject({ orderId: 'C9', status: 'PENDING', fixedFor: 'SUP-4711', fixedAt: '2026-11-27T12:00:00Z' });
      await expect(execute(onCopy, tester)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    });
  });
});
