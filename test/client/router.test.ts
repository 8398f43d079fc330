import { describe, expect, it } from 'vitest';
import { parseRoute, routeHash, type Route } from '../../client/router.js';

describe('hash routes', () => {
  it('parses every page', () => {
    expect(parseRoute('')).toEqual({ name: 'runbooks' });
    expect(parseRoute('#/')).toEqual({ name: 'runbooks' });
    expect(parseRoute('#/runbooks/orders/recent-orders')).toEqual({ name: 'runbook', id: 'orders/recent-orders' });
    expect(parseRoute('#/runs')).toEqual({ name: 'runs' });
    expect(parseRoute('#/runs/ab12cd34ef/')).toEqual({ name: 'run', id: 'ab12cd34ef' });
    expect(parseRoute('#/approvals')).toEqual({ name: 'approvals' });
  });

  it('round-trips ids with slashes and characters that need escaping', () => {
    const routes: Route[] = [{ name: 'runbook', id: 'team a/fix #1' }, { name: 'run', id: 'r 1' }, { name: 'runbooks' }, { name: 'runs' }, { name: 'approvals' }];
    for (const route of routes) expect(parseRoute(routeHash(route))).toEqual(route);
    expect(routeHash({ name: 'runbook', id: 'orders/recent-orders' })).toBe('#/runbooks/orders/recent-orders');
  });

  it('names anything else not found rather than guessing', () => {
    expect(parseRoute('#/runs/a/b')).toEqual({ name: 'not-found', path: 'runs/a/b' });
    expect(parseRoute('#/runbooks/%E0%A4%A')).toEqual({ name: 'not-found', path: 'runbooks/%E0%A4%A' });
    expect(parseRoute('#/runbooks/a//b').name).toBe('not-found');
    expect(parseRoute('#/settings').name).toBe('not-found');
  });
});
