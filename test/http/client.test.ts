// The notebook's files: index.html at /, the bundle and style sheets with their types, nothing else.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../server/http/security-headers.js';
import { startTestServer, type TestServer } from './helpers.js';

describe('client files', () => {
  let base: string;
  let server: TestServer;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'rb-client-'));
    const client = join(base, 'client');
    await mkdir(join(client, 'dist', 'chunks'), { recursive: true });
    await writeFile(join(client, 'index.html'), '<!doctype html><title>notebook</title><script type="module" src="/app.js"></script>');
    await writeFile(join(client, 'style.css'), 'body { color: black }');
    await writeFile(join(client, 'main.ts'), 'export const source = "not served";');
    await writeFile(join(client, 'dist', 'app.js'), 'console.log("app")');
    await writeFile(join(client, 'dist', 'app.js.map'), '{"version":3}');
    await writeFile(join(client, 'dist', 'chunks', 'part.js'), 'export {}');
    await writeFile(join(client, 'dist', '.hidden.js'), 'secret');
    await writeFile(join(base, 'secret.js'), 'outside');
    await symlink(join(base, 'secret.js'), join(client, 'dist', 'linked.js'));
    server = await startTestServer({ clientDir: client });
  });
  afterAll(async () => {
    await server.close();
    await rm(base, { recursive: true, force: true });
  });

  const get = (url: string) => server.app.inject({ method: 'GET', url });

  it("serves index.html at / without a token, with the notebook's CSP", async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<title>notebook</title>');
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  });

  it('serves the bundle from dist/ and style sheets from the client folder, with their types', async () => {
    const cases: Array<[string, string, string]> = [
      ['/app.js', 'text/javascript; charset=utf-8', 'console.log("app")'],
      ['/app.js.map', 'application/json; charset=utf-8', '{"version":3}'],
      ['/chunks/part.js', 'text/javascript; charset=utf-8', 'export {}'],
      ['/style.css', 'text/css; charset=utf-8', 'body { color: black }'],
    ];
    for (const [url, type, body] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.body).toBe(body);
    }
  });

  it('serves nothing else: sources, dot files, links out, traversal', async () => {
    for (const url of ['/main.ts', '/index.html/x', '/.hidden.js', '/linked.js', '/../secret.js', '/%2e%2e/secret.js', '/chunks/../../secret.js', '/dist/app.js', '/nothing.js']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('outside');
      expect(res.body).not.toContain('not served');
    }
  });

  it('says plainly when the notebook is not built', async () => {
    const bare = await startTestServer({ clientDir: join(base, 'missing') });
    try {
      const res = await bare.app.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('npm run build');
    } finally {
      await bare.close();
    }
  });
});
