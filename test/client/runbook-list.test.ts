import { describe, expect, it } from 'vitest';
import { matchesFilter } from '../../client/views/runbook-list.js';

describe('matchesFilter', () => {
  const rb = { id: 'orders/recent-orders', title: "Investigate a customer's recent orders", description: 'Missing order', tags: ['support'], steps: 1, problems: [] };
  it('matches every word anywhere, case-insensitively', () => {
    expect(matchesFilter(rb, '')).toBe(true);
    expect(matchesFilter(rb, 'ORDERS support')).toBe(true);
    expect(matchesFilter(rb, 'missing recent')).toBe(true);
    expect(matchesFilter(rb, 'payments')).toBe(false);
  });
});
