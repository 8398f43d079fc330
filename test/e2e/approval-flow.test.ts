/**
 * The sample write `orders/fix-stuck-order` → `set-pending` under `approval: writes`, end to end in
 * headless Chromium with two people in two browser contexts: alice asks, bob approves on the
 * Approvals page, and alice runs it well over a second later. The step writes `{{now}}`: the write
 * must carry the time rendered when approval was requested (the request bob saw), and the
 * transcript must say who asked, who approved and who used it — no denial anywhere.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDynamo } from '../helpers/sandbox.js';
import { browserAvailability, bundleClient, CUSTOMER, launchBrowser, startHarness, USERS, type Harness } from './harness.js';

const SAMPLE = fileURLToPath(new URL('../../runbooks/orders/fix-stuck-order.md', import.meta.url));
const ORDER = { pk: `CUSTOMER#${CUSTOMER}`, sk: 'ORDER#2026-11-25#C9' };
const availability = browserAvailability();

describe.runIf(availability.available || availability.required)('an approved write with {{now}} in the notebook', { timeout: 60_000 }, () => {
  let browser: Browser;
  let harness: Harness;
  let contexts: BrowserContext[] = [];
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    if (!availability.available) throw new Error(availability.message);
    bundleClient();
    [harness, browser] = await Promise.all([startHarness(), launchBrowser()]);
    // The sample runbook as shipped, on this test's own copy of the Orders table.
    const text = (await readFile(SAMPLE, 'utf8')).replaceAll('TableName: Orders', `TableName: ${harness.table}`);
    await mkdir(join(harness.runbooksDir, 'orders'), { recursive: true });
    await writeFile(join(harness.runbooksDir, 'orders', 'fix-stuck-order.md'), text);
    const doc = DynamoDBDocumentClient.from(localDynamo());
    await doc.send(new PutCommand({ TableName: harness.table, Item: { ...ORDER, orderId: 'C9', status: 'PAYMENT_FAILED', total: 99.9, currency: 'EUR' } }));
    doc.destroy();
    contexts = [await browser.newContext(), await browser.newContext()];
    [alice, bob] = await Promise.all(contexts.map((c) => c.newPage()));
    await alice.goto(`${harness.base}/?token=${USERS.alice.token}`);
    await bob.goto(`${harness.base}/?token=${USERS.bob.token}`);
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await harness?.stop();
  });

  it('runs set-pending as approved, over a second after the approval, and records who did what', async () => {
    await alice.goto(`${harness.base}/#/runbooks/orders/fix-stuck-order`);
    await alice.getByRole('heading', { name: 'Fix an order stuck in PAYMENT_FAILED', level: 1 }).waitFor();
    for (const [name, value] of Object.entries({ customerId: CUSTOMER, orderDate: '2026-11-25', orderId: 'C9', ticket: 'SUP-4711' })) {
      await alice.getByLabel(name).fill(value);
    }
    const step = alice.locator('section.cell[data-step="set-pending"]');
    await step.getByRole('button', { name: /^Run step / }).click();
    await expect.poll(() => step.getAttribute('data-status')).toBe('waiting');
    const runId = harness.engine.listRuns()[0].id;
    const frozen = harness.engine.getRun(runId)!.approvals['set-pending'];
    const renderedNow = (frozen.request.input as { ExpressionAttributeValues: Record<string, string> }).ExpressionAttributeValues[':now'];
    expect(renderedNow).toBe(frozen.renderedAt.replace(/\.\d{3}Z$/, 'Z'));

    // bob approves on the Approvals page, seeing the request with the time it was rendered.
    await bob.goto(`${harness.base}/#/approvals`);
    const card = bob.locator('article.approval-request');
    await card.waitFor();
    expect(await card.innerText()).toContain(renderedNow);
    await card.getByRole('button', { name: `Approve step set-pending of run ${runId}` }).click();
    // The page says so where the request was (the same words go to screen readers through the live region).
    await bob.locator('#main').getByText(`Approved step set-pending of run ${runId}.`).waitFor();
    await expect.poll(() => step.locator('.approval-box').innerText(), { timeout: 10_000 }).toMatch(/Approved by bob/);

    // Well past the second in which it was rendered and approved: a re-rendered `now` would differ.
    await new Promise((r) => setTimeout(r, 2100));
    await step.getByRole('button', { name: /^Run step / }).click();
    const dialog = alice.getByRole('dialog', { name: /^Confirm write/ });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain(renderedNow);
    await dialog.getByRole('button', { name: 'Run write' }).click();
    await expect.poll(() => step.getAttribute('data-status'), { timeout: 10_000 }).toBe('succeeded');
    await expect.poll(() => step.locator('.approval-box').innerText()).toMatch(/alice ran the approved request at .* \(execution 1\)\./);

    const local = localDynamo();
    try {
      const item = (await local.send(new GetItemCommand({ TableName: harness.table, Key: { pk: { S: ORDER.pk }, sk: { S: ORDER.sk } } }))).Item;
      expect([item?.status?.S, item?.fixedAt?.S, item?.fixedFor?.S]).toEqual(['PENDING', renderedNow, 'SUP-4711']);
    } finally {
      local.destroy();
    }
    const approval = harness.engine.getRun(runId)!.approvals['set-pending'];
    expect(Date.parse(approval.usedAt!) - Date.parse(approval.decidedAt!)).toBeGreaterThan(1000);

    // Every transcript format says requested by alice, approved by bob, used by alice; none says denied.
    for (const format of ['md', 'json', 'html'] as const) {
      const res = await alice.request.get(`${harness.base}/api/runs/${runId}/transcript?format=${format}`);
      const text = await res.text();
      expect(text).not.toMatch(/denied/);
      if (format === 'json') {
        const approvals = (JSON.parse(text) as { run: { approvals: Record<string, unknown> } }).run.approvals;
        expect(approvals['set-pending']).toMatchObject({ status: 'used', requestedBy: 'alice', decidedBy: 'bob', usedBy: 'alice' });
      } else {
        expect(text).toMatch(/set-pending[\s\S]*used[\s\S]*alice[\s\S]*bob[\s\S]*alice/);
      }
    }

    // The runbook file changes afterwards: the run still shows the text it ran, and says so.
    const file = join(harness.runbooksDir, 'orders', 'fix-stuck-order.md');
    await writeFile(file, (await readFile(file, 'utf8')).replace('## 3. Move the order back to PENDING', '## 3. A heading written later'));
    await alice.goto(`${harness.base}/#/runs/${runId}`);
    await alice.reload();
    await alice.getByText('The runbook has changed since this run started.').waitFor();
    expect(await alice.getByRole('heading', { name: '3. Move the order back to PENDING' }).count()).toBe(1);
    expect(await alice.getByRole('heading', { name: '3. A heading written later' }).count()).toBe(0);
    expect(await alice.getByRole('link', { name: 'Start a new run with the current version' }).getAttribute('href')).toBe('#/runbooks/orders/fix-stuck-order');
  });
});
