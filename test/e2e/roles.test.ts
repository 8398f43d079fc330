/**
 * The notebook offers nobody a control the server would refuse them, in headless Chromium: bob
 * (approver only) watching alice's run sees no run control but can decide her request, on an
 * approval card with the step's title and prose; alice completing the run while that request is
 * pending is asked first, and completing cancels the request.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailability, bundleClient, CUSTOMER, launchBrowser, startHarness, USERS, type Harness } from './harness.js';

const availability = browserAvailability();

/** Every button that would run something: steps, all reads, more pages, starting or completing a run. */
const RUN_CONTROLS = [/^Run( again)? step /, /^Run all reads$/, /Complete run/, /^Load more/, /^Start run$/, /^Revert/];

function cell(page: Page, step: string): Locator {
  return page.locator(`section.cell[data-step="${step}"]`);
}

async function runControls(page: Page): Promise<number> {
  let n = 0;
  for (const name of RUN_CONTROLS) n += await page.getByRole('button', { name }).count();
  return n;
}

describe.runIf(availability.available || availability.required)('roles in the notebook', { timeout: 60_000 }, () => {
  let browser: Browser;
  let harness: Harness;
  let contexts: BrowserContext[] = [];
  let alice: Page;
  let bob: Page;
  let runId = '';
  const scriptErrors: string[] = [];

  beforeAll(async () => {
    if (!availability.available) throw new Error(availability.message);
    bundleClient();
    [harness, browser] = await Promise.all([startHarness(), launchBrowser()]);
    contexts = [await browser.newContext(), await browser.newContext()];
    [alice, bob] = await Promise.all(contexts.map((c) => c.newPage()));
    for (const [who, page] of [
      ['alice', alice],
      ['bob', bob],
    ] as const)
      page.on('pageerror', (err) => scriptErrors.push(`${who}: ${err.message}`));
    await alice.goto(`${harness.base}/?token=${USERS.alice.token}`);
    await bob.goto(`${harness.base}/?token=${USERS.bob.token}`);
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await harness?.stop();
  });

  it('alice runs two reads (the second with more pages to load) and asks for approval of the write', async () => {
    await alice.goto(`${harness.base}/#/runbooks/shop/order-desk`);
    await alice.getByLabel('customerId').fill(CUSTOMER);
    for (const [step, title] of [
      ['customer', 'The customer'],
      ['orders', 'Their orders'],
    ]) {
      await cell(alice, step)
        .getByRole('button', { name: `Run step ${title}` })
        .click();
      await expect.poll(() => cell(alice, step).getAttribute('data-status')).toBe('succeeded');
    }
    await cell(alice, 'hold-order').getByRole('button', { name: 'Run step Put the order on hold' }).click();
    await expect.poll(() => cell(alice, 'hold-order').getAttribute('data-status')).toBe('waiting');
    runId = /^#\/runs\/([0-9a-f]+)$/.exec(new URL(alice.url()).hash)?.[1] ?? '';
    expect(runId).not.toBe('');
  });

  it('shows an approver without the runner role no run control on a run or a runbook, only the means to decide', async () => {
    // The same run offers alice (a runner) her controls: the names below are the ones to look for.
    expect(await runControls(alice)).toBeGreaterThanOrEqual(5);

    await bob.goto(`${harness.base}/#/runs/${runId}`);
    await expect.poll(() => cell(bob, 'orders').locator('.results-count').textContent(), { timeout: 10_000 }).toBe('25 items · more available');
    await bob.getByText('You can watch this run and decide its approval requests; running steps needs the runner role.').waitFor();
    expect(await runControls(bob)).toBe(0);

    // What bob may do, he is offered: decide alice's request, on a card with the step's title and prose.
    const hold = cell(bob, 'hold-order');
    await hold.getByRole('button', { name: 'Approve step Put the order on hold' }).waitFor();
    const card = await hold.locator('.approval-card').innerText();
    expect(card).toMatch(
      /Put the order on hold[\s\S]*Needs a second person's approval, and only applies to an order that exists\.[\s\S]*Request rendered at .* expires at [\s\S]*"UpdateItem"/,
    );

    // Before any run, the runbook lists its parameters instead of offering a form to start one.
    await bob.goto(`${harness.base}/#/runbooks/shop/order-desk`);
    await bob.getByRole('heading', { name: 'Order desk', level: 1 }).waitFor();
    await bob.getByText('starting a run needs the runner role').waitFor();
    expect(await bob.getByRole('region', { name: 'Parameters of this runbook' }).innerText()).toContain('Customer id from the ticket');
    expect(await bob.getByRole('textbox').count()).toBe(0);
    expect(await runControls(bob)).toBe(0);
  });

  it('shows the step title and prose on the Approvals page card, with the request, its times and the policy', async () => {
    await bob.goto(`${harness.base}/#/approvals`);
    const card = bob.locator('article.approval-request');
    await card.getByRole('heading', { name: 'Put the order on hold' }).waitFor();
    const text = await card.innerText();
    expect(text).toMatch(
      /Step hold-order of Order desk[\s\S]*requested by alice[\s\S]*Put the order on hold[\s\S]*Needs a second person's approval, and only applies to an order that exists\./,
    );
    expect(text).toMatch(/Request rendered at .*: it runs exactly as shown\. The request expires at /);
    expect(text).toMatch(/"UpdateItem"[\s\S]*"dynamodb:UpdateItem"/);
    // The before-image, where the server read one for the request: the order as it is now.
    if ((harness.engine.getRun(runId)!.approvals['hold-order'] as { before?: unknown }).before) {
      expect(text).toMatch(new RegExp(`Current item[\\s\\S]*${harness.table}[\\s\\S]*"sk": "ORDER#2026-01-01#0001"[\\s\\S]*"status": "PENDING"`, 'i'));
    }
    await card.getByRole('button', { name: `Approve step hold-order of run ${runId}` }).waitFor();
  });

  it('asks before completing a run with a pending approval, and completing cancels the request', async () => {
    await alice.goto(`${harness.base}/#/runs/${runId}`);
    const hold = cell(alice, 'hold-order');
    await expect.poll(() => hold.getAttribute('data-status')).toBe('waiting');
    await bob.goto(`${harness.base}/#/runs/${runId}`);
    await cell(bob, 'hold-order').getByRole('button', { name: 'Approve step Put the order on hold' }).waitFor();

    // First time: the dialog names the step; Cancel has the focus, keeps it inside, and changes nothing.
    await alice.getByRole('button', { name: 'Complete run' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Complete the run and cancel its approval requests?' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toMatch(/Put the order on hold — waiting for a decision, requested by alice/);
    expect(await alice.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    for (let i = 0; i < 3; i++) {
      await alice.keyboard.press('Tab');
      expect(await alice.evaluate(() => Boolean(document.activeElement?.closest('dialog')))).toBe(true);
    }
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(harness.engine.getRun(runId)?.status).toBe('active');
    expect(harness.engine.getRun(runId)?.approvals['hold-order'].status).toBe('pending');
    expect(await hold.getAttribute('data-status')).toBe('waiting');
    expect(await alice.locator('.run-bar .run-status').innerText()).toBe('Active');

    // Second time, confirmed: the run completes and the request is cancelled, with the reason.
    await alice.getByRole('button', { name: 'Complete run' }).click();
    await dialog.getByRole('button', { name: 'Complete and cancel requests' }).click();
    await alice.locator('.ended-banner', { hasText: 'Run completed' }).waitFor();
    expect(harness.engine.getRun(runId)?.approvals['hold-order'].status).toBe('cancelled');
    await expect.poll(() => hold.locator('.approval-box').innerText()).toMatch(/^Approval cancelled\. The run ended \(complete\) before the request was decided\./);
    expect(await hold.locator('.approval-box').innerText()).not.toContain('as soon as they decide');
    expect(await hold.getAttribute('data-status')).not.toBe('waiting');

    // bob's open page follows: no decision to make any more.
    await expect.poll(() => cell(bob, 'hold-order').locator('.approval-box').innerText(), { timeout: 10_000 }).toMatch(/^Approval cancelled\./);
    expect(await bob.getByRole('button', { name: /^Approve step/ }).count()).toBe(0);
  });

  it('raised no script errors in either browser', () => {
    expect(scriptErrors).toEqual([]);
  });
});
