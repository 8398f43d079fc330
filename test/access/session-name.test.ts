import { describe, expect, it } from 'vitest';
import { runUserIdPattern, sessionName } from '../../server/access/session-name.js';

const STS_NAME = /^[\w+=,.@-]{2,64}$/;

describe('sessionName', () => {
  it('is rb-<run>-<step> for a first execution', () => {
    expect(sessionName('r7f3k2', 'recent-orders')).toBe('rb-r7f3k2-recent-orders');
    expect(sessionName('r7f3k2', 'recent-orders', 1)).toBe('rb-r7f3k2-recent-orders');
  });

  it('numbers repeated executions with a dot, which no step name contains', () => {
    expect(sessionName('r7f3k2', 'recent-orders', 2)).toBe('rb-r7f3k2-recent-orders.2');
    expect(sessionName('r7f3k2', 'a-2')).not.toBe(sessionName('r7f3k2', 'a', 2));
  });

  it('cuts a long step name to fit 64 characters and keeps two long names apart', () => {
    const long = 'x'.repeat(80);
    const a = sessionName('RUN01234567890123456789', `${long}-a`, 12);
    const b = sessionName('RUN01234567890123456789', `${long}-b`, 12);
    expect(a).toMatch(STS_NAME);
    expect(a).toHaveLength(64);
    expect(a.startsWith('rb-RUN01234567890123456789-xxx')).toBe(true);
    expect(a.endsWith('.12')).toBe(true);
    expect(a).not.toBe(b);
  });

  it('replaces characters STS does not accept', () => {
    expect(sessionName('r1', 'keys@My Table/ü')).toBe('rb-r1-keys@My_Table__');
    expect(sessionName('r1', 'keys@My Table/ü')).toMatch(STS_NAME);
  });

  it('refuses run ids that would make the run deny pattern ambiguous or overflow', () => {
    expect(() => sessionName('run-1', 's')).toThrow(/letters, digits and _/);
    expect(() => sessionName('r*', 's')).toThrow(/letters, digits and _/);
    expect(() => sessionName('r'.repeat(60), 's')).toThrow(/too long/);
  });

  it("names the aws:userid pattern of all of a run's sessions", () => {
    expect(runUserIdPattern('AROAEXAMPLE1234567890', 'r7f3k2')).toBe('AROAEXAMPLE1234567890:rb-r7f3k2-*');
  });
});
