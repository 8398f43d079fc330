/**
 * A step's items in every output, in headless Chromium against the real server and sandbox: the
 * notebook's table, its "Copy as JSON" and item view, the CSV, the three transcripts and the CLI's
 * table put the columns in one order (server/runs/columns.ts); and the table sorts by a column
 * (ascending, descending, back), filters its rows by a text, and opens a row as JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable } from '../../server/cli/table.js';
import { browserAvailability, bundleClient, CUSTOMER, EVENTS, launchBrowser, startHarness, USERS, type Harness } from './harness.js';

const availability = browserAvailability();
const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

function cell(page: Page, step: string): Locator {
  return page.locator(`section.cell[data-step="${step}"]`);
}

// The profile and the five newest orders of one customer: items of two shapes, whose attributes
// DynamoDB returns in no particular order.
const COLUMNS_RUNBOOK = (table: string) => `---
title: Column order
description: A customer's profile and newest orders, in one table.
---

# Column order

## The customer's items

\`\`\`dynamodb {"name": "partition"}
operation: Query
TableName: ${table}
KeyConditionExpression: "pk = :pk"
ExpressionAttributeValues: { ":pk": "CUSTOMER#${CUSTOMER}" }
ScanIndexForward: false
Limit: 6
\`\`\`
`;

// Keys first (the table's schema), then every other attribute alphabetically.
const EXPECTED = ['pk', 'sk', 'address', 'currency', 'email', 'lines', 'name', 'status', 'tier', 'total'];

/** The union of the items' keys in the order they come, checking that each item follows `order`. */
function jsonColumns(items: Array<Record<string, unknown>>, order: string[]): string[] {
  for (const item of items) expect(Object.keys(item)).toEqual(order.filter((c) => c in item));
  const seen: string[] = [];
  for (const item of items) for (const k of Object.keys(item)) if (!seen.includes(k)) seen.push(k);
  return order.filter((c) => seen.includes(c));
}

describe.runIf(availability.available || availability.required)('result tables in headless Chromium', { timeout: 90_000 }, () => {
  let browser: Browser;
  let harness: Harness;
  let context: BrowserContext;
  let page: Page;
  const scriptErrors: string[] = [];

  beforeAll(async () => {
    if (!availability.available) throw new Error(availability.message);
    bundleClient();
    [harness, browser] = await Promise.all([startHarness(), launchBrowser()]);
    await writeFile(join(harness.runbooksDir, 'shop', 'columns.md'), COLUMNS_RUNBOOK(harness.table));
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: harness.base });
    page = await context.newPage();
    page.on('pageerror', (err) => scriptErrors.push(err.message));
    await page.goto(`${harness.base}/?token=${USERS.alice.token}`);
  }, 180_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await harness?.stop();
  });

  it('puts the columns in one order in the table, Copy as JSON, the item view, the CSV, every transcript and the CLI table', async () => {
    await page.goto(`${harness.base}/#/runbooks/shop/columns`);
    const items = cell(page, 'partition');
    await items.getByRole('button', { name: "Run step The customer's items" }).click();
    await expect.poll(() => items.getAttribute('data-status')).toBe('succeeded');
    const runId = /^#\/runs\/([0-9a-f]+)$/.exec(new URL(page.url()).hash)?.[1] ?? '';
    expect(runId).not.toBe('');
    const outputs: Record<string, string[]> = {};

    // 1. The notebook's table.
    outputs.table = await items.locator('thead th[title]').evaluateAll((ths) => ths.map((th) => th.getAttribute('title') ?? ''));

    // 2. Copy as JSON, and one item opened in full.
    await items.getByRole('button', { name: "Copy items of The customer's items as JSON" }).click();
    await items.getByText('Copied 6 items as JSON.').waitFor();
    const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText())) as Array<Record<string, unknown>>;
    outputs.copy = jsonColumns(copied, EXPECTED);
    await items.getByRole('button', { name: 'Show item 1 in full' }).click();
    const dialog = page.getByRole('dialog', { name: "Results of The customer's items: item 1 of 6" });
    const opened = JSON.parse(await dialog.getByLabel('Item 1').innerText()) as Record<string, unknown>;
    expect(Object.keys(opened)).toEqual(EXPECTED.filter((c) => c in opened));
    await dialog.getByRole('button', { name: 'Close' }).click();

    // 3. The CSV.
    const csv = await (await page.request.get(`${harness.base}/api/runs/${runId}/steps/partition/result.csv`)).text();
    outputs.csv = csv.split('\r\n')[0].split(',');

    // 4. The transcripts: the result table of the Markdown and the HTML, the items of the JSON.
    const transcript = async (format: string) => (await page.request.get(`${harness.base}/api/runs/${runId}/transcript?format=${format}`)).text();
    const md = await transcript('md');
    const header = md.split('\n').find((line) => line.startsWith('| pk |'))!;
    outputs.markdown = header
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const json = JSON.parse(await transcript('json')) as { run: { executions: Array<{ items: Array<Record<string, unknown>> }> } };
    outputs.json = jsonColumns(json.run.executions[0].items, EXPECTED);
    const html = await context.newPage();
    await html.setContent(await transcript('html'));
    outputs.html = await html.locator('.execution table.results thead th').allInnerTexts();
    await html.close();

    // 5. The CLI's table (`runbooks run` prints the execution with formatTable).
    const execution = (await harness.engine.withAllItems(runId)).executions[0];
    outputs.cli = formatTable(execution.items, 1000, execution)
      .split('\n')[0]
      .trim()
      .split(/\s{2,}/);

    expect(copied).toHaveLength(6);
    expect(Object.keys(outputs)).toEqual(['table', 'copy', 'csv', 'markdown', 'json', 'html', 'cli']);
    for (const [output, columns] of Object.entries(outputs)) expect(columns, output).toEqual(EXPECTED);
  });

  it('sorts by a column both ways and back, filters rows by their text, and opens a row as JSON', async () => {
    await page.goto(`${harness.base}/#/runbooks/shop/load-events`);
    const events = cell(page, 'events');
    await events.getByRole('button', { name: 'Run step Load-test events' }).click();
    await expect.poll(() => events.locator('.results-count').textContent(), { timeout: 20_000 }).toBe('3,000 items');
    const table = events.locator('table.result-table');
    const header = (name: string) => events.locator(`thead th[title="${name}"]`);
    const status = events.locator('.table-view-status');
    // The sk of the rows from the top, as shown.
    const firstSks = async (n: number) => {
      const column = (await events.locator('thead th[title]').evaluateAll((ths) => ths.map((th) => th.getAttribute('title')))).indexOf('sk');
      const rows = events.locator('tbody tr:not(.spacer)');
      const out: string[] = [];
      for (let i = 0; i < n; i++)
        out.push(
          await rows
            .nth(i)
            .locator('td')
            .nth(column + 1)
            .innerText(),
        );
      return out;
    };

    // Every header says it sorts; none is sorted yet.
    expect(await events.locator('thead th[title] .sort-indicator').allInnerTexts()).toEqual(Array(await events.locator('thead th[title]').count()).fill('↕'));
    expect(await events.locator('thead th[aria-sort]').count()).toBe(0);

    // amount = (i % 50) * 1.5: ascending puts items 1, 51, 101 first (equal values keep the stored order).
    await header('amount').getByRole('button').click();
    await expect.poll(() => header('amount').getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(() => status.innerText()).toBe('Sorted by amount, ascending.');
    expect(await header('amount').locator('.sort-indicator').innerText()).toBe('▲');
    expect(await firstSks(3)).toEqual(['EVENT#00000', 'EVENT#00050', 'EVENT#00100']);
    expect(await table.getAttribute('aria-rowcount')).toBe(String(EVENTS + 1));
    expect(await events.locator('thead th[aria-sort]').count()).toBe(1);

    await header('amount').getByRole('button').click();
    await expect.poll(() => header('amount').getAttribute('aria-sort')).toBe('descending');
    expect(await header('amount').locator('.sort-indicator').innerText()).toBe('▼');
    expect(await firstSks(3)).toEqual(['EVENT#00049', 'EVENT#00099', 'EVENT#00149']);
    const amounts = await events
      .locator('tbody tr:not(.spacer)')
      .evaluateAll(
        (rows, col) => rows.slice(0, 10).map((r) => Number(r.children[col]?.textContent)),
        (await events.locator('thead th[title]').evaluateAll((ths) => ths.map((th) => th.getAttribute('title')))).indexOf('amount') + 1,
      );
    expect(amounts.every((a) => a === 73.5)).toBe(true);

    // The filter keeps the rows that contain the text (any case), still sorted.
    const filter = events.getByRole('searchbox', { name: 'Filter items of Load-test events' });
    await filter.fill('event#0204');
    await expect.poll(() => status.innerText()).toBe('10 of 3,000 items contain “event#0204”, sorted by amount, descending.');
    expect(await table.getAttribute('aria-rowcount')).toBe('11');
    const rows = await events.locator('tbody tr:not(.spacer)').allInnerTexts();
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row).toContain('EVENT#0204');
    expect(await firstSks(2)).toEqual(['EVENT#02049', 'EVENT#02048']);
    await mkdir(SCREENSHOTS, { recursive: true });
    await events.screenshot({ path: join(SCREENSHOTS, 'results-sorted-filtered.png') });

    // The row's JSON view is a button that looks like one: a border, a pointer, a hover state.
    const open = events.getByRole('button', { name: 'Show item 2050 in full' });
    const look = () =>
      open.evaluate((el) => ({ cursor: getComputedStyle(el).cursor, border: getComputedStyle(el).borderTopWidth, background: getComputedStyle(el).backgroundColor }));
    const before = await look();
    expect(before.cursor).toBe('pointer');
    expect(before.border).not.toBe('0px');
    await open.hover();
    await expect.poll(async () => (await look()).background).not.toBe(before.background);
    await open.click();
    const dialog = page.getByRole('dialog', { name: `Results of Load-test events: item 2050 of ${EVENTS}` });
    const item = JSON.parse(await dialog.getByLabel('Item 2050').innerText()) as Record<string, unknown>;
    expect(item).toMatchObject({ pk: 'LOAD#1', sk: 'EVENT#02049', amount: 73.5 });
    expect(Object.keys(item).slice(0, 2)).toEqual(['pk', 'sk']);
    await dialog.getByRole('button', { name: 'Close' }).click();

    // A text no row has; then no filter: every item again, still sorted.
    await filter.fill('no such text');
    await expect.poll(() => status.innerText()).toBe('No item contains “no such text”.');
    expect(await events.locator('tbody tr:not(.spacer)').count()).toBe(0);
    await filter.fill('');
    await expect.poll(() => table.getAttribute('aria-rowcount')).toBe(String(EVENTS + 1));
    expect(await status.innerText()).toBe('Sorted by amount, descending.');

    // A third click: the stored order again.
    await header('amount').getByRole('button').click();
    await expect.poll(() => header('amount').getAttribute('aria-sort')).toBeNull();
    expect(await status.innerText()).toBe('');
    expect(await firstSks(2)).toEqual(['EVENT#00000', 'EVENT#00001']);
  });

  it('raised no script errors', () => {
    expect(scriptErrors).toEqual([]);
  });
});
