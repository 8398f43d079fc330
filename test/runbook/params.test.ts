/** Parameter coercion: strings (and JSON-typed values) in, typed values out, every rule of §2.1. */
import { describe, expect, it } from 'vitest';
import { coerceParams, MAX_VALUE_LENGTH } from '../../server/runbook/params.js';
import type { ParamDecl } from '../../server/runbook/types.js';

const decl = (d: Partial<ParamDecl> & Pick<ParamDecl, 'name' | 'type'>): ParamDecl => ({ required: true, line: 1, ...d });
const one = (d: ParamDecl, raw: unknown) => coerceParams([d], { [d.name]: raw });

describe('coerceParams', () => {
  it('coerces each type from its string form', () => {
    const decls = [
      decl({ name: 's', type: 'string' }),
      decl({ name: 'n', type: 'number' }),
      decl({ name: 'i', type: 'integer' }),
      decl({ name: 'b', type: 'boolean' }),
      decl({ name: 'e', type: 'enum', values: ['PENDING', 'SHIPPED'] }),
      decl({ name: 'd', type: 'date' }),
      decl({ name: 't', type: 'datetime' }),
    ];
    const { values, errors } = coerceParams(decls, {
      s: "O'Brien & <Co>",
      n: '-12.5e2',
      i: '42',
      b: 'false',
      e: 'SHIPPED',
      d: '2024-02-29',
      t: '2026-11-27T09:30:00.123+01:00',
    });
    expect(errors).toEqual([]);
    expect(values).toEqual({ s: "O'Brien & <Co>", n: -1250, i: 42, b: false, e: 'SHIPPED', d: '2024-02-29', t: '2026-11-27T09:30:00.123+01:00' });
  });

  it('accepts JSON-typed values from API clients', () => {
    const { values, errors } = coerceParams([decl({ name: 'n', type: 'number' }), decl({ name: 'i', type: 'integer' }), decl({ name: 'b', type: 'boolean' })], {
      n: 1.5,
      i: 7,
      b: true,
    });
    expect(errors).toEqual([]);
    expect(values).toEqual({ n: 1.5, i: 7, b: true });
  });

  it('applies defaults for absent, null and empty values, and reports missing required ones', () => {
    const decls = [
      decl({ name: 'days', type: 'integer', required: false, default: 7 }),
      decl({ name: 'status', type: 'enum', values: ['A'], required: false, default: 'A' }),
      decl({ name: 'customerId', type: 'string' }),
      decl({ name: 'note', type: 'string', required: false }),
    ];
    const { values, errors } = coerceParams(decls, { days: '', status: null });
    expect(values).toEqual({ days: 7, status: 'A' });
    expect(errors).toEqual([{ param: 'customerId', message: 'is required: give a string' }]);
  });

  it('names unknown parameters, including prototype names', () => {
    const raw = JSON.parse('{"customerId":"C1001","__proto__":{"polluted":true},"constructor":"x"}');
    const { values, errors } = coerceParams([decl({ name: 'customerId', type: 'string' })], raw);
    expect(values).toEqual({ customerId: 'C1001' });
    expect(errors.map((e) => e.param).sort()).toEqual(['__proto__', 'constructor']);
    expect(errors[0].message).toBe('unknown parameter; this runbook declares customerId');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
  });

  it.each([
    [{ type: 'integer' }, '1.5', 'must be a whole number, not "1.5"'],
    [{ type: 'integer' }, '0x10', 'must be a whole number, not "0x10"'],
    [{ type: 'integer' }, ' 5', 'must be a whole number, not " 5"'],
    [{ type: 'integer' }, '9007199254740993', '"9007199254740993" is too large to be exact (at most 9007199254740991)'],
    [{ type: 'integer' }, 2.5, 'must be a whole number, not 2.5'],
    [{ type: 'integer', min: 1, max: 90 }, '0', 'must be at least 1'],
    [{ type: 'integer', min: 1, max: 90 }, '91', 'must be at most 90'],
    [{ type: 'number' }, 'Infinity', 'must be a number, not "Infinity"'],
    [{ type: 'number' }, 'NaN', 'must be a number, not "NaN"'],
    [{ type: 'number' }, Number.POSITIVE_INFINITY, 'must be a finite number, not Infinity'],
    [{ type: 'number' }, '1e999', '"1e999" is too large'],
    [{ type: 'boolean' }, 'yes', 'must be true or false, not "yes"'],
    [{ type: 'boolean' }, 'TRUE', 'must be true or false, not "TRUE"'],
    [{ type: 'boolean' }, 1, 'must be true or false, not 1'],
    [{ type: 'enum', values: ['PENDING', 'SHIPPED'] }, 'pending', 'must be one of PENDING, SHIPPED, not "pending"'],
    [{ type: 'date' }, '2025-02-29', '"2025-02-29" is not a calendar date'],
    [{ type: 'date' }, '27/11/2026', 'must be a date written YYYY-MM-DD, not "27/11/2026"'],
    [{ type: 'datetime' }, '2026-11-27T09:30:00', 'must be an ISO 8601 date and time with a zone, like 2026-11-27T09:30:00Z, not "2026-11-27T09:30:00"'],
    [{ type: 'datetime' }, '2026-11-27T24:00:00Z', '"2026-11-27T24:00:00Z" is not a real date and time'],
    [{ type: 'string', pattern: '^C[0-9]{4,}$' }, 'C12', '"C12" does not match the pattern ^C[0-9]{4,}$'],
    [{ type: 'string', pattern: 'C[0-9]{4,}' }, 'xC1001x', '"xC1001x" does not match the pattern C[0-9]{4,}'],
    [{ type: 'string', min: 3 }, 'ab', 'must be at least 3 characters long'],
    [{ type: 'string', max: 3 }, 'abcd', 'must be at most 3 characters long'],
    [{ type: 'string' }, 'C1001\u0000', 'contains a control character (U+0000); remove it'],
    [{ type: 'string' }, 'a\u001b[31mred', 'contains a control character (U+001B); remove it'],
    [{ type: 'string' }, 'line\nbreak', 'contains a control character (U+000A); remove it'],
    [{ type: 'string' }, 'bad \ud800 surrogate', 'contains an unpaired UTF-16 surrogate, which DynamoDB cannot store'],
    [{ type: 'string' }, 42, 'must be a string, not 42'],
    [{ type: 'string' }, { toString: 'x' }, 'must be a string, not an object'],
    [{ type: 'string' }, ['C1001'], 'must be a string, not a list'],
  ] as Array<[Partial<ParamDecl>, unknown, string]>)('rejects %j = %j', (d, raw, message) => {
    const { values, errors } = one(decl({ name: 'p', type: 'string', ...d }), raw);
    expect(errors).toEqual([{ param: 'p', message }]);
    expect(values).toEqual({});
  });

  it('refuses very long values before matching them', () => {
    const { errors } = one(decl({ name: 'p', type: 'string', pattern: '(a+)+$' }), 'a'.repeat(MAX_VALUE_LENGTH + 1));
    expect(errors).toEqual([{ param: 'p', message: `is ${MAX_VALUE_LENGTH + 1} characters long; at most ${MAX_VALUE_LENGTH} are accepted` }]);
  });

  it('matches patterns with RE2: the whole value, in linear time', () => {
    const evil = decl({ name: 'p', type: 'string', pattern: '(a+)+' });
    // A backtracking engine takes seconds on the first and for ever on the second.
    for (const value of ['a'.repeat(30) + '!', 'a'.repeat(MAX_VALUE_LENGTH - 1) + '!']) {
      const { errors } = one(evil, value);
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toMatch(/ does not match the pattern \(a\+\)\+$/);
    }
    expect(one(evil, 'a'.repeat(MAX_VALUE_LENGTH)).errors).toEqual([]);
    // Alternation and inline flags as RE2 reads them; the whole value must match, not a prefix.
    expect(one(decl({ name: 'p', type: 'string', pattern: 'a|ab' }), 'ab').errors).toEqual([]);
    expect(one(decl({ name: 'p', type: 'string', pattern: '(?i)c[0-9]+' }), 'C1001').errors).toEqual([]);
    expect(one(decl({ name: 'p', type: 'string', pattern: '\\p{Lu}[a-z]+' }), 'Élan').errors).toEqual([]);
  });

  it('keeps hostile but printable strings exactly as given', () => {
    const hostile = ["' OR 1=1 --", '{{constructor}}', '__proto__', '"; DROP TABLE Orders; --', '${process.env}', '\u202eevil'];
    for (const value of hostile) {
      expect(one(decl({ name: 'p', type: 'string' }), value)).toEqual({ values: { p: value }, errors: [] });
    }
  });

  it('reports every bad value at once', () => {
    const { errors } = coerceParams([decl({ name: 'a', type: 'integer' }), decl({ name: 'b', type: 'date' })], { a: 'x', b: 'y', c: 'z' });
    expect(errors.map((e) => e.param)).toEqual(['c', 'a', 'b']);
  });
});
