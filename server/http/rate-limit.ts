/**
 * The failed-authentication limit. It is consulted only once a credential has proved wrong: a valid
 * token always passes, so failures caused by others — a page in the user's browser loading
 * `/?token=bad` as images, a script with an old token on the same machine — can never lock anyone
 * out. A wrong credential counts under three keys at once, chosen so that a guesser cannot get a
 * fresh allowance for free: its network (/24 for IPv4, /64 for IPv6 — one host holds all of
 * 127.0.0.0/8 or a whole /64, and a proxy's forwarded addresses cost nothing to vary), the first
 * characters of the token tried (hashed: the table holds no part of a token), and the whole server.
 * While any of its keys is over its limit, a wrong credential is answered 429 instead of 401.
 */
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

export interface FailedAttempt {
  /** the client address (the forwarded one behind a trusted proxy) */
  ip: string;
  /** the credential presented: a token, or the Authorization header when it holds no Bearer token */
  token: string;
}

export interface FailureLimiter {
  /** records a wrong credential; true when a limit is reached (answer 429), else false (answer 401) */
  fail(attempt: FailedAttempt): boolean;
}

export interface FailureLimitOptions {
  /** wrong credentials per window from one network, and per token prefix (default 10) */
  max?: number;
  /** wrong credentials per window on the whole server (default ten times `max`) */
  globalMax?: number;
  windowMs?: number;
  now?: () => number;
}

/** Characters of a token that key its prefix: few enough that a guesser varies the rest under one key. */
export const PREFIX_CHARS = 8;

// Bounds the table's memory when many networks and prefixes fail: expired entries go first. Nothing
// is counted once the global limit is reached, so a window adds at most about 2 × globalMax entries.
const MAX_ENTRIES = 10_000;

/** Creates a limiter: by default 10 failures a minute per network and per prefix, 100 in all. */
export function createFailureLimiter(options: FailureLimitOptions = {}): FailureLimiter {
  const max = options.max ?? 10;
  const globalMax = options.globalMax ?? max * 10;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const table = new Map<string, { since: number; count: number }>();

  const count = (key: string) => {
    const entry = table.get(key);
    if (entry && now() - entry.since >= windowMs) {
      table.delete(key);
      return 0;
    }
    return entry?.count ?? 0;
  };
  const add = (key: string) => {
    const entry = table.get(key);
    if (entry) {
      entry.count += 1;
      return;
    }
    if (table.size >= MAX_ENTRIES) {
      const t = now();
      for (const [k, e] of table) if (t - e.since >= windowMs) table.delete(k);
      if (table.size >= MAX_ENTRIES) table.delete(table.keys().next().value as string);
    }
    table.set(key, { since: now(), count: 1 });
  };

  return {
    fail({ ip, token }) {
      const keys: Array<[string, number]> = [
        ['*', globalMax],
        [`net:${networkOf(ip)}`, max],
        [`prefix:${createHash('sha256').update(token.slice(0, PREFIX_CHARS)).digest('base64url').slice(0, 16)}`, max],
      ];
      if (keys.some(([key, limit]) => count(key) >= limit)) return true;
      for (const [key] of keys) add(key);
      return false;
    },
  };
}

/**
 * The network an address belongs to for counting: its /24 (IPv4, IPv4-mapped IPv6 included) or its
 * /64 (IPv6), or the text itself when it is no address.
 */
export function networkOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped ? mapped[1] : ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  const bare = ip.split('%')[0];
  if (!isIPv6(bare)) return ip;
  const [head, tail] = bare.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  // `::` stands for enough zero groups to make eight; an IPv4 tail counts as two groups.
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const width = right.reduce((n, part) => n + (part.includes('.') ? 2 : 1), 0);
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - width).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
