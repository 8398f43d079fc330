// GET /api/runbooks and /api/runbooks/:id: listing with problems, ids with slashes, safe prose, and
// ids that try to leave the folder.
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, FIXTURES, startTestServer, type TestServer } from './helpers.js';

describe('runbook routes', () => {
  let server: TestServer;
  let root: string;
  let outside: string;

  beforeAll(async () => {
    // A copy of the fixtures with a link leading out of the folder, next to a secret outside it.
    const base = await mkdtemp(join(tmpdir(), 'rb-runbooks-'));
    root = join(base, 'runbooks');
    outside = join(base, 'secret.md');
    await cp(FIXTURES, root, { recursive: true });
    await writeFile(outside, '# Secret\n\nNOT-FOR-THE-API\n');
    await symlink(outside, join(root, 'escape.md'));
    await writeFile(join(root, 'shop', 'hostile.md'), '# Hostile <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))\n');
    server = await startTestServer({ runbooksDir: root });
  });
  afterAll(async () => {
    await server.close();
    await rm(join(root, '..'), { recursive: true, force: true });
  });

  const get = (url: string) => server.app.inject({ method: 'GET', url, headers: bearer('alice') });

  it('lists every runbook with title, description, tags, step count and problems', async () => {
    const res = await get('/api/runbooks');
    expect(res.statusCode).toBe(200);
    const { runbooks } = res.json<{ runbooks: Array<Record<string, unknown>> }>();
    expect(runbooks.map((r) => r.id)).toEqual(['broken', 'shop/customer', 'shop/fix-item', 'shop/hostile', 'shop/orders', 'shop/readonly-write']);
    expect(runbooks[1]).toEqual({ id: 'shop/customer', title: 'Look up a customer', description: 'Read one customer by id.', tags: ['customers', 'test'], steps: 1, problems: [] });
    const broken = runbooks[0] as { problems: Array<{ file: string; line: number; message: string }> };
    expect(broken.problems.length).toBeGreaterThan(0);
    expect(broken.problems[0]).toMatchObject({ file: 'broken.md', line: 3, column: 1 });
    expect(broken.problems[0].message).toContain('colour');
    expect(JSON.stringify(runbooks)).not.toContain('NOT-FOR-THE-API');
    expect(JSON.stringify(runbooks)).not.toContain(root);
  });

  it('returns one runbook by an id with slashes: params, access, prose as HTML and steps', async () => {
    const res = await get('/api/runbooks/shop/fix-item');
    expect(res.statusCode).toBe(200);
    const { runbook } = res.json();
    expect(runbook.id).toBe('shop/fix-item');
    expect(runbook.params.map((p: { name: string }) => p.name)).toEqual(['id', 'to']);
    expect(runbook.params[1]).toMatchObject({ name: 'to', type: 'enum', values: ['FIXED', 'BROKEN'], required: true });
    expect(runbook.access).toEqual({ duration: 900, approval: 'writes' });
    expect(runbook.problems).toEqual([]);
    const kinds = runbook.sections.map((s: { kind: string }) => s.kind);
    expect(kinds).toEqual(['prose', 'step', 'prose', 'step']);
    expect(runbook.sections[0].html).toContain("<h1>Fix an item's state</h1>");
    expect(runbook.sections[1].step).toEqual({
      name: 'read-item',
      title: 'Read it',
      language: 'dynamodb',
      source: expect.stringContaining('operation: GetItem'),
      line: expect.any(Number),
      operation: 'GetItem',
      write: false,
      needsApproval: false,
      maxItems: 1000,
    });
    expect(runbook.sections[3].step).toMatchObject({ name: 'set-state', operation: 'UpdateItem', write: true, needsApproval: true });
  });

  it('renders prose without raw HTML or script links', async () => {
    const { runbook } = (await get('/api/runbooks/shop/hostile')).json();
    const html = runbook.sections.map((s: { html?: string }) => s.html ?? '').join('');
    expect(html).not.toMatch(/<script|<img|href="javascript/i);
    expect(html).toContain('&lt;script&gt;');
  });

  it('still shows a runbook with problems, with them', async () => {
    const res = await get('/api/runbooks/broken');
    expect(res.statusCode).toBe(200);
    expect(res.json().runbook.problems[0].file).toBe('broken.md');
  });

  it('answers 404 for ids that name no runbook, and never reads outside the folder', async () => {
    const attempts = [
      '/api/runbooks/nope',
      '/api/runbooks/shop',
      '/api/runbooks/escape',
      '/api/runbooks/../secret',
      '/api/runbooks/shop/../../secret',
      '/api/runbooks/%2e%2e/secret',
      '/api/runbooks/shop%2f..%2f..%2fsecret',
      '/api/runbooks/..%5csecret',
      '/api/runbooks/%2fetc%2fpasswd',
      '/api/runbooks//etc/passwd',
      '/api/runbooks/shop%00',
      '/api/runbooks/',
    ];
    for (const url of attempts) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toMatch(/^RB_ERR_(RUNBOOK_NOT_FOUND|RUNBOOK_BAD_ID|HTTP_NOT_FOUND)$/);
      expect(res.body, url).not.toContain('NOT-FOR-THE-API');
      expect(res.body, url).not.toContain('root:');
    }
  });
});
