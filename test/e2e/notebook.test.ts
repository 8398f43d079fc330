/**
 * The notebook end to end, in headless Chromium against the real server, run engine and sandbox:
 * a runner (alice) and an approver (bob) in two browser contexts go through one run from the token
 * URL to its transcripts, the way a person would, and each stage checks what they would see.
 * Screenshots of the main screens land in test-results/screenshots/.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { localDynamo } from '../helpers/sandbox.js';
import { browserAvailability, bundleClient, CUSTOMER, EVENTS, launchBrowser, startHarness, USERS, type Harness } from './harness.js';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const SCREENSHOTS = join(RESULTS, 'screenshots');

const availability = browserAvailability();
if (!availability.available && !availability.required) process.stderr.write(`\ne2e: ${availability.message}\n\n`);

/** A step's cell. */
function cell(page: Page, step: string): Locator {
  return page.locator(`section.cell[data-step="${step}"]`);
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  // From the top, so that the sticky bars sit where they belong in a full-page picture.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** Controls and regions without an accessible name, and tables without column headers. */
async function accessibilityProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const nameOf = (el: Element): string => {
      const labelled = el.getAttribute('aria-labelledby');
      const byLabel = el.id ? document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent : undefined;
      return (
        el.getAttribute('aria-label') ??
        (labelled
          ? labelled
              .split(/\s+/)
              .map((id) => document.getElementById(id)?.textContent ?? '')
              .join(' ')
          : undefined) ??
        byLabel ??
        (el.matches('button, a') ? el.textContent : undefined) ??
        el.getAttribute('title') ??
        ''
      ).trim();
    };
    for (const el of document.querySelectorAll('button, a[href], input, select, textarea, [role="region"], section.cell, dialog')) {
      if (!nameOf(el)) problems.push(`no accessible name: ${el.outerHTML.slice(0, 120)}`);
    }
    for (const table of document.querySelectorAll('table')) {
      if (table.querySelectorAll('thead th[scope="col"]').length === 0) problems.push(`table without column headers: ${table.className}`);
    }
    return problems;
  });
}

// The stages build on each other (one run, one browser each), so they run in order, never concurrently.
describe.runIf(availability.available || availability.required)('the notebook in headless Chromium', { timeout: 60_000, sequential: true }, () => {
  let browser: Browser;
  let harness: Harness;
  let aliceContext: BrowserContext;
  let bobContext: BrowserContext;
  let alice: Page;
  let bob: Page;
  let runId = '';
  const scriptErrors: string[] = [];
  const performanceFigures: Record<string, number> = {};

  beforeAll(async () => {
    if (!availability.available) throw new Error(availability.message);
    bundleClient();
    await mkdir(SCREENSHOTS, { recursive: true });
    [harness, browser] = await Promise.all([startHarness(), launchBrowser()]);
    const viewport = { width: 1280, height: 900 };
    aliceContext = await browser.newContext({ viewport, acceptDownloads: true });
    bobContext = await browser.newContext({ viewport });
    await aliceContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: harness.base });
    alice = await aliceContext.newPage();
    bob = await bobContext.newPage();
    for (const [who, page] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      page.on('pageerror', (err) => scriptErrors.push(`${who}: ${err.message}`));
    }
  }, 180_000);

  beforeEach(({ task }) => {
    // What each browser showed when a stage failed, for whoever reads the failure.
    onTestFailed(async () => {
      const name = task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      for (const [who, page] of [
        ['alice', alice],
        ['bob', bob],
      ] as const) {
        await page?.screenshot({ path: join(SCREENSHOTS, `failed-${name}-${who}.png`), fullPage: true }).catch(() => undefined);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
    if (Object.keys(performanceFigures).length > 0) {
      await mkdir(RESULTS, { recursive: true });
      await writeFile(join(RESULTS, 'e2e-performance.json'), `${JSON.stringify(performanceFigures, null, 2)}\n`);
    }
  });

  it('opens with the token URL, keeps the token out of the page, and lists the runbooks with their problems', async () => {
    await alice.goto(`${harness.base}/?token=${USERS.alice.token}`);
    // The server swapped the token for an HttpOnly cookie and redirected to a URL without it.
    expect(alice.url()).toBe(`${harness.base}/`);
    const cookie = (await aliceContext.cookies()).find((c) => c.name === 'rb_token');
    expect(cookie?.httpOnly).toBe(true);
    expect(await alice.evaluate(() => document.cookie)).not.toContain('rb_token');

    await alice.getByRole('heading', { name: 'Runbooks', level: 1 }).waitFor();
    const items = alice.locator('.runbook-item');
    await expect.poll(() => items.count()).toBe(4);
    const desk = items.filter({ hasText: 'Order desk' });
    expect(await desk.innerText()).toMatch(/3 steps[\s\S]*Look up a customer, page through their orders[\s\S]*shop\/order-desk[\s\S]*orders[\s\S]*support/);
    expect(await alice.locator('.runbook-item.has-problems').count()).toBe(1);
    const broken = items.filter({ hasText: 'A runbook with a typo' });
    expect(await broken.innerText()).toMatch(/1 problem[\s\S]*shop\/broken\.md:\d+:\d+: .*descripton/);

    await alice.getByLabel('Filter runbooks').fill('triage');
    await expect.poll(() => items.count()).toBe(1);
    expect(await items.first().innerText()).toContain('Triage a customer');
    expect(await alice.getByRole('status').filter({ hasText: 'match' }).innerText()).toBe('1 of 4 runbooks match “triage”.');
    await alice.getByLabel('Filter runbooks').fill('');
    await expect.poll(() => items.count()).toBe(4);
    // Keyboard: from the filter, Tab reaches the first runbook.
    await alice.getByLabel('Filter runbooks').focus();
    await alice.keyboard.press('Tab');
    expect(await alice.evaluate(() => document.activeElement?.textContent)).toBe('A runbook with a typo');

    expect(await accessibilityProblems(alice)).toEqual([]);
    await shot(alice, 'runbook-list');
  });

  it('checks parameters in the form, with the message under the field, before anything runs', async () => {
    await alice.getByRole('link', { name: 'Order desk' }).click();
    await alice.getByRole('heading', { name: 'Order desk', level: 1 }).waitFor();
    expect(new URL(alice.url()).hash).toBe('#/runbooks/shop/order-desk');
    expect(await alice.getByLabel('reason').inputValue()).toBe('FRAUD_CHECK');
    expect(await alice.getByLabel('reason').locator('option').allInnerTexts()).toEqual(['CUSTOMER_REQUEST', 'FRAUD_CHECK']);

    const customerId = alice.getByLabel('customerId');
    await alice.getByRole('button', { name: 'Start run' }).click();
    await alice.getByText('customerId is required').waitFor();
    expect(await customerId.getAttribute('aria-invalid')).toBe('true');
    expect(await alice.evaluate(() => (document.activeElement as HTMLInputElement).name)).toBe('customerId');

    await customerId.fill('X12');
    await customerId.press('Tab');
    await alice.getByText('"X12" does not match the pattern ^C[0-9]{4,}$.').waitFor();
    expect(harness.engine.listRuns()).toHaveLength(0);

    await customerId.fill(CUSTOMER);
    await customerId.press('Tab');
    await expect.poll(() => customerId.getAttribute('aria-invalid')).toBeNull();
    expect(await alice.locator('.field-error').allInnerTexts()).toEqual(['', '', '']);
  });

  it('runs the focused cell with Shift+Enter and moves to the next, shows its rows, and loads more', async () => {
    const customer = cell(alice, 'customer');
    await customer.focus();
    await alice.keyboard.press('Shift+Enter');
    await expect.poll(() => customer.getAttribute('data-status')).toBe('succeeded');
    runId = /^#\/runs\/([0-9a-f]+)$/.exec(new URL(alice.url()).hash)?.[1] ?? '';
    expect(runId).not.toBe('');
    expect(harness.engine.getRun(runId)?.params).toEqual({ customerId: CUSTOMER, order: 'ORDER#2026-01-01#0001', reason: 'FRAUD_CHECK' });
    expect(await alice.evaluate(() => (document.activeElement as HTMLElement).dataset.step)).toBe('orders');

    // Key attributes first, then the rest alphabetically; nested values on one readable line.
    expect(await customer.locator('thead th[title]').evaluateAll((ths) => ths.map((th) => th.getAttribute('title')))).toEqual(['pk', 'sk', 'address', 'email', 'name', 'tier']);
    await customer.getByRole('cell', { name: 'Ada Lovelace' }).waitFor();
    await customer.getByRole('cell', { name: '{city: London, country: GB}' }).waitFor();
    // The row number opens the whole item.
    await customer.getByRole('button', { name: 'Show item 1 in full' }).click();
    const item = alice.getByRole('dialog', { name: 'Results of The customer: item 1 of 1' });
    expect(JSON.parse(await item.getByLabel('Item 1').innerText())).toMatchObject({ name: 'Ada Lovelace', address: { city: 'London', country: 'GB' } });
    await item.getByRole('button', { name: 'Close' }).click();
    await item.waitFor({ state: 'detached' });
    // Closing the dialog returned the focus to its button; back to the next cell.
    expect(await alice.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Show item 1 in full');
    await cell(alice, 'orders').focus();

    await alice.keyboard.press('Shift+Enter');
    const orders = cell(alice, 'orders');
    await expect.poll(() => orders.getAttribute('data-status')).toBe('succeeded');
    expect(await orders.locator('.results-count').innerText()).toBe('25 items · more available');
    expect(await orders.locator('table').getAttribute('aria-rowcount')).toBe('26');
    await orders.getByRole('button', { name: 'Load more items of Their orders' }).click();
    await expect.poll(() => orders.locator('.results-count').innerText()).toBe('50 items · more available');
    expect(await orders.locator('table').getAttribute('aria-rowcount')).toBe('51');
    expect(await orders.locator('.exec-meta').innerText()).toMatch(/2 pages/);
    // ReturnConsumedCapacity: TOTAL in the step: the capacity of both pages, summed.
    expect(await orders.locator('.exec-capacity').innerText()).toMatch(/^[\d.]+ (capacity units?|RCU)$/);

    // The session badge: the assumed-role id STS issued for this step, counting down.
    expect(await orders.locator('.session-id').innerText()).toMatch(new RegExp(`^AROA[A-Z0-9]+:rb-${runId}-orders`));
    expect(await orders.locator('.session-state').innerText()).toMatch(/^\d{1,2}:\d{2} left$/);

    await orders.getByText('Request and session policy').click();
    const policy = await orders.getByLabel('Session policy of Their orders').innerText();
    expect(policy).toContain('"dynamodb:Query"');
    expect(policy).toContain(`table/${harness.table}`);
    expect(await orders.getByLabel('Rendered request of Their orders').innerText()).toContain(`"CUSTOMER#${CUSTOMER}"`);

    // Copy as JSON puts the items on the clipboard.
    await orders.getByRole('button', { name: 'Copy items of Their orders as JSON' }).click();
    await orders.getByText('Copied 50 items as JSON.').waitFor();
    const copied = JSON.parse(await alice.evaluate(() => navigator.clipboard.readText())) as Array<{ sk: string }>;
    expect(copied).toHaveLength(50);
    expect(copied[0].sk).toMatch(/^ORDER#/);

    expect(await accessibilityProblems(alice)).toEqual([]);
    await shot(alice, 'notebook', true);
    // The cell with its results in view, below the sticky top bar and run bar.
    await orders.getByText('Request and session policy').click();
    await orders.evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 150));
    await shot(alice, 'notebook-results');
  });

  it('shows the same run live in a second browser', async () => {
    await bob.goto(`${harness.base}/?token=${USERS.bob.token}`);
    await bob.goto(`${harness.base}/#/runs/${runId}`);
    await expect.poll(() => cell(bob, 'orders').locator('.results-count').textContent(), { timeout: 10_000 }).toBe('50 items · more available');
    await bob.locator('.live-state', { hasText: 'Live' }).waitFor();

    await cell(alice, 'customer').getByRole('button', { name: 'Run again step The customer' }).click();
    await expect.poll(() => cell(bob, 'customer').locator('.exec-meta').innerText(), { timeout: 10_000 }).toContain('execution #2 by alice');
  });

  it("holds a write for another user's approval, then runs it once confirmed in a dialog", async () => {
    const hold = cell(alice, 'hold-order');
    await hold.getByRole('button', { name: 'Run step Put the order on hold' }).click();
    await expect.poll(() => hold.getAttribute('data-status')).toBe('waiting');
    expect(await hold.locator('.approval-box').innerText()).toMatch(
      /Waiting for approval\.\s*Requested by alice at [\s\S]*Who may approve: anyone with the approver role except alice\./,
    );
    expect(await hold.getByRole('button', { name: /^Approve/ }).count()).toBe(0);

    // Bob sees the request live in the cell, and on the Approvals page with its request and policy.
    await cell(bob, 'hold-order').getByRole('button', { name: 'Approve step Put the order on hold' }).waitFor();
    await expect.poll(() => bob.locator('.topbar .count').textContent()).toBe('1');
    await bob.getByRole('link', { name: /^Approvals/ }).click();
    const request = bob.locator('article.approval-request');
    await request.waitFor();
    expect(await request.innerText()).toMatch(/Step hold-order of Order desk[\s\S]*requested by alice[\s\S]*"UpdateItem"[\s\S]*"ON_HOLD"[\s\S]*"dynamodb:UpdateItem"/);
    expect(await accessibilityProblems(bob)).toEqual([]);
    await shot(bob, 'approval');
    await request.getByLabel('Comment (optional)').fill('Fraud team asked for it in SUP-311');
    await request.getByRole('button', { name: `Approve step hold-order of run ${runId}` }).click();
    await bob.getByText(`Approved step hold-order of run ${runId}.`).waitFor();
    await bob.getByText('Nothing is waiting for approval.').waitFor();

    await expect.poll(() => hold.locator('.approval-box').innerText(), { timeout: 10_000 }).toMatch(/Approved by bob at .*: “?Fraud team asked for it in SUP-311/);

    // The confirm dialog shows exactly what will be written; focus starts on Cancel and stays inside.
    await hold.getByRole('button', { name: 'Run step Put the order on hold' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Confirm write: Put the order on hold' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain(`UpdateItem on ${harness.table}`);
    const shown = await dialog.getByLabel('Request that will run').innerText();
    expect(JSON.parse(shown)).toEqual(harness.engine.getRun(runId)?.approvals['hold-order'].request);
    expect(await alice.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    for (let i = 0; i < 4; i++) {
      await alice.keyboard.press('Tab');
      expect(await alice.evaluate(() => Boolean(document.activeElement?.closest('dialog')))).toBe(true);
    }
    expect(await accessibilityProblems(alice)).toEqual([]);
    await shot(alice, 'confirm-write');

    await alice.keyboard.press('Escape');
    await hold.getByText('Not run: you cancelled the write, so nothing was written.').waitFor();
    const key = { pk: { S: `CUSTOMER#${CUSTOMER}` }, sk: { S: 'ORDER#2026-01-01#0001' } };
    const local = localDynamo();
    try {
      expect((await local.send(new GetItemCommand({ TableName: harness.table, Key: key }))).Item?.status?.S).toBe('PENDING');

      await hold.getByRole('button', { name: 'Run step Put the order on hold' }).click();
      await dialog.getByRole('button', { name: 'Run write' }).click();
      await expect.poll(() => hold.getAttribute('data-status')).toBe('succeeded');
      expect(await hold.getByLabel('Returned attributes').innerText()).toContain('"ON_HOLD"');
      await expect.poll(() => hold.locator('.approval-box').innerText()).toMatch(/alice ran the approved request at .* \(execution 1\)\./);
      const item = (await local.send(new GetItemCommand({ TableName: harness.table, Key: key }))).Item;
      expect([item?.status?.S, item?.heldFor?.S]).toEqual(['ON_HOLD', 'FRAUD_CHECK']);
    } finally {
      local.destroy();
    }
  });

  it('runs all reads in order and stops at the first failure, saying what went wrong and what to do', async () => {
    await alice.goto(`${harness.base}/#/runbooks/shop/triage`);
    await alice.getByRole('heading', { name: 'Triage a customer', level: 1 }).waitFor();
    await alice.getByRole('button', { name: 'Run all reads' }).click();
    await alice.locator('.run-bar-status', { hasText: 'Stopped at “Loyalty points”' }).waitFor();
    expect(await alice.locator('.run-bar-status').innerText()).toBe('Stopped at “Loyalty points”: it did not succeed. 1 read step succeeded before it.');
    expect(await cell(alice, 'profile').getAttribute('data-status')).toBe('succeeded');
    expect(await cell(alice, 'loyalty').getAttribute('data-status')).toBe('failed');
    expect(await cell(alice, 'orders').getAttribute('data-status')).toBe('idle');
    const error = cell(alice, 'loyalty').getByRole('alert');
    expect(await error.innerText()).toMatch(/The step failed[\s\S]*ResourceNotFoundException/);
    expect(await error.innerText()).toContain('The table or index does not exist in this account and region.');
    expect(await alice.evaluate(() => (document.activeElement as HTMLElement).dataset.step)).toBe('loyalty');
  });

  it('completes the run: every session shows revoked, in both browsers', async () => {
    await alice.goto(`${harness.base}/#/runs/${runId}`);
    await expect.poll(() => cell(alice, 'hold-order').getAttribute('data-status')).toBe('succeeded');
    await bob.goto(`${harness.base}/#/runs/${runId}`);
    await expect.poll(() => cell(bob, 'hold-order').getAttribute('data-status')).toBe('succeeded');

    await alice.getByRole('button', { name: 'Complete run' }).click();
    const banner = alice.locator('.ended-banner');
    await banner.waitFor();
    expect(await banner.innerText()).toMatch(
      /^Run completed at .*\. \d+ sessions revoked: the server forgot their credentials and an IAM deny policy on the role blocks them until they expire\.$/,
    );
    expect(await alice.locator('.run-bar .run-status').innerText()).toBe('Completed');
    const states = await alice.locator('.session-state').allInnerTexts();
    expect(states.length).toBeGreaterThanOrEqual(3);
    expect(new Set(states)).toEqual(new Set(['revoked']));
    expect(await alice.locator('.run-button:not([disabled])').count()).toBe(0);
    expect(await alice.getByRole('button', { name: /^Load more/ }).count()).toBe(0);
    expect(harness.engine.getRun(runId)?.revocation?.iam).toBe('done');

    await expect.poll(async () => new Set(await bob.locator('.session-state').allInnerTexts()), { timeout: 10_000 }).toEqual(new Set(['revoked']));
    await bob.locator('.ended-banner').waitFor();
    await shot(alice, 'completed', true);
  });

  it("exports the transcript as Markdown, JSON and HTML, and a step's items as CSV", async () => {
    const download = async (link: Locator) => {
      const [file] = await Promise.all([alice.waitForEvent('download'), link.click()]);
      return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
    };
    const md = await download(alice.getByRole('link', { name: 'Download transcript as Markdown' }));
    expect(md.name).toBe(`${runId}.md`);
    expect(md.text).toContain('Order desk');
    expect(md.text).toContain('hold-order');
    const json = await download(alice.getByRole('link', { name: 'Download transcript as JSON' }));
    expect(json.name).toBe(`${runId}.json`);
    expect(JSON.stringify(JSON.parse(json.text))).toContain(runId);
    const html = await download(alice.getByRole('link', { name: 'Download transcript as HTML' }));
    expect(html.name).toBe(`${runId}.html`);
    expect(html.text).toMatch(/^<!doctype html>/i);
    expect(html.text).toContain(runId);
    for (const text of [md.text, json.text, html.text]) expect(text).not.toMatch(/SecretAccessKey|SessionToken|secretAccessKey|sessionToken/);

    const csv = await download(cell(alice, 'orders').getByRole('link', { name: 'Download items of Their orders as CSV' }));
    const lines = csv.text.trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^pk,sk|pk.*sk/);
    expect(lines).toHaveLength(51);
  });

  it('lists past runs with their status, user and time', async () => {
    await alice.getByRole('link', { name: 'Runs', exact: true }).click();
    const rows = alice.locator('table.runs-table tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const texts = await rows.allInnerTexts();
    expect(texts[0]).toMatch(/Triage a customer[\s\S]*Active\s+alice\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
    expect(texts[1]).toMatch(new RegExp(`Order desk[\\s\\S]*${runId}\\s+Completed\\s+alice\\s+\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\s+\\d{4}-`));
    expect(await accessibilityProblems(alice)).toEqual([]);
    await shot(alice, 'run-history');
  });

  it(`keeps ${EVENTS.toLocaleString('en-US')} rows responsive: only the rows in view are in the page`, async () => {
    await alice.goto(`${harness.base}/#/runbooks/shop/load-events`);
    const events = cell(alice, 'events');
    await events.waitFor();
    await alice.evaluate(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((list) => w.longTasks.push(...list.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
    });
    const clicked = Date.now();
    const clickedAt = await alice.evaluate(() => performance.now());
    await events.getByRole('button', { name: 'Run step Load-test events' }).click();
    await expect.poll(() => events.locator('.results-count').textContent(), { timeout: 20_000 }).toBe('3,000 items');
    performanceFigures.clickToRowsMs = Date.now() - clicked;
    expect(await events.locator('table').getAttribute('aria-rowcount')).toBe(String(EVENTS + 1));
    const inPage = await events.locator('tbody tr:not(.spacer)').count();
    expect(inPage).toBeLessThan(80);
    performanceFigures.rowsInPage = inPage;
    performanceFigures.renderTableMs = await alice.evaluate(() => performance.getEntriesByName('rb:render-table').at(-1)?.duration ?? -1);

    // Jump to the end and back: each is one frame's work, not thousands of rows'.
    const scroll = (to: 'end' | 'start') =>
      alice.evaluate(async (where) => {
        const scroller = document.querySelector<HTMLElement>('[data-step="events"] .table-scroll')!;
        const started = performance.now();
        scroller.scrollTop = where === 'end' ? scroller.scrollHeight : 0;
        await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
        return performance.now() - started;
      }, to);
    performanceFigures.scrollToEndMs = await scroll('end');
    await events.locator(`tr[aria-rowindex="${EVENTS + 1}"]`).waitFor();
    const headers = await events.locator('thead th[title]').evaluateAll((ths) => ths.map((th) => th.getAttribute('title')));
    expect(headers[0]).toBe('pk');
    // +1: the item-number column has no title.
    const sk = events.locator(`tr[aria-rowindex="${EVENTS + 1}"] td`).nth(headers.indexOf('sk') + 1);
    // Rows past the execution's first items are fetched as they come into view (shown "loading…" until then).
    await expect.poll(() => sk.innerText()).toBe(`EVENT#${String(EVENTS - 1).padStart(5, '0')}`);
    performanceFigures.scrollToStartMs = await scroll('start');
    await events.locator('tr[aria-rowindex="2"]').waitFor();
    const longTasks = await alice.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    performanceFigures.longestTaskMs = Math.max(0, ...longTasks);
    performanceFigures.longTasks = longTasks.length;
    process.stdout.write(`e2e performance (${EVENTS} rows): ${JSON.stringify(performanceFigures)}\n`);

    // The execute answer and the live event of the same execution built the table once.
    const builds = await alice.evaluate((since) => performance.getEntriesByName('rb:render-table').filter((e) => e.startTime > since).length, clickedAt);
    expect(builds).toBe(1);
    // Any row opens in full, and Copy as JSON copies every item, wherever they were fetched from.
    await scroll('end');
    await events.getByRole('button', { name: `Show item ${EVENTS} in full` }).click();
    const dialog = alice.getByRole('dialog', { name: `Results of Load-test events: item ${EVENTS} of ${EVENTS}` });
    expect(JSON.parse(await dialog.getByLabel(`Item ${EVENTS}`).innerText())).toMatchObject({ sk: `EVENT#${String(EVENTS - 1).padStart(5, '0')}` });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await events.getByRole('button', { name: 'Copy items of Load-test events as JSON' }).click();
    await events.getByText('Copied 3,000 items as JSON.').waitFor();
    const copied = JSON.parse(await alice.evaluate(() => navigator.clipboard.readText())) as Array<{ sk: string }>;
    expect(copied.map((e) => e.sk)).toEqual(Array.from({ length: EVENTS }, (_, i) => `EVENT#${String(i).padStart(5, '0')}`));
  });

  it('shows an invalid sign-in and a lost server where they happen, with what to do next', async () => {
    // The server's token changed under a signed-in browser: its cookie no longer proves anything.
    await alice.goto(`${harness.base}/#/runbooks/shop/triage`);
    await alice.getByRole('heading', { name: 'Triage a customer', level: 1 }).waitFor();
    await aliceContext.clearCookies();
    await aliceContext.addCookies([{ name: 'rb_token', value: 'alice.0000000000000000', url: harness.base, httpOnly: true, sameSite: 'Strict' }]);
    await cell(alice, 'profile').getByRole('button', { name: 'Run step Profile' }).click();
    const error = cell(alice, 'profile').getByRole('alert');
    await error.waitFor();
    expect(await error.innerText()).toMatch(
      /^The run did not start\s+Your sign-in is no longer valid[\s\S]*Open the URL printed by `runbooks serve` again\.\s+RB_ERR_AUTH_REQUIRED$/,
    );
    await alice.locator('.banner', { hasText: 'Your access token is no longer accepted' }).waitFor();

    // The server goes away under a browser showing a run.
    await bob.goto(`${harness.base}/#/runs/${runId}`);
    await bob.locator('.live-state', { hasText: 'Live' }).waitFor();
    await harness.app.close();
    await bob.locator('.banner', { hasText: 'The server cannot be reached.' }).waitFor({ timeout: 15_000 });
    expect(await bob.locator('.live-state').innerText()).not.toBe('Live');
  });

  it('raised no script errors in either browser', () => {
    expect(scriptErrors).toEqual([]);
  });
});
