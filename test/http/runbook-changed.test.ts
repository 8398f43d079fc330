/**
 * A run keeps the runbook it was run with. After a run, its runbook file is edited — other prose,
 * and its step now a GetItem on another table — yet the run's transcripts (Markdown, JSON, HTML),
 * its runbook view and its steps still show the text it ran; the run view says the file changed.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, FIXTURES, startTestServer, type TestServer } from './helpers.js';

describe('the runbook as it was run', () => {
  let dir: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rb-changed-'));
    await cp(FIXTURES, dir, { recursive: true });
    server = await startTestServer({ runbooksDir: dir });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = (method: 'GET' | 'POST', url: string, payload?: object) => server.app.inject({ method, url, headers: bearer('alice'), ...(payload ? { payload } : {}) });

  it('shows the old source in every transcript format after the file changed', async () => {
    const runId = (await call('POST', '/api/runs', { runbook: 'shop/customer', params: { customerId: 'C1001' } })).json().run.id as string;
    expect((await call('POST', `/api/runs/${runId}/steps/read-customer/execute`, {})).json().execution.status).toBe('succeeded');
    expect((await call('GET', `/api/runs/${runId}`)).json().run.runbookChanged).toBe(false);

    const file = join(dir, 'shop', 'customer.md');
    const old = await readFile(file, 'utf8');
    await writeFile(
      file,
      old
        .replace('Read the customer record.', 'Totally different prose, written later.')
        .replace('operation: GetItem\nTableName: Customers\nKey:\n  customerId: "{{customerId}}"', 'operation: Scan\nTableName: Orders'),
    );
    await call('POST', `/api/runs/${runId}/complete`, {});

    const view = (await call('GET', `/api/runs/${runId}`)).json().run;
    expect(view.runbookChanged).toBe(true);
    const kept = (await call('GET', `/api/runs/${runId}/runbook`)).json().runbook;
    expect(JSON.stringify(kept)).toContain('Read the customer record.');
    expect(JSON.stringify(kept)).not.toContain('Totally different prose');

    for (const format of ['md', 'json', 'html'] as const) {
      const text = (await call('GET', `/api/runs/${runId}/transcript?format=${format}`)).body;
      expect(text, format).toContain('Read the customer record.');
      expect(text, format).not.toContain('Totally different prose');
      expect(text, format).not.toContain('TableName: Orders');
      expect(text, format).toMatch(/TableName: Customers/);
    }
    // The file's own view is today's.
    const today = (await call('GET', '/api/runbooks/shop/customer')).json().runbook;
    expect(JSON.stringify(today)).toContain('Totally different prose');
  });
});
