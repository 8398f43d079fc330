// The failed-authentication limit: it slows down wrong credentials by network, token prefix and in
// all, never refuses a valid one, and ignores what other pages make a browser send.
import { describe, expect, it } from 'vitest';
import { networkOf } from '../../server/http/rate-limit.js';
import { bearer, OWNER, startTestServer, type TestServer } from '../http/helpers.js';

type Inject = TestServer['app']['inject'];

/** A wrong token whose first characters differ at every call, so no two share a prefix key. */
let guesses = 0;
const guess = () => `${(++guesses).toString(36).padStart(8, 'g')}-wrong-0123456789abcdef`;

/** Sends wrong tokens from `source(i)` until one is answered 429; returns how many were sent. */
async function attemptsUntilLimited(inject: Inject, source: (i: number) => { remoteAddress?: string; headers?: Record<string, string> }, token = guess): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const { remoteAddress, headers } = source(i);
    const res = await inject({ method: 'GET', url: '/api/me', remoteAddress, headers: { authorization: `Bearer ${token()}`, ...headers } });
    if (res.statusCode === 429) {
      expect(res.json().error.code).toBe('RB_ERR_AUTH_RATE_LIMITED');
      return i + 1;
    }
    expect(res.statusCode).toBe(401);
  }
  return Infinity;
}

describe('failed-authentication limit', () => {
  it('answers wrong tokens 429 after 10 failures in a minute, and still lets valid ones through', async () => {
    let now = 1_000_000;
    const server = await startTestServer({ rateLimit: { now: () => now } });
    try {
      expect(await attemptsUntilLimited(server.app.inject.bind(server.app), () => ({}))).toBe(11);
      // The credential is checked first: the others' failures never refuse it.
      expect((await server.app.inject({ method: 'GET', url: '/api/me', headers: bearer('owner') })).statusCode).toBe(200);
      const signIn = await server.app.inject({ method: 'GET', url: `/?token=${OWNER.token}` });
      expect(signIn.statusCode).toBe(302);
      expect(String(signIn.headers['set-cookie'])).toMatch(/^rb_token=/);
      const wrongPage = await server.app.inject({ method: 'GET', url: `/?token=${guess()}` });
      expect(wrongPage.statusCode).toBe(429);
      expect(wrongPage.headers['set-cookie']).toBeUndefined();
      expect((await server.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
      now += 60_000;
      expect((await server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${guess()}` } })).statusCode).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('counts a network, not an address: sources cycling over 127.0.0.2–.250 are limited', async () => {
    const server = await startTestServer();
    try {
      const n = await attemptsUntilLimited(server.app.inject.bind(server.app), (i) => ({ remoteAddress: `127.0.0.${2 + (i % 249)}` }));
      expect(n).toBeLessThan(200);
      expect(n).toBe(11);
      // The same for an IPv6 /64, and for IPv4 written as IPv6.
      expect(await attemptsUntilLimited(server.app.inject.bind(server.app), (i) => ({ remoteAddress: `2001:db8:1:2::${(i + 1).toString(16)}` }))).toBe(11);
      expect(await attemptsUntilLimited(server.app.inject.bind(server.app), (i) => ({ remoteAddress: `::ffff:10.9.8.${i + 1}` }))).toBe(11);
      expect((await server.app.inject({ method: 'GET', url: '/api/me', remoteAddress: '127.0.0.7', headers: bearer('owner') })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('behind a trusted proxy, counts the forwarded network, a token prefix and the whole server', async () => {
    const server = await startTestServer({ auth: { trustedProxy: { header: 'X-Forwarded-User' } } });
    const inject = server.app.inject.bind(server.app);
    try {
      // The forwarded address is the client's (the proxy is on loopback): cycling it does not help.
      const n = await attemptsUntilLimited(inject, (i) => ({ headers: { 'x-forwarded-for': `127.0.0.${2 + (i % 249)}` } }));
      expect(n).toBeLessThan(200);
      // One token prefix with varying rest, from a new network each time.
      let suffix = 0;
      const samePrefix = () => `abcdefgh-${++suffix}-0123456789abcdef`;
      expect(await attemptsUntilLimited(inject, (i) => ({ headers: { 'x-forwarded-for': `10.1.${i}.1` } }), samePrefix)).toBe(11);
      // New networks and prefixes every time: the server-wide ceiling (100 a minute) stops them, having
      // counted the 10 + 10 failures above already.
      const all = await attemptsUntilLimited(inject, (i) => ({ headers: { 'x-forwarded-for': `10.2.${i}.1` } }));
      expect(all).toBe(100 - 20 + 1);
      // And still nobody is locked out.
      expect((await inject({ method: 'GET', url: '/api/me', headers: { ...bearer('alice'), 'x-forwarded-for': '10.2.3.1' } })).statusCode).toBe(200);
      expect((await inject({ method: 'GET', url: '/api/me', headers: { 'x-forwarded-user': 'bob', 'x-forwarded-for': '127.0.0.9' } })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('ignores /?token= loads by other pages: answered without looking at the token, never counted', async () => {
    const server = await startTestServer();
    try {
      const load = (token: string, site: string) =>
        server.app.inject({ method: 'GET', url: `/?token=${token}`, headers: { 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' } });
      for (let i = 0; i < 50; i++) {
        const res = await load(`bad-${i}`, i % 2 ? 'same-site' : 'cross-site');
        expect(res.statusCode).toBe(401);
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      // Not even a valid token signs the browser in from another page's <img> (login CSRF).
      expect((await load(OWNER.token, 'same-site')).headers['set-cookie']).toBeUndefined();
      // Nothing was counted: wrong tokens are still answered 401, not 429.
      expect((await server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${guess()}` } })).statusCode).toBe(401);

      // A link followed from another site gets the same page whatever the token: one click, from
      // this server's own page, signs in.
      const link = (token: string) =>
        server.app.inject({
          method: 'GET',
          url: `/?token=${encodeURIComponent(token)}`,
          headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
        });
      const good = await link(OWNER.token);
      const bad = await link('bad-"<token>&');
      expect([good.statusCode, bad.statusCode]).toEqual([200, 200]);
      expect(good.headers['set-cookie']).toBeUndefined();
      expect(good.body).toContain(`<a href="/?token=${OWNER.token}">Sign in</a>`);
      expect(bad.body).toContain('<a href="/?token=bad-%22%3Ctoken%3E%26">Sign in</a>');
      expect(bad.body.replace('bad-%22%3Ctoken%3E%26', OWNER.token)).toBe(good.body);
      const click = await server.app.inject({
        method: 'GET',
        url: `/?token=${OWNER.token}`,
        headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
      });
      expect(click.statusCode).toBe(302);
      expect(String(click.headers['set-cookie'])).toMatch(/^rb_token=/);
    } finally {
      await server.close();
    }
  });

  it('does not count wrong cookies: any page on the host can plant one', async () => {
    const server = await startTestServer();
    try {
      for (let i = 0; i < 20; i++) {
        const res = await server.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: `rb_token=v1.b3duZXI.${i}AAAA` } });
        expect(res.statusCode).toBe(401);
      }
      expect((await server.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${guess()}` } })).statusCode).toBe(401);
    } finally {
      await server.close();
    }
  });
});

describe('networkOf', () => {
  it.each([
    ['127.0.0.5', '127.0.0.0/24'],
    ['203.0.113.77', '203.0.113.0/24'],
    ['::ffff:10.1.2.3', '10.1.2.0/24'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0db8:0000:0000:ffff::1', '2001:db8:0:0::/64'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    ['not an address', 'not an address'],
  ])('%s is in %s', (ip, network) => {
    expect(networkOf(ip)).toBe(network);
  });
});
