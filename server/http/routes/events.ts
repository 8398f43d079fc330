/**
 * `WS /api/events`: every engine event, as one JSON text frame, to every authenticated socket.
 * Events carry items only as a run's state does: an execution its first page (at most 100 items and
 * about 48 KB, `firstPage` in ../../runs/store.ts), and a whole run, in `run.started` and
 * `run.completed`, that first page on each step's last execution only.
 * Scope: in this version every user may see every run (the same as `GET /api/runs`); `mayView` is
 * the one place to narrow that. The client sends nothing; after (re)connecting it refetches the run
 * it shows, so a dropped frame or connection loses nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { RunEngine } from '../../runs/engine.js';
import type { RunEvent } from '../../runs/types.js';
import type { Principal } from '../auth.js';
import { sendError } from '../error-handler.js';
import { principalOf } from '../guard.js';

// A client that lets this much pile up is not reading: close it rather than hold memory for it.
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const PING_INTERVAL_MS = 30_000;

/** True when the user may see the run the event is about. */
export function mayView(_principal: Principal, _event: RunEvent): boolean {
  return true;
}

export function eventRoutes(app: FastifyInstance, options: { engine: RunEngine }): void {
  const clients = new Map<WebSocket, { principal: Principal; alive: boolean }>();

  const onEvent = (event: RunEvent) => {
    // Serialised once for every socket, and only when one takes it: with nobody listening, an event
    // costs nothing here (a run's whole state, in `run.completed`, is not small).
    let frame: string | undefined;
    for (const [socket, client] of clients) {
      if (socket.readyState !== socket.OPEN || !mayView(client.principal, event)) continue;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.terminate();
        continue;
      }
      frame ??= JSON.stringify(event);
      socket.send(frame);
    }
  };
  options.engine.events.on('event', onEvent);

  // Connections that vanished without a close frame (a laptop lid) are found by an unanswered ping.
  const heartbeat = setInterval(() => {
    for (const [socket, client] of clients) {
      if (!client.alive) {
        socket.terminate();
        continue;
      }
      client.alive = false;
      socket.ping();
    }
  }, PING_INTERVAL_MS);
  heartbeat.unref();

  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    options.engine.events.off('event', onEvent);
  });

  app.route({
    method: 'GET',
    url: '/api/events',
    handler: async (_request, reply) => sendError(reply, 'RB_ERR_HTTP_BAD_REQUEST', '/api/events is a WebSocket: connect with `Upgrade: websocket`.'),
    wsHandler: (socket, request) => {
      const client = { principal: principalOf(request), alive: true };
      clients.set(socket, client);
      socket.on('pong', () => {
        client.alive = true;
      });
      socket.on('close', () => clients.delete(socket));
      socket.on('error', () => clients.delete(socket));
    },
  });
}
