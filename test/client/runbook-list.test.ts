import { describe, expect, it } from 'vitest';
import type { StepExecution } from '../../server/runs/types.js';
import { isNewer } from '../../client/views/cell.js';
import { matchesFilter } from '../../client/views/runbook-list.js';

function execution(n: number, status: StepExecution['status'], pages: number): StepExecution {
  return { n, step: 's', user: 'alice', status, startedAt: '', request: { operation: 'Scan', input: { TableName: 'T' } }, items: [], count: 0, hasMore: false, pages, confirmed: false };
}

describe('isNewer (a cell never goes back to an older state of its execution)', () => {
  it('takes a later execution, or a later page of the same one', () => {
    expect(isNewer(undefined, execution(1, 'succeeded', 1))).toBe(true);
    expect(isNewer(execution(1, 'succeeded', 1), execution(2, 'failed', 0))).toBe(true);
    expect(isNewer(execution(1, 'succeeded', 1), execution(1, 'succeeded', 2))).toBe(true);
    expect(isNewer(execution(1, 'succeeded', 2), execution(1, 'succeeded', 2))).toBe(true);
  });
  it('ignores an older execution or an earlier page arriving late', () => {
    expect(isNewer(execution(2, 'succeeded', 1), execution(1, 'succeeded', 3))).toBe(false);
    expect(isNewer(execution(1, 'succeeded', 2), execution(1, 'succeeded', 1))).toBe(false);
  });
});

describe('matchesFilter', () => {
  const rb = { id: 'orders/recent-orders', title: "Investigate a customer's recent orders", description: 'Missing order', tags: ['support'], steps: 1, problems: [] };
  it('matches every word anywhere, case-insensitively', () => {
    expect(matchesFilter(rb, '')).toBe(true);
    expect(matchesFilter(rb, 'ORDERS support')).toBe(true);
    expect(matchesFilter(rb, 'missing recent')).toBe(true);
    expect(matchesFilter(rb, 'payments')).toBe(false);
  });
});
