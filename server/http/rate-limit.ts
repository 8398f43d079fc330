/**
 * A small in-memory limit on failed authentication per client address: after `max` failures within
 * `windowMs` the address is refused (429) until the window ends, even with a valid token, so a
 * token cannot be guessed at network speed. Only presented-but-wrong credentials count; a request
 * without any is just a 401.
 */

export interface FailureLimiter {
  /** true while the address is locked out */
  blocked(ip: string): boolean;
  /** records one failed attempt */
  fail(ip: string): void;
}

export interface FailureLimitOptions {
  max?: number;
  windowMs?: number;
  now?: () => number;
}

// Bounds the table's memory when many addresses fail (a scan): expired entries go first.
const MAX_ENTRIES = 10_000;

/** Creates a limiter: by default 10 failures a minute. */
export function createFailureLimiter(options: FailureLimitOptions = {}): FailureLimiter {
  const max = options.max ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const table = new Map<string, { since: number; count: number }>();

  const current = (ip: string) => {
    const entry = table.get(ip);
    if (entry && now() - entry.since >= windowMs) {
      table.delete(ip);
      return undefined;
    }
    return entry;
  };

  return {
    blocked(ip) {
      const entry = current(ip);
      return entry !== undefined && entry.count >= max;
    },
    fail(ip) {
      const entry = current(ip);
      if (entry) {
        entry.count += 1;
        return;
      }
      if (table.size >= MAX_ENTRIES) {
        const t = now();
        for (const [key, e] of table) if (t - e.since >= windowMs) table.delete(key);
        if (table.size >= MAX_ENTRIES) table.delete(table.keys().next().value as string);
      }
      table.set(ip, { since: now(), count: 1 });
    },
  };
}
