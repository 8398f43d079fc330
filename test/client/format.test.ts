import { describe, expect, it } from 'vitest';
import { formatCapacity, formatDuration, formatValue, plural, timeLeft, valueKind } from '../../client/format.js';

describe('formatValue', () => {
  it('shows scalars as they are', () => {
    expect(formatValue('CUSTOMER#C1001')).toBe('CUSTOMER#C1001');
    expect(formatValue(42.5)).toBe('42.5');
    expect(formatValue(false)).toBe('false');
    expect(formatValue(null)).toBe('null');
    expect(formatValue(undefined)).toBe('');
  });

  it('shows maps and lists on one readable line, quoting only ambiguous strings', () => {
    expect(formatValue({ city: 'London', country: 'GB' })).toBe('{city: London, country: GB}');
    expect(
      formatValue([
        { sku: 'BOOK-1', qty: 1 },
        { sku: 'PEN-3', qty: 2 },
      ]),
    ).toBe('[{sku: BOOK-1, qty: 1}, {sku: PEN-3, qty: 2}]');
    expect(formatValue(['a, b', '', ' padded', "O'Brien", '{x}'])).toBe('["a, b", "", " padded", O\'Brien, "{x}"]');
    expect(formatValue({ 'odd key': { nested: [] } })).toBe('{odd key: {nested: []}}');
    expect(formatValue({ 'a:b': 1 })).toBe('{"a:b": 1}');
  });

  it('classifies values for display', () => {
    expect([valueKind(undefined), valueKind(null), valueKind(1), valueKind(true), valueKind('x'), valueKind([1]), valueKind({})]).toEqual([
      'absent',
      'null',
      'number',
      'boolean',
      'string',
      'nested',
      'nested',
    ]);
  });
});

describe('timeLeft', () => {
  const now = Date.parse('2026-11-27T10:00:00Z');
  it('counts minutes and seconds down to the expiry', () => {
    expect(timeLeft('2026-11-27T10:14:05Z', now)).toEqual({ seconds: 845, expired: false, text: '14:05 left' });
    expect(timeLeft('2026-11-27T10:00:09.900Z', now).text).toBe('0:09 left');
  });
  it('shows hours for long sessions', () => {
    expect(timeLeft('2026-11-27T11:02:30Z', now).text).toBe('1 h 02 min left');
  });
  it('says expired at and after the expiry, and when the expiry is unreadable', () => {
    expect(timeLeft('2026-11-27T10:00:00Z', now)).toEqual({ seconds: 0, expired: true, text: 'expired' });
    expect(timeLeft('2026-11-27T09:00:00Z', now).expired).toBe(true);
    expect(timeLeft('soon', now)).toEqual({ seconds: 0, expired: true, text: 'expiry unknown' });
  });
});

describe('formatDuration', () => {
  it('picks a readable unit', () => {
    expect(formatDuration(85)).toBe('85 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
    expect(formatDuration(-1)).toBe('');
  });
});

describe('formatCapacity', () => {
  it('sums what DynamoDB reported, read and write apart', () => {
    expect(formatCapacity({ TableName: 'Orders', CapacityUnits: 0.5 })).toBe('0.5 capacity units');
    expect(formatCapacity({ TableName: 'Orders', CapacityUnits: 1 })).toBe('1 capacity unit');
    expect(
      formatCapacity([
        { CapacityUnits: 1.5, ReadCapacityUnits: 1.5 },
        { CapacityUnits: 2, ReadCapacityUnits: 2 },
      ]),
    ).toBe('3.5 RCU');
    expect(formatCapacity([{ ReadCapacityUnits: 1 }, { WriteCapacityUnits: 2 }])).toBe('1 RCU + 2 WCU');
    expect(formatCapacity(undefined)).toBe('');
    expect(formatCapacity([])).toBe('');
  });
});

describe('plural', () => {
  it('counts with thousands separators', () => {
    expect(plural(1, 'item')).toBe('1 item');
    expect(plural(3000, 'item')).toBe('3,000 items');
  });
});
