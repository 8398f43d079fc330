/**
 * Keeps DynamoDB Local alive under a running sandbox. Its death is seen through the watchdog's exit
 * (the watchdog ends with the JVM) and, for a JVM that hangs without dying, through a cheap
 * ListTables probe every few seconds. A dead one is restarted on the same port, so the gateway keeps
 * forwarding to the same endpoint, and set up again (seed and store tables). Restarts are bounded:
 * a JVM that keeps dying is left down, and health says so, rather than looping forever.
 */
import { answers, startDynamoLocal, type DynamoLocal } from './dynamo-local.js';

export type DynamoLocalState = 'up' | 'down' | 'restarting';

export interface SandboxHealth {
  dynamoLocal: DynamoLocalState;
  restarts: number;
  /** ISO time of the last successful restart */
  lastRestart?: string;
}

export type SupervisionEvent =
  | { type: 'died'; reason: string; willRestart: boolean }
  | { type: 'restarted'; ms: number; restarts: number }
  | { type: 'restart-failed'; message: string }
  | { type: 'gave-up'; restarts: number; windowMs: number };

export interface SupervisorOptions {
  dataDir?: string;
  /** recreates what the sandbox creates at start (seed and store tables) on a fresh DynamoDB Local */
  prepare(local: DynamoLocal): Promise<void>;
  /** at most this many restarts in `windowMs` (default 5 in 10 minutes), then it stays down */
  maxRestarts?: number;
  windowMs?: number;
  /** ms between probes (default 3 s); two failed probes in a row count as a death */
  probeMs?: number;
}

export interface Supervisor {
  current(): DynamoLocal;
  health(): SandboxHealth;
  onEvent(listener: (event: SupervisionEvent) => void): () => void;
  /** stops supervising and DynamoDB Local; idempotent */
  stop(): Promise<void>;
}

export function superviseDynamoLocal(first: DynamoLocal, options: SupervisorOptions): Supervisor {
  const maxRestarts = options.maxRestarts ?? 5;
  const windowMs = options.windowMs ?? 10 * 60_000;
  const listeners = new Set<(event: SupervisionEvent) => void>();
  const restartTimes: number[] = [];
  let local = first;
  let state: DynamoLocalState = 'up';
  let restarts = 0;
  let lastRestart: string | undefined;
  let stopped = false;
  let failedProbes = 0;
  let probing = false;

  const emit = (event: SupervisionEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // a listener's failure must not stop supervision
      }
    }
  };

  const watch = (instance: DynamoLocal): void => {
    void instance.exited.then((exit) => {
      if (stopped || exit.stopped || instance !== local || state !== 'up') return;
      void recover(exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`);
    });
  };

  const recover = async (reason: string): Promise<void> => {
    const dead = local;
    const now = Date.now();
    while (restartTimes.length && restartTimes[0] <= now - windowMs) restartTimes.shift();
    const willRestart = restartTimes.length < maxRestarts;
    state = willRestart ? 'restarting' : 'down';
    emit({ type: 'died', reason, willRestart });
    await dead.stop(); // a hung JVM still holds the port; a dead one makes this a no-op
    if (!willRestart) {
      emit({ type: 'gave-up', restarts: restartTimes.length, windowMs });
      return;
    }
    while (!stopped) {
      restartTimes.push(Date.now());
      const started = performance.now();
      try {
        const next = await startDynamoLocal({ dataDir: options.dataDir, port: dead.port });
        if (stopped) return void (await next.stop());
        local = next;
        try {
          await options.prepare(next);
        } catch (err) {
          await next.stop();
          throw err;
        }
        restarts++;
        lastRestart = new Date().toISOString();
        state = 'up';
        failedProbes = 0;
        watch(next);
        emit({ type: 'restarted', ms: performance.now() - started, restarts });
        return;
      } catch (err) {
        emit({ type: 'restart-failed', message: (err as Error).message });
        if (restartTimes.length >= maxRestarts) {
          state = 'down';
          emit({ type: 'gave-up', restarts: restartTimes.length, windowMs });
          return;
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };

  const probe = setInterval(() => {
    if (stopped || probing || state !== 'up') return;
    probing = true;
    const instance = local;
    void answers(instance.port)
      .then((ok) => {
        if (instance !== local || state !== 'up' || stopped) return;
        failedProbes = ok ? 0 : failedProbes + 1;
        if (failedProbes >= 2) void recover('stopped answering');
      })
      .finally(() => (probing = false));
  }, options.probeMs ?? 3_000);
  probe.unref();
  watch(first);

  let stopping: Promise<void> | undefined;
  return {
    current: () => local,
    health: () => ({ dynamoLocal: state, restarts, ...(lastRestart ? { lastRestart } : {}) }),
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        clearInterval(probe);
        await local.stop();
      })()),
  };
}

/** The line `runbooks serve` and `runbooks sandbox` log for an event. */
export function describeSupervisionEvent(event: SupervisionEvent): string {
  switch (event.type) {
    case 'died':
      return event.willRestart
        ? `DynamoDB Local died (${event.reason}); restarting; in-memory tables are lost and reseeded from sandbox.yaml`
        : `DynamoDB Local died (${event.reason}); not restarting: too many restarts, it stays down (restart the server)`;
    case 'restarted':
      return `DynamoDB Local restarted in ${(event.ms / 1000).toFixed(1)} s (restart ${event.restarts})`;
    case 'restart-failed':
      return `DynamoDB Local could not restart: ${event.message}`;
    case 'gave-up':
      return `DynamoDB Local stays down: ${event.restarts} restarts in ${Math.round(event.windowMs / 60_000)} minutes; restart the server`;
  }
}
