/** Pure formatting of values for people: cells, durations, time left, capacity, timestamps. */

const PLAIN = /^[^\s,:{}[\]"'#][^,:{}[\]"]*$/;

/**
 * A compact one-line form of an attribute value: strings as they are, maps as `{city: London}`,
 * lists as `[1, 2]`; strings inside maps and lists are quoted only where they would be ambiguous.
 */
export function formatValue(value: unknown, nested = false): string {
  if (value === null) return 'null';
  if (value === undefined) return '';
  if (typeof value === 'string') {
    if (!nested) return value;
    return PLAIN.test(value) && value.trim() === value ? value : JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v, true)).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${PLAIN.test(k) ? k : JSON.stringify(k)}: ${formatValue(v, true)}`).join(', ')}}`;
  }
  // Nothing JSON holds: a function or a symbol.
  return typeof value;
}

/** The kind of a value, for styling a cell (numbers right-aligned, maps and lists muted). */
export function valueKind(value: unknown): 'string' | 'number' | 'boolean' | 'null' | 'nested' | 'absent' {
  if (value === undefined) return 'absent';
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'object') return 'nested';
  return 'string';
}

/** `85 ms`, `1.2 s`, `2 min 05 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

export interface TimeLeft {
  /** whole seconds until expiry, 0 once expired */
  seconds: number;
  expired: boolean;
  /** `14:05 left`, `1 h 02 min left`, `expired` */
  text: string;
}

/** Time left until an ISO 8601 expiry, counted from `now`. */
export function timeLeft(expiration: string, now: number): TimeLeft {
  const at = Date.parse(expiration);
  if (Number.isNaN(at)) return { seconds: 0, expired: true, text: 'expiry unknown' };
  const seconds = Math.max(0, Math.floor((at - now) / 1000));
  if (seconds === 0) return { seconds, expired: true, text: 'expired' };
  if (seconds >= 3600) {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    return { seconds, expired: false, text: `${h} h ${String(m).padStart(2, '0')} min left` };
  }
  const m = Math.floor(seconds / 60);
  return { seconds, expired: false, text: `${m}:${String(seconds % 60).padStart(2, '0')} left` };
}

interface Capacity {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

/**
 * Consumed capacity as DynamoDB reports it (one object, or a list for batches, transactions and
 * several pages), summed: `1.5 RCU`, `2 WCU`, `3 capacity units`. Empty when nothing was reported.
 */
export function formatCapacity(consumed: unknown): string {
  const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).filter((c): c is Capacity => typeof c === 'object' && c !== null);
  if (list.length === 0) return '';
  let read = 0;
  let write = 0;
  let total = 0;
  for (const c of list) {
    read += num(c.ReadCapacityUnits);
    write += num(c.WriteCapacityUnits);
    total += num(c.CapacityUnits);
  }
  const parts: string[] = [];
  if (read > 0) parts.push(`${round(read)} RCU`);
  if (write > 0) parts.push(`${round(write)} WCU`);
  if (parts.length === 0) parts.push(`${round(total)} capacity unit${total === 1 ? '' : 's'}`);
  return parts.join(' + ');
}

function num(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** A timestamp in the reader's time zone: `2026-11-27 21:30:05`. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `1 item`, `3 items`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : many}`;
}
