/**
 * Another page cannot lock the notebook's users out, in headless Chromium: a page served on another
 * 127.0.0.1 port (the same site, another origin) loads `/?token=bad-N` fifty times as images in the
 * signed-in user's browser. The user's page keeps working, their token still works from a script,
 * and nothing was counted as a failed attempt.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailability, bundleClient, CUSTOMER, launchBrowser, startHarness, USERS, type Harness } from './harness.js';

const availability = browserAvailability();
const IMAGES = 50;

/** A plain page on its own port whose images all point at the notebook's sign-in URL. */
async function startOtherSite(target: string): Promise<{ url: string; server: Server }> {
  const images = Array.from({ length: IMAGES }, (_, i) => `<img src="${target}/?token=bad-${i}" alt="">`).join('\n');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html><head><title>Other site</title></head><body>\n${images}\n</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, server };
}

describe.runIf(availability.available || availability.required)('sign-in requests from other pages', { timeout: 60_000 }, () => {
  let browser: Browser;
  let harness: Harness;
  let other: { url: string; server: Server };
  let context: BrowserContext;
  let alice: Page;

  beforeAll(async () => {
    if (!availability.available) throw new Error(availability.message);
    bundleClient();
    [harness, browser] = await Promise.all([startHarness(), launchBrowser()]);
    other = await startOtherSite(harness.base);
    context = await browser.newContext();
    alice = await context.newPage();
    await alice.goto(`${harness.base}/?token=${USERS.alice.token}`);
    await alice.getByRole('link', { name: 'Order desk' }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await new Promise((resolve) => other?.server.close(resolve));
    await harness?.stop();
  });

  it('leaves the signed-in user, their token and the failure limit untouched', async () => {
    // The other site opens in the same browser as alice's notebook, as a second tab.
    const tab = await context.newPage();
    // Seen at the server's socket (the browser hides answers another origin may not read).
    const answers: number[] = [];
    const watch = (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/?token=bad-')) res.on('finish', () => answers.push(res.statusCode));
    };
    harness.app.server.on('request', watch);
    try {
      await tab.goto(other.url, { waitUntil: 'load' });
      // Each reached the server, which answered without looking at the token.
      await expect.poll(() => answers.length).toBe(IMAGES);
      expect(new Set(answers)).toEqual(new Set([401]));
    } finally {
      harness.app.server.off('request', watch);
    }
    await tab.close();

    // Alice's page goes on working: a fresh load, a runbook, the form's checks (the bundled RE2 matcher).
    await alice.reload();
    await alice.getByRole('link', { name: 'Order desk' }).click();
    await alice.getByLabel('customerId').fill('X12');
    await alice.getByLabel('customerId').press('Tab');
    await alice.getByText('"X12" does not match the pattern ^C[0-9]{4,}$.').waitFor();
    await alice.getByLabel('customerId').fill(CUSTOMER);
    await alice.getByLabel('customerId').press('Tab');
    await expect.poll(() => alice.getByText('does not match the pattern').count()).toBe(0);
    expect(await alice.evaluate(async () => (await fetch('/api/me')).status)).toBe(200);

    // Her token still works from a script, and a wrong one is a plain 401: none of the fifty counted.
    const me = await fetch(`${harness.base}/api/me`, { headers: { authorization: `Bearer ${USERS.alice.token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: 'alice' });
    const wrong = await fetch(`${harness.base}/api/me`, { headers: { authorization: 'Bearer bad-token-0123456789abcdef' } });
    expect(wrong.status).toBe(401);

    // And signing in afresh, in a new browser profile, still works.
    const fresh = await browser.newContext();
    try {
      const page = await fresh.newPage();
      await page.goto(`${harness.base}/?token=${USERS.bob.token}`);
      await page.getByRole('link', { name: /^Approvals/ }).waitFor();
      expect(new URL(page.url()).search).toBe('');
    } finally {
      await fresh.close();
    }
  });
});
