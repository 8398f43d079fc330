// Authentication: tokens, the sign-in cookie, named users and roles, the trusted proxy header,
// security headers, and logs without tokens (the failed-attempt limit and the Origin rule:
// test/faults/).
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../server/http/security-headers.js';
import { fileURLToPath } from 'node:url';
import { credentialsOf, isHeld } from '../../server/aws/credentials.js';
import { bearer, cookieOf, credentialLeaks, OWNER, startTestServer, USERS, wsOpen, type TestServer } from './helpers.js';

const CLIENT_DIR = fileURLToPath(new URL('../../client', import.meta.url));

/** Every `/api` route with a method and a concrete URL (ids need not exist: auth comes first). */
const API_ROUTES: Array<[string, string]> = [
  ['GET', '/api/me'],
  ['GET', '/api/runbooks'],
  ['GET', '/api/runbooks/shop/customer'],
  ['POST', '/api/runs'],
  ['GET', '/api/runs'],
  ['GET', '/api/runs/abc123'],
  ['POST', '/api/runs/abc123/steps/read-customer/execute'],
  ['POST', '/api/runs/abc123/steps/read-customer/more'],
  ['POST', '/api/runs/abc123/steps/read-customer/approve'],
  ['POST', '/api/runs/abc123/steps/read-customer/deny'],
  ['POST', '/api/runs/abc123/complete'],
  ['GET', '/api/runs/abc123/transcript?format=md'],
  ['GET', '/api/runs/abc123/steps/read-customer/result.csv'],
  ['GET', '/api/events'],
  ['GET', '/api/no-such-route'],
  // Other spellings of the same paths reach the same routes, and the same check.
  ['GET', '/%61pi/runs'],
  ['GET', '/api/%72uns'],
  ['GET', '/api/runs/'],
  ['GET', '/api//runs'],
  ['GET', '/api/runbooks/shop%2fcustomer'],
  ['HEAD', '/api/runs'],
];

describe('authentication', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Many deliberate failures below: the failed-attempt limit has its own test.
    server = await startTestServer({ rateLimit: { max: 10_000 } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers 401 RB_ERR_AUTH_REQUIRED on every /api route without a token, and with a wrong one', async () => {
    for (const [method, url] of API_ROUTES) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789abcdef' }, { authorization: 'Basic b3duZXI6eA==' }, { cookie: 'rb_token=v1.b3duZXI.AAAA' }]) {
        const res = await server.app.inject({ method: method as 'GET', url, headers, ...(method === 'POST' ? { payload: {} } : {}) });
        expect(res.statusCode, `${method} ${url} ${JSON.stringify(headers)}`).toBe(401);
        if (method !== 'HEAD') expect(res.json().error.code).toBe('RB_ERR_AUTH_REQUIRED');
      }
    }
  });

  it('keeps unknown /api paths behind the token when the notebook is served too', async () => {
    const withClient = await startTestServer({ clientDir: CLIENT_DIR });
    try {
      for (const url of ['/api/no-such-route', '/%61pi/runs', '/api/runs/abc123/x']) {
        expect((await withClient.app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
      }
      expect((await withClient.app.inject({ method: 'GET', url: '/api/no-such-route', headers: bearer('alice') })).statusCode).toBe(404);
      // The other spelling does reach the route: with the token it answers.
      expect((await withClient.app.inject({ method: 'GET', url: '/%61pi/runs', headers: bearer('alice') })).json()).toHaveProperty('runs');
    } finally {
      await withClient.close();
    }
  });

  it('lets health through without a token', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  it('names the user of each token, with their roles', async () => {
    const me = async (who: Parameters<typeof bearer>[0]) => (await server.app.inject({ method: 'GET', url: '/api/me', headers: bearer(who) })).json();
    expect(await me('owner')).toEqual({ user: 'owner', roles: ['runner', 'approver', 'admin'] });
    expect(await me('alice')).toEqual({ user: 'alice', roles: ['runner'] });
    expect(await me('bob')).toEqual({ user: 'bob', roles: ['approver'] });
  });

  it('exchanges /?token= once for an HttpOnly SameSite=Strict cookie that does not hold the token', async () => {
    const res = await server.app.inject({ method: 'GET', url: `/?token=${USERS.alice.token}` });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^rb_token=v1\.[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(USERS.alice.token);
    const cookie = cookieOf(res.headers['set-cookie']);
    const me = await server.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
    expect(me.json()).toEqual({ user: 'alice', roles: ['runner'] });
  });

  it('refuses a wrong /?token= with a 401 page and sets no cookie', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/?token=not-the-token-0123456789' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a forged or tampered cookie and tells the browser to drop it', async () => {
    const good = cookieOf((await server.app.inject({ method: 'GET', url: `/?token=${USERS.bob.token}` })).headers['set-cookie']);
    // Same MAC, another user's name: the MAC is keyed by the user's own token.
    const [, , mac] = good.split('=')[1].split('.');
    const forged = `rb_token=v1.${Buffer.from('owner').toString('base64url')}.${mac}`;
    const res = await server.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: forged } });
    expect(res.statusCode).toBe(401);
    expect(String(res.headers['set-cookie'])).toContain('Max-Age=0');
  });

  it('refuses a runner approving, and an approver starting a run (403 RB_ERR_AUTH_FORBIDDEN)', async () => {
    const approve = await server.app.inject({ method: 'POST', url: '/api/runs/abc123/steps/read-customer/approve', headers: bearer('alice'), payload: {} });
    expect(approve.statusCode).toBe(403);
    expect(approve.json().error.code).toBe('RB_ERR_AUTH_FORBIDDEN');
    expect(approve.json().error.message).toContain('approver');
    const start = await server.app.inject({ method: 'POST', url: '/api/runs', headers: bearer('bob'), payload: { runbook: 'shop/customer', params: { customerId: 'C1001' } } });
    expect(start.statusCode).toBe(403);
    expect(start.json().error.code).toBe('RB_ERR_AUTH_FORBIDDEN');
  });

  it('sets the security headers on API answers, pages and errors', async () => {
    for (const [url, headers] of [
      ['/api/me', bearer('owner')],
      ['/api/me', {}],
      ['/', {}],
      ['/api/health', {}],
    ] as const) {
      const res = await server.app.inject({ method: 'GET', url, headers });
      expect(res.headers['content-security-policy'], url).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('DENY');
      if (url.startsWith('/api')) expect(res.headers['cache-control']).toBe('no-store');
    }
  });
});

describe('the WebSocket upgrade', () => {
  let server: TestServer;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer();
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const address = server.app.server.address() as { port: number };
    base = `ws://127.0.0.1:${address.port}/api/events`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('is refused with 401 without a token or with a wrong one', async () => {
    expect(await wsOpen(base, {})).toEqual({ opened: false, status: 401 });
    expect(await wsOpen(base, { authorization: 'Bearer wrong-token-0123456789abcdef' })).toEqual({ opened: false, status: 401 });
    expect(await wsOpen(base, { cookie: 'rb_token=v1.YWxpY2U.AAAA', origin: base.replace('ws:', 'http:').replace('/api/events', '') })).toEqual({ opened: false, status: 401 });
  });
});

describe('trusted proxy header', () => {
  it('takes a header name that differs in case as the same person: no self-approval through case', async () => {
    const server = await startTestServer({ auth: { trustedProxy: { header: 'X-Forwarded-User', proxyRoles: ['runner', 'approver'] } } });
    try {
      const as = (user: string, method: 'GET' | 'POST', url: string, payload?: object) =>
        server.app.inject({ method, url, headers: { 'x-forwarded-user': user }, ...(payload ? { payload } : {}) });
      // A users-file name arriving in another case is that user, with that user's roles and name.
      expect((await as('BOB', 'GET', '/api/me')).json()).toEqual({ user: 'bob', roles: ['approver'] });
      const started = await as('Dave', 'POST', '/api/runs', { runbook: 'shop/fix-item', params: { id: 'proxy-case', to: 'FIXED' } });
      expect(started.statusCode).toBe(201);
      const runId = started.json().run.id as string;
      expect((await as('Dave', 'POST', `/api/runs/${runId}/steps/set-state/execute`, { confirm: true })).json().error.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
      const self = await as('dave', 'POST', `/api/runs/${runId}/steps/set-state/approve`, {});
      expect(self.statusCode).toBe(403);
      expect(self.json().error.code).toBe('RB_ERR_APPROVAL_SELF');
      const other = await as('erin', 'POST', `/api/runs/${runId}/steps/set-state/approve`, {});
      expect(other.json().approval).toMatchObject({ status: 'approved', decidedBy: 'erin', requestedBy: 'Dave' });
    } finally {
      await server.close();
    }
  });

  it('takes the user from the configured header only, with users-file roles or runner', async () => {
    const server = await startTestServer({ auth: { trustedProxy: { header: 'X-Forwarded-User' } } });
    try {
      const me = async (headers: Record<string, string>) => server.app.inject({ method: 'GET', url: '/api/me', headers });
      expect((await me({ 'x-forwarded-user': 'bob' })).json()).toEqual({ user: 'bob', roles: ['approver'] });
      expect((await me({ 'x-forwarded-user': 'dave' })).json()).toEqual({ user: 'dave', roles: ['runner'] });
      expect((await me({ 'x-remote-user': 'dave' })).statusCode).toBe(401);
      expect((await me({ 'x-forwarded-user': 'not a valid name!' })).statusCode).toBe(401);
    } finally {
      await server.close();
    }
    const plain = await startTestServer();
    try {
      const res = await plain.app.inject({ method: 'GET', url: '/api/me', headers: { 'x-forwarded-user': 'bob' } });
      expect(res.statusCode).toBe(401);
    } finally {
      await plain.close();
    }
  });
});

/** A log destination that keeps every line written to it. */
function captureLog(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('never writes a session credential to the log, at trace level, through a whole run', async () => {
    const { lines, stream } = captureLog();
    const server = await startTestServer({ logger: { level: 'trace', stream } });
    try {
      const started = await server.app.inject({
        method: 'POST',
        url: '/api/runs',
        headers: bearer('alice'),
        payload: { runbook: 'shop/customer', params: { customerId: 'C1001' } },
      });
      const runId = started.json().run.id as string;
      const executed = await server.app.inject({ method: 'POST', url: `/api/runs/${runId}/steps/read-customer/execute`, headers: bearer('alice'), payload: {} });
      expect(executed.json().execution.status).toBe('succeeded');
      const secrets = server.engine
        .sessionsOf(runId)
        .filter(isHeld)
        .flatMap((s) => {
          const c = credentialsOf(s);
          return [c.accessKeyId, c.secretAccessKey, c.sessionToken ?? ''];
        });
      expect(secrets.length).toBeGreaterThanOrEqual(3);
      await server.app.inject({ method: 'POST', url: `/api/runs/${runId}/complete`, headers: bearer('alice'), payload: {} });
      await server.app.inject({ method: 'GET', url: `/api/runs/${runId}/transcript?format=json`, headers: bearer('alice') });
      const log = lines.join('');
      expect(log).toContain(`/api/runs/${runId}/steps/read-customer/execute`);
      for (const secret of secrets) expect(log).not.toContain(secret);
      expect(credentialLeaks(log)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('never writes a token, cookie or ?token= value to the log', async () => {
    const { lines, stream } = captureLog();
    const server = await startTestServer({ logger: { level: 'trace', stream } });
    try {
      const login = await server.app.inject({ method: 'GET', url: `/?token=${USERS.alice.token}` });
      const cookie = cookieOf(login.headers['set-cookie']);
      await server.app.inject({ method: 'GET', url: '/api/me', headers: bearer('owner') });
      await server.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
      await server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: 'Bearer wrong-token-0123456789abcdef' } });
      await server.app.inject({ method: 'GET', url: '/?token=wrong-token-in-the-url-0123' });
      const log = lines.join('');
      expect(log).toContain('/api/me');
      expect(log).toContain('token=[redacted]');
      for (const secret of [OWNER.token, USERS.alice.token, 'wrong-token-0123456789abcdef', 'wrong-token-in-the-url-0123', cookie.split('=')[1]]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await server.close();
    }
  });
});
