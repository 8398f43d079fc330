/**
 * The Origin rule: a request signed in by cookie that changes state, and every WebSocket viewer,
 * must come from the server's own origin, scheme included; a bearer token cannot be sent by a page,
 * so it needs none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, cookieOf, startTestServer, USERS, wsOpen, type TestServer } from '../http/helpers.js';

describe('a request from another origin', () => {
  let server: TestServer;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer();
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    base = `ws://127.0.0.1:${(server.app.server.address() as { port: number }).port}/api/events`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('is refused when it changes state signed in by cookie, under another host or scheme', async () => {
    const cookie = cookieOf((await server.app.inject({ method: 'GET', url: `/?token=${USERS.alice.token}` })).headers['set-cookie']);
    const post = (origin: string) =>
      server.app.inject({
        method: 'POST',
        url: '/api/runs',
        headers: { cookie, origin, host: 'localhost:4680' },
        payload: { runbook: 'shop/customer', params: { customerId: 'C1001' } },
      });
    const foreign = await post('http://localhost:3000');
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('RB_ERR_AUTH_ORIGIN');
    // Same host and port under another scheme is another origin.
    const otherScheme = await post('https://localhost:4680');
    expect(otherScheme.statusCode).toBe(403);
    expect(otherScheme.json().error.code).toBe('RB_ERR_AUTH_ORIGIN');
    expect((await post('null')).json().error?.code).toBe('RB_ERR_AUTH_ORIGIN');
    expect((await post('http://localhost:4680')).statusCode).toBe(201);
    // Reads are harmless from anywhere the cookie goes; a bearer token cannot be forged by a page.
    expect((await server.app.inject({ method: 'GET', url: '/api/runs', headers: { cookie, origin: 'http://localhost:3000' } })).statusCode).toBe(200);
  });

  it('cannot open a WebSocket viewer, even with a valid token', async () => {
    expect(await wsOpen(base, { ...bearer('owner'), origin: 'http://evil.example' })).toEqual({ opened: false, status: 403 });
    expect(await wsOpen(base, { ...bearer('owner'), origin: base.replace('ws:', 'https:').replace('/api/events', '') })).toEqual({ opened: false, status: 403 });
  });

  it('needs an Origin when signed in by cookie; the own origin with the cookie, and a bearer token without Origin, are let in', async () => {
    const cookie = cookieOf((await server.app.inject({ method: 'GET', url: `/?token=${USERS.carol.token}` })).headers['set-cookie']);
    expect(await wsOpen(base, { cookie })).toEqual({ opened: false, status: 403 });
    const own = await wsOpen(base, { cookie, origin: base.replace('ws:', 'http:').replace('/api/events', '') });
    expect(own.opened).toBe(true);
    own.socket!.close();
    const script = await wsOpen(base, bearer('alice'));
    expect(script.opened).toBe(true);
    script.socket!.close();
  });
});
