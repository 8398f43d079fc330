/**
 * Step attributes: the object after the language in a fence's info string, written as JSON
 * (`{"name":"recent-orders"}`) or attribute style (`{ name=recent-orders maxItems=50 }`), the
 * convention Runme uses.
 */
import type { LocalProblem } from './positions.js';
import { didYouMean } from './suggest.js';

export const stepAttributes = ['name', 'maxItems', 'approval', 'values'] as const;

/** How a `dynamodb` block writes its values: plain JSON, or typed DynamoDB JSON (`{"S": "x"}`). */
export type ValueForm = 'plain' | 'typed';

export const STEP_NAME = /^[a-z0-9][a-z0-9-]*$/;
/** Step names go into STS role session names (`rb-<run>-<step>`, at most 64 characters). */
export const MAX_STEP_NAME = 40;
export const DEFAULT_MAX_ITEMS = 1000;
export const MAX_MAX_ITEMS = 100_000;

export interface StepAttributes {
  name?: string;
  maxItems?: number;
  approval?: boolean;
  /** forces the reading of the block's values; absent: detected from the values themselves */
  values?: ValueForm;
}

/** Offsets in problems are inside `text`. */
export interface AttributeResult {
  attributes: StepAttributes;
  problems: LocalProblem[];
}

type Raw = Array<{ key: string; value: unknown; offset: number }>;

function readJson(text: string, problems: LocalProblem[]): Raw {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    problems.push({
      offset: at ? Number(at[1]) : 0,
      message: `the attributes are not valid JSON (${message.replace(/ in JSON at position.*$/, '').replace(/^Unexpected/, 'unexpected')}): write \`{"name": "my-step"}\` or \`{ name=my-step }\``,
    });
    return [];
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push({ offset: 0, message: 'the attributes must be an object, like `{"name": "my-step"}`' });
    return [];
  }
  // JSON.parse gives no positions; find each key in the text for the column.
  return Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, value: v, offset: Math.max(0, text.indexOf(JSON.stringify(key))) }));
}

const ATTRIBUTE = /\s*(?:([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'{},=]+)\s*,?)/y;

function readAttributeStyle(text: string, problems: LocalProblem[]): Raw {
  const out: Raw = [];
  let pos = 1;
  const end = text.length - 1;
  while (pos < end) {
    if (/^\s*$/.test(text.slice(pos, end))) break;
    ATTRIBUTE.lastIndex = pos;
    const m = ATTRIBUTE.exec(text);
    if (!m || m.index + m[0].length > end) {
      const offset = pos + (/^\s*/.exec(text.slice(pos))?.[0].length ?? 0);
      problems.push({ offset, message: 'bad attribute syntax: write `key=value` pairs separated by spaces, like `{ name=recent-orders maxItems=50 }`' });
      return out;
    }
    const raw = m[2];
    let value: unknown = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw);
      } catch {
        problems.push({ offset: m.index + m[0].indexOf(raw), message: `${raw} is not a valid quoted value: use JSON string escapes (\\\\, \\", \\n)` });
        return out;
      }
    } else if (raw.startsWith("'")) value = raw.slice(1, -1);
    else if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (/^-?\d+$/.test(raw)) value = Number(raw);
    out.push({ key: m[1], value, offset: m.index + m[0].length - m[0].trimStart().length });
    pos = m.index + m[0].length;
  }
  return out;
}

/**
 * Parses the text after the language (`{...}` or nothing). Unknown, repeated and mistyped
 * attributes are problems; the offsets point into `text`.
 */
export function parseAttributes(text: string): AttributeResult {
  const problems: LocalProblem[] = [];
  const attributes: StepAttributes = {};
  const trimmed = text.trimEnd();
  if (trimmed.trim() === '') return { attributes, problems };
  const lead = trimmed.length - trimmed.trimStart().length;
  const body = trimmed.slice(lead);
  if (!body.startsWith('{') || !body.endsWith('}')) {
    problems.push({ offset: lead, message: 'after the language only an attribute object may follow, like `{ name=recent-orders }`' });
    return { attributes, problems };
  }
  const local: LocalProblem[] = [];
  const raw = /^\{\s*("|\})/.test(body) ? readJson(body, local) : readAttributeStyle(body, local);
  for (const p of local) problems.push({ offset: p.offset + lead, message: p.message });

  const seen = new Set<string>();
  for (const { key, value, offset } of raw) {
    const at = offset + lead;
    const fail = (message: string) => problems.push({ offset: at, message });
    if (seen.has(key)) {
      fail(`attribute \`${key}\` is given twice; keep one`);
      continue;
    }
    seen.add(key);
    switch (key) {
      case 'name':
        if (typeof value !== 'string' || !STEP_NAME.test(value) || value.length > MAX_STEP_NAME) {
          fail(`step name ${JSON.stringify(value)} is not allowed: use lower-case letters, digits and \`-\`, starting with a letter or digit, at most ${MAX_STEP_NAME} characters`);
        } else attributes.name = value;
        break;
      case 'maxItems':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_MAX_ITEMS) {
          fail(`maxItems must be a whole number from 1 to ${MAX_MAX_ITEMS}, not ${JSON.stringify(value)}`);
        } else attributes.maxItems = value;
        break;
      case 'approval':
        if (typeof value !== 'boolean') fail(`approval must be true or false, not ${JSON.stringify(value)}`);
        else attributes.approval = value;
        break;
      case 'values':
        if (value !== 'typed' && value !== 'plain') fail(`values must be \`typed\` (DynamoDB JSON, like {"S": "x"}) or \`plain\`, not ${JSON.stringify(value)}`);
        else attributes.values = value;
        break;
      default:
        fail(`unknown step attribute \`${key}\`${didYouMean(key, stepAttributes) || `; allowed: ${stepAttributes.join(', ')}`}`);
    }
  }
  return { attributes, problems };
}
