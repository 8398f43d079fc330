/**
 * The live event stream (`WS /api/events`): every run event the server emits, as JSON text frames.
 * The connection is re-opened with a growing delay when it drops; whoever shows a run refetches it
 * on reconnect, since events sent while disconnected are lost.
 */
import type { RunEvent } from './api-types.js';

export type LiveState = 'connecting' | 'open' | 'closed';

const MAX_DELAY_MS = 10_000;

export class LiveEvents {
  state: LiveState = 'connecting';
  private socket?: WebSocket;
  private delay = 500;
  private everOpened = false;
  private stopped = false;
  private retry?: number;
  private readonly eventListeners = new Set<(event: RunEvent) => void>();
  private readonly stateListeners = new Set<(state: LiveState, reconnected: boolean) => void>();

  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: RunEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Subscribes to connection changes; `reconnected` is true when an open follows a drop. */
  onState(listener: (state: LiveState, reconnected: boolean) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.socket?.close();
  }

  private connect(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.setState('connecting', false);
    socket.addEventListener('open', () => {
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.delay = 500;
      this.setState('open', reconnected);
    });
    socket.addEventListener('message', (message) => {
      if (typeof message.data !== 'string') return;
      let event: RunEvent;
      try {
        event = JSON.parse(message.data) as RunEvent;
      } catch {
        return;
      }
      for (const listener of this.eventListeners) listener(event);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.setState('closed', false);
      if (this.stopped) return;
      this.retry = window.setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(MAX_DELAY_MS, this.delay * 2);
    });
  }

  private setState(state: LiveState, reconnected: boolean): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state, reconnected);
  }
}
