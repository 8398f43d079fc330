/**
 * The sample that looks up, then acts (runbooks/customers/hold-order-by-email.md), in headless
 * Chromium: a cell whose inputs have not run says which step to run first and cannot run; each
 * later cell shows the value it took and where from; the write holds the order the lookups found.
 * Then a new run from this one offers to complete it first, and the run list says who has runs in
 * progress. The sample runs on tables of the test's own (same keys and index as the sample's).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTable, localDynamo, uniqueTableName } from '../helpers/sandbox.js';
import { browserAvailability, bundleClient, launchBrowser, startHarness, USERS, type Harness } from './harness.js';

const SAMPLE = fileURLToPath(new URL('../../runbooks/customers/hold-order-by-email.md', import.meta.url));
const availability = browserAvailability();

function cell(page: Page, step: string): Locator {
  return page.locator(`section.cell[data-step="${step}"]`);
}

describe.runIf(availability.available || availability.required)('step outputs in the notebook', { timeout: 60_000 }, () => {
  let browser: Browser;
  let harness: Harness;
  let page: Page;
  const customers = uniqueTableName('Customers');
  const orders = uniqueTableName('Orders');

  beforeAll(async () => {
    if (!availability.available) throw new Error(availability.message);
    bundleClient();
    [harness, browser] = await Promise.all([startHarness(), launchBrowser()]);
    const local = localDynamo();
    try {
      await createTestTable(customers, ['customerId'], undefined, { ByEmail: 'email' });
      await createTestTable(orders, ['pk', 'sk']);
      await local.send(
        new PutItemCommand({ TableName: customers, Item: { customerId: { S: 'C7001' }, email: { S: 'lin@example.com' }, name: { S: 'Lin Ye' }, tier: { S: 'GOLD' } } }),
      );
      for (const [sk, status] of [
        ['ORDER#2026-11-01#K1', 'SHIPPED'],
        ['ORDER#2026-11-20#K2', 'PENDING'],
        ['ORDER#2026-11-28#K3', 'PENDING'],
      ]) {
        await local.send(new PutItemCommand({ TableName: orders, Item: { pk: { S: 'CUSTOMER#C7001' }, sk: { S: sk }, status: { S: status } } }));
      }
    } finally {
      local.destroy();
    }
    const text = (await readFile(SAMPLE, 'utf8')).replaceAll('TableName: Customers', `TableName: ${customers}`).replaceAll('TableName: Orders', `TableName: ${orders}`);
    await mkdir(join(harness.runbooksDir, 'customers'), { recursive: true });
    await writeFile(join(harness.runbooksDir, 'customers', 'hold-order-by-email.md'), text);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${harness.base}/?token=${USERS.alice.token}`);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
  });

  it('runs look-up, list and hold in order, each cell showing where its values came from', async () => {
    await page.goto(`${harness.base}/#/runbooks/customers/hold-order-by-email`);
    await page.getByRole('heading', { name: "Hold a customer's pending order, found by e-mail", level: 1 }).waitFor();
    await page.getByLabel('email').fill('Lin@Example.com');

    // Nothing has run: the later cells say which step to run first and cannot run.
    const pending = cell(page, 'pending-orders');
    await expect.poll(() => pending.locator('.cell-waiting').innerText()).toBe('Uses what “Find the account” found: run that step first.');
    expect(await pending.getByRole('button', { name: 'Run step List their pending orders' }).isDisabled()).toBe(true);
    expect(await cell(page, 'hold-order').locator('.cell-waiting').innerText()).toBe('Uses what “List their pending orders” found: run that step first.');

    await cell(page, 'find-customer').getByRole('button', { name: 'Run step Find the account' }).click();
    await expect.poll(() => cell(page, 'find-customer').getAttribute('data-status')).toBe('succeeded');
    await expect.poll(() => pending.locator('.cell-waiting').isHidden()).toBe(true);

    await pending.getByRole('button', { name: 'Run step List their pending orders' }).click();
    await expect.poll(() => pending.getAttribute('data-status')).toBe('succeeded');
    expect(await pending.locator('.exec-inputs').innerText()).toMatch(/\{\{steps\.find-customer\.first\.customerId\}\}\s*=\s*"C7001"\s*from find-customer #1/);
    expect(await pending.locator('.results-count').innerText()).toMatch(/^2 items/);

    const hold = cell(page, 'hold-order');
    await hold.getByRole('button', { name: 'Run step Hold the newest pending order' }).click();
    const confirm = page.getByRole('dialog');
    await confirm.getByRole('button', { name: 'Run write' }).click();
    await expect.poll(() => hold.getAttribute('data-status')).toBe('succeeded');
    expect(await hold.locator('.exec-inputs').innerText()).toContain('ORDER#2026-11-28#K3');

    const local = localDynamo();
    try {
      const held = await local.send(new GetItemCommand({ TableName: orders, Key: { pk: { S: 'CUSTOMER#C7001' }, sk: { S: 'ORDER#2026-11-28#K3' } }, ConsistentRead: true }));
      expect(held.Item?.status).toEqual({ S: 'ON_HOLD' });
    } finally {
      local.destroy();
    }
  });

  it('offers to complete the run in progress before a new one, and lists who has runs in progress', async () => {
    const runId = /^#\/runs\/([0-9a-f]+)$/.exec(new URL(page.url()).hash)?.[1] ?? '';
    expect(harness.engine.getRun(runId)?.status).toBe('active');

    await page.goto(`${harness.base}/#/runs`);
    await page.getByRole('region', { name: 'Runs in progress, by user' }).waitFor();
    expect(await page.getByRole('region', { name: 'Runs in progress, by user' }).innerText()).toMatch(/alice — 1 active run: Hold a customer's pending order, found by e-mail/);

    await page.goto(`${harness.base}/#/runs/${runId}`);
    await page.getByRole('link', { name: 'Start a new run with other values' }).click();
    const offer = page.getByRole('dialog', { name: 'Complete this run first?' });
    await offer.waitFor();
    await offer.getByRole('button', { name: 'Complete it and start a new run' }).click();
    await expect.poll(() => harness.engine.getRun(runId)?.status).toBe('completed');
    await expect.poll(() => new URL(page.url()).hash).toBe('#/runbooks/customers/hold-order-by-email');
    // The values of the old run are offered again.
    expect(await page.getByLabel('email').inputValue()).toBe('Lin@Example.com');
  });
});
