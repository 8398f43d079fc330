/**
 * Parameter values: validated and coerced against their declarations before anything is rendered.
 * Values normally arrive as strings (form fields, `--param k=v`); API clients may send JSON-typed
 * values (a number for a number parameter). The rules are documented in docs/format.md.
 */
import { patternMatches } from './pattern.js';
import { quote } from './positions.js';
import type { ParamDecl, ParamValues } from './types.js';

/**
 * No parameter value may be longer (characters): ids, dates and statuses are far shorter. It also
 * bounds the text a pattern is matched against, before any matching.
 */
export const MAX_VALUE_LENGTH = 4096;

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
// C0 controls, DEL and C1 controls: never part of an id or a status, and they can rewrite a terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isRealDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function checkRange(decl: ParamDecl, n: number, unit = ''): string | undefined {
  if (decl.min !== undefined && n < decl.min) return `must be at least ${decl.min}${unit}`;
  if (decl.max !== undefined && n > decl.max) return `must be at most ${decl.max}${unit}`;
  return undefined;
}

function describe(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'an object';
  if (typeof raw === 'string') return quote(raw);
  return typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : typeof raw;
}

/**
 * Coerces one value against its declaration. Accepts a string, or the JSON type the parameter
 * holds (number for number and integer, boolean for boolean).
 */
export function coerceValue(decl: ParamDecl, raw: unknown): { value: string | number | boolean } | { error: string } {
  const fail = (error: string) => ({ error });
  if (typeof raw === 'number' && (decl.type === 'number' || decl.type === 'integer')) {
    if (!Number.isFinite(raw)) return fail(`must be a finite number, not ${raw}`);
    if (decl.type === 'integer' && !Number.isSafeInteger(raw)) return fail(`must be a whole number, not ${raw}`);
    const range = checkRange(decl, raw);
    return range ? fail(range) : { value: raw };
  }
  if (typeof raw === 'boolean' && decl.type === 'boolean') return { value: raw };
  if (typeof raw !== 'string') return fail(`must be ${expected(decl)}, not ${describe(raw)}`);
  if (raw.length > MAX_VALUE_LENGTH) return fail(`is ${raw.length} characters long; at most ${MAX_VALUE_LENGTH} are accepted`);
  const control = CONTROL.exec(raw);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return fail(`contains a control character (U+${code}); remove it`);
  }
  if (LONE_SURROGATE.test(raw)) return fail('contains an unpaired UTF-16 surrogate, which DynamoDB cannot store');

  switch (decl.type) {
    case 'string': {
      if (decl.pattern !== undefined && !patternMatches(decl.pattern, raw)) {
        return fail(`${quote(raw)} does not match the pattern ${decl.pattern}`);
      }
      const range = checkRange(decl, [...raw].length, ' characters long');
      return range ? fail(range) : { value: raw };
    }
    case 'integer':
    case 'number': {
      if (!(decl.type === 'integer' ? INTEGER : NUMBER).test(raw)) return fail(`must be ${expected(decl)}, not ${quote(raw)}`);
      const n = Number(raw);
      if (!Number.isFinite(n)) return fail(`${quote(raw)} is too large`);
      if (decl.type === 'integer' && !Number.isSafeInteger(n)) return fail(`${quote(raw)} is too large to be exact (at most ${Number.MAX_SAFE_INTEGER})`);
      const range = checkRange(decl, n);
      return range ? fail(range) : { value: n };
    }
    case 'boolean':
      if (raw === 'true') return { value: true };
      if (raw === 'false') return { value: false };
      return fail(`must be true or false, not ${quote(raw)}`);
    case 'enum':
      return decl.values?.includes(raw) ? { value: raw } : fail(`must be one of ${decl.values?.join(', ')}, not ${quote(raw)}`);
    case 'date': {
      const m = DATE.exec(raw);
      if (!m) return fail(`must be a date written YYYY-MM-DD, not ${quote(raw)}`);
      return isRealDate(+m[1], +m[2], +m[3]) ? { value: raw } : fail(`${quote(raw)} is not a calendar date`);
    }
    case 'datetime': {
      const m = DATETIME.exec(raw);
      if (!m) return fail(`must be an ISO 8601 date and time with a zone, like 2026-11-27T09:30:00Z, not ${quote(raw)}`);
      const [hour, minute, second, zoneHour, zoneMinute] = [m[4], m[5], m[6] ?? '0', m[7] ?? '0', m[8] ?? '0'].map(Number);
      const ok = isRealDate(+m[1], +m[2], +m[3]) && hour < 24 && minute < 60 && second < 60 && zoneHour < 24 && zoneMinute < 60;
      return ok ? { value: raw } : fail(`${quote(raw)} is not a real date and time`);
    }
  }
}

function expected(decl: ParamDecl): string {
  switch (decl.type) {
    case 'string':
    case 'enum':
    case 'date':
    case 'datetime':
      return 'a string';
    case 'number':
      return 'a number';
    case 'integer':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
  }
}

/**
 * Validates and coerces raw parameter values against a runbook's declarations. An absent value,
 * `null` or the empty string counts as not given: the default applies, or a required parameter is
 * reported missing. Names the runbook does not declare are errors too.
 */
export function coerceParams(decls: ParamDecl[], raw: Record<string, unknown>): { values: ParamValues; errors: Array<{ param: string; message: string }> } {
  const values: ParamValues = {};
  const errors: Array<{ param: string; message: string }> = [];
  const declared = new Set(decls.map((d) => d.name));
  for (const name of Object.keys(raw)) {
    if (!declared.has(name)) {
      const known = decls.length > 0 ? `this runbook declares ${decls.map((d) => d.name).join(', ')}` : 'this runbook declares no parameters';
      errors.push({ param: name, message: `unknown parameter; ${known}` });
    }
  }
  for (const decl of decls) {
    const given = Object.prototype.hasOwnProperty.call(raw, decl.name) ? raw[decl.name] : undefined;
    if (given === undefined || given === null || given === '') {
      if (decl.default !== undefined) values[decl.name] = decl.default;
      else if (decl.required) errors.push({ param: decl.name, message: `is required: give ${expected(decl)}` });
      continue;
    }
    const result = coerceValue(decl, given);
    if ('error' in result) errors.push({ param: decl.name, message: result.error });
    else values[decl.name] = result.value;
  }
  return { values, errors };
}
