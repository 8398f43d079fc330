// A webhook receiver for tests: a node:http server on 127.0.0.1 and a free port that records every
// request and answers as the test says — a status, or `hold` to keep the request open until released.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** 1 for the first request of its delivery id, 2 for its first retry, … */
  attempt: number;
  /** set once the receiver has answered */
  answered?: number;
}

export type Answer = number | 'hold';

export interface Receiver {
  url(path: string): string;
  received: Received[];
  /** requests being held open */
  held(): Received[];
  /** answers every held request with `status` */
  release(status?: number): void;
  close(): Promise<void>;
}

export async function startReceiver(answer: (req: Received) => Answer): Promise<Receiver> {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const holding = new Map<Received, ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['x-runbooks-delivery'] ?? '');
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), attempt };
      received.push(r);
      const a = answer(r);
      if (a === 'hold') holding.set(r, res);
      else {
        r.answered = a;
        res.writeHead(a).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    held: () => [...holding.keys()],
    release(status = 200) {
      for (const [r, res] of holding) {
        r.answered = status;
        res.writeHead(status).end();
      }
      holding.clear();
    },
    async close() {
      for (const res of holding.values()) res.destroy();
      holding.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Checks a signature header as a receiver should: HMAC-SHA256 of the raw body, compared in constant time. */
export function verifySignature(secret: string, body: string, header: string | string[] | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const given = Buffer.from(typeof header === 'string' ? header : '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Waits until `check` holds, polling every 10 ms, at most `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 10_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
