import { describe, expect, it } from 'vitest';
import type { ParamDecl } from '../../server/runbook/types.js';
import { checkParams, paramHint, paramMessage } from '../../client/param-check.js';

const decls: ParamDecl[] = [
  { name: 'customerId', type: 'string', pattern: '^C[0-9]{4,}$', required: true, line: 3 },
  { name: 'days', type: 'integer', min: 1, max: 90, default: 7, required: false, line: 6 },
  { name: 'status', type: 'enum', values: ['PENDING', 'SHIPPED'], required: true, line: 9 },
  { name: 'since', type: 'date', required: false, line: 11 },
];

describe("checkParams (the server's rules, in the form)", () => {
  it('accepts valid values and empty optional ones', () => {
    expect(checkParams(decls, { customerId: 'C1001', days: '', status: 'PENDING', since: '' })).toEqual(new Map());
  });

  it('names each bad field with a sentence about it', () => {
    const errors = checkParams(decls, { customerId: 'X1', days: '120', status: '', since: '2026-02-30' });
    expect([...errors.keys()].sort()).toEqual(['customerId', 'days', 'since', 'status']);
    expect(errors.get('customerId')).toBe('"X1" does not match the pattern ^C[0-9]{4,}$.');
    expect(errors.get('days')).toMatch(/must be at most 90\.$/);
    expect(errors.get('status')).toMatch(/^status is required/);
    expect(errors.get('since')).toMatch(/not a calendar date/);
  });

  it('rejects a number where a whole number is declared', () => {
    expect(checkParams(decls, { customerId: 'C1001', days: '2.5', status: 'SHIPPED' }).get('days')).toMatch(/^days must be a whole number/);
  });
});

describe('patterns in the form', () => {
  it("follow the server's RE2 semantics, in linear time", () => {
    const evil: ParamDecl[] = [{ name: 'word', type: 'string', pattern: '(a+)+', required: true, line: 2 }];
    // Seconds (or for ever) in the browser's backtracking RegExp: the form must not freeze the tab.
    expect(checkParams(evil, { word: 'a'.repeat(4095) + '!' }).get('word')).toMatch(/does not match the pattern \(a\+\)\+\.$/);
    // An inline flag is RE2 syntax that the browser's RegExp would throw on.
    const flagged: ParamDecl[] = [{ name: 'id', type: 'string', pattern: '(?i)c[0-9]{4}', required: true, line: 2 }];
    expect(checkParams(flagged, { id: 'c1001' })).toEqual(new Map());
    expect(checkParams(flagged, { id: 'C1001x' }).get('id')).toMatch(/does not match/);
  });
});

describe('paramMessage', () => {
  it('puts the parameter name before a bare predicate and ends with a full stop', () => {
    expect(paramMessage('days', 'must be a whole number, not "x"')).toBe('days must be a whole number, not "x".');
    expect(paramMessage('id', '"x" does not match the pattern ^a$')).toBe('"x" does not match the pattern ^a$.');
  });
});

describe('paramHint', () => {
  it('says what a field accepts', () => {
    expect(paramHint(decls[0])).toBe('text matching ^C[0-9]{4,}$');
    expect(paramHint(decls[1])).toBe('whole number · 1 to 90 · default 7');
    expect(paramHint(decls[3])).toBe('date, YYYY-MM-DD');
  });
});
