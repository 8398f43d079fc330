/**
 * A client that sends its request slowly cannot hold a connection open: the server cuts a body
 * that has not arrived whole within the request timeout.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER, startTestServer, type TestServer } from '../http/helpers.js';

describe('a slow request body', () => {
  let server: TestServer;
  let port: number;

  beforeAll(async () => {
    server = await startTestServer({ requestTimeoutMs: 1000 });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    port = (server.app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await server.close();
  });

  it('is cut off once the request timeout passes', async () => {
    const socket = connect(port, '127.0.0.1');
    // The server ending the connection may reach this side as a reset: that is the expected outcome.
    const errors: string[] = [];
    socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${OWNER.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"runbook":`,
    );
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    // A byte now and then, never the whole body: the server must end it, not wait for ever.
    const drip = setInterval(() => socket.write(' '), 200);
    const ended = await new Promise<boolean>((resolve) => {
      socket.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 10_000);
    });
    clearInterval(drip);
    socket.destroy();
    expect(ended, `answer: ${JSON.stringify(answer)}`).toBe(true);
    expect(answer === '' || /^HTTP\/1\.1 408/.test(answer)).toBe(true);
    expect(errors.every((code) => code === 'ECONNRESET' || code === 'EPIPE')).toBe(true);
  });
});
