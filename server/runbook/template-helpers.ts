/**
 * The fixed set of template helpers. Runbooks cannot register code: this table is the whole list,
 * the checker reads argument types from it, and docs/format.md documents every entry (a test keeps
 * the two in sync). Dates and times are UTC, written the way the sample data stores them.
 */

/** The type of a template value: what a parameter or a helper produces, what an argument needs. */
export type ValueType = 'string' | 'number' | 'integer' | 'boolean';

export interface HelperFact {
  /** for each argument in order, the types it accepts */
  args: ReadonlyArray<readonly ValueType[]>;
  /** the types any further argument accepts; without it, no further arguments */
  rest?: readonly ValueType[];
  /** at least this many arguments (default: `args.length`) */
  minArgs?: number;
  returns: ValueType;
  /** one line for docs and error messages */
  usage: string;
  fn: (now: Date, args: unknown[]) => string;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** keeps every result a four-digit-year date, which string comparison in DynamoDB relies on */
export const MAX_OFFSET = 100_000;

/** `2026-11-27T09:12:00Z`: ISO 8601 in UTC without milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function wholeNumber(helper: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new Error(`\`${helper}\` needs a whole number, got ${JSON.stringify(value)}`);
  }
  if (Math.abs(value) > MAX_OFFSET) throw new Error(`\`${helper}\` takes at most ${MAX_OFFSET}, got ${value}`);
  return value;
}

function text(helper: string, value: unknown): string {
  if (typeof value !== 'string') throw new Error(`\`${helper}\` needs a string, got ${JSON.stringify(value)}`);
  return value;
}

export const helpers: Readonly<Record<string, HelperFact>> = {
  now: {
    args: [],
    returns: 'string',
    usage: '`{{now}}` → the current time, `2026-11-27T09:12:00Z`',
    fn: (now) => isoSeconds(now),
  },
  today: {
    args: [],
    returns: 'string',
    usage: "`{{today}}` → today's date, `2026-11-27`",
    fn: (now) => isoDate(now),
  },
  daysAgo: {
    args: [['integer']],
    returns: 'string',
    usage: '`{{daysAgo days}}` → the date N days before today, `2026-11-20`',
    fn: (now, [n]) => isoDate(new Date(now.getTime() - wholeNumber('daysAgo', n) * DAY_MS)),
  },
  hoursAgo: {
    args: [['integer']],
    returns: 'string',
    usage: '`{{hoursAgo hours}}` → the time N hours before now, `2026-11-27T06:12:00Z`',
    fn: (now, [n]) => isoSeconds(new Date(now.getTime() - wholeNumber('hoursAgo', n) * HOUR_MS)),
  },
  upper: {
    args: [['string']],
    returns: 'string',
    usage: '`{{upper status}}` → the text in upper case',
    fn: (_now, [s]) => text('upper', s).toUpperCase(),
  },
  lower: {
    args: [['string']],
    returns: 'string',
    usage: '`{{lower email}}` → the text in lower case',
    fn: (_now, [s]) => text('lower', s).toLowerCase(),
  },
  concat: {
    args: [],
    rest: ['string', 'number', 'integer', 'boolean'],
    minArgs: 2,
    returns: 'string',
    usage: '`{{concat "CUSTOMER#" customerId}}` → the arguments joined, `CUSTOMER#C1001`',
    fn: (_now, args) => args.map((a) => String(a)).join(''),
  },
};

export const helperNames = Object.keys(helpers);

/** True for the names in the helper table (and nothing inherited from Object.prototype). */
export function isHelperName(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(helpers, name);
}
