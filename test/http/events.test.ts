// WS /api/events with a real `ws` client on a listening server: the events of a run, in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunEvent } from '../../server/runs/types.js';
import { eventually } from '../helpers/eventually.js';
import { bearer, credentialLeaks, ensureItemsTable, putItem, startTestServer, unique, USERS, type TestServer } from './helpers.js';

/** A connected client that records every frame. */
async function connect(url: string, headers: Record<string, string>): Promise<{ socket: WebSocket; events: RunEvent[]; frames: string[] }> {
  const socket = new WebSocket(url, { headers });
  const events: RunEvent[] = [];
  const frames: string[] = [];
  socket.on('message', (data, isBinary) => {
    // Recorded, not asserted here: an assertion in a listener fails as an unhandled error, not as the test.
    if (isBinary) frames.push('<binary frame>');
    frames.push(String(data));
    events.push(JSON.parse(String(data)) as RunEvent);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, events, frames };
}

const until = (check: () => boolean, what: string) => eventually(check, 10_000, what);

describe('WS /api/events', () => {
  let server: TestServer;
  let url: string;
  let origin: string;
  beforeAll(async () => {
    await ensureItemsTable();
    server = await startTestServer();
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.app.server.address() as { port: number };
    url = `ws://127.0.0.1:${port}/api/events`;
    origin = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('sends every event of a run, in order, to each authenticated client', async () => {
    const itemId = unique('ws');
    await putItem({ id: itemId, state: 'BROKEN' });
    const script = await connect(url, bearer('bob'));
    // A browser: signed in by cookie, from the server's own origin.
    const login = await server.app.inject({ method: 'GET', url: `/?token=${USERS.carol.token}` });
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    const browser = await connect(url, { cookie, origin });

    const api = (who: 'alice' | 'bob', path: string, payload?: unknown) =>
      server.app.inject({ method: 'POST', url: path, headers: bearer(who), ...(payload !== undefined ? { payload: payload as object } : {}) });
    const run = (await api('alice', '/api/runs', { runbook: 'shop/fix-item', params: { id: itemId, to: 'FIXED' } })).json().run;
    await api('alice', `/api/runs/${run.id}/steps/read-item/execute`);
    await api('alice', `/api/runs/${run.id}/steps/set-state/execute`, { confirm: true });
    await api('bob', `/api/runs/${run.id}/steps/set-state/approve`, { comment: 'go' });
    await api('alice', `/api/runs/${run.id}/steps/set-state/execute`, { confirm: true });
    await api('alice', `/api/runs/${run.id}/complete`);

    const expected = [
      'run.started',
      'step.started',
      'session.issued',
      'step.succeeded',
      'approval.requested',
      'approval.decided',
      'approval.updated',
      'step.started',
      'session.issued',
      'step.succeeded',
      'session.revoked',
      'run.completed',
    ];
    const ofRun = (events: RunEvent[]) => events.filter((e) => ('runId' in e ? e.runId : e.run.id) === run.id);
    for (const client of [script, browser]) {
      await until(() => ofRun(client.events).length >= expected.length, "the run's events");
      const events = ofRun(client.events);
      expect(events.map((e) => e.type)).toEqual(expected);
      expect(events[0]).toMatchObject({ type: 'run.started', run: { id: run.id, user: 'alice' } });
      expect(events[1]).toMatchObject({ type: 'step.started', step: 'read-item', n: 1, user: 'alice' });
      expect(events[2]).toMatchObject({ type: 'session.issued', step: 'read-item' });
      expect((events[2] as Extract<RunEvent, { type: 'session.issued' }>).session.assumedRoleId).toContain(`:rb-${run.id}-`);
      expect(events[3]).toMatchObject({ type: 'step.succeeded', execution: { items: [{ id: itemId, state: 'BROKEN' }] } });
      expect(events[5]).toMatchObject({ type: 'approval.decided', approval: { status: 'approved', decidedBy: 'bob', comment: 'go' } });
      expect(events[6]).toMatchObject({ type: 'approval.updated', approval: { status: 'used', usedBy: 'alice', decidedBy: 'bob' } });
      expect(events[9]).toMatchObject({ type: 'step.succeeded', execution: { step: 'set-state', attributes: { state: 'FIXED' } } });
      expect(events[10]).toMatchObject({ type: 'session.revoked', revocation: { sessions: expect.any(Number) } });
      expect(events[11]).toMatchObject({ type: 'run.completed', run: { status: 'completed' } });
      expect(credentialLeaks(client.frames.join('\n'))).toEqual([]);
      expect(client.frames).not.toContain('<binary frame>');
    }
    script.socket.close();
    browser.socket.close();
  });

  it('serialises an event once for every socket, and not at all when nobody listens', async () => {
    const own = await startTestServer();
    try {
      await own.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = own.app.server.address() as { port: number };
      let serialised = 0;
      const probe = (n: number) =>
        ({
          type: 'step.started',
          runId: 'probe',
          step: 'probe',
          n,
          user: 'alice',
          toJSON() {
            serialised += 1;
            return { type: 'step.started', runId: 'probe', step: 'probe', n, user: 'alice' };
          },
        }) as RunEvent;
      own.engine.events.emit('event', probe(1));
      expect(serialised).toBe(0);
      const clients = [await connect(`ws://127.0.0.1:${port}/api/events`, bearer('alice')), await connect(`ws://127.0.0.1:${port}/api/events`, bearer('bob'))];
      own.engine.events.emit('event', probe(2));
      expect(serialised).toBe(1);
      for (const client of clients) {
        await until(() => client.events.length === 1, 'the probe event');
        expect(client.events[0]).toEqual({ type: 'step.started', runId: 'probe', step: 'probe', n: 2, user: 'alice' });
        client.socket.close();
      }
    } finally {
      await own.close();
    }
  });

  it('closes the sockets when the server closes', async () => {
    const extra = await startTestServer();
    await extra.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = extra.app.server.address() as { port: number };
    const client = await connect(`ws://127.0.0.1:${port}/api/events`, bearer('alice'));
    const closed = new Promise<number>((resolve) => client.socket.once('close', (code) => resolve(code)));
    await extra.close();
    // A close frame from the server as it stopped (1005: sent without a status), not a dropped
    // connection (1006), which is what a socket left open when the process exits would show.
    expect(await closed).toBe(1005);
  });
});
