/**
 * DynamoDB Local has no access control of its own: the gateway must be the only way in. Its
 * listening socket is read from the kernel's table (/proc/net/tcp*), not probed over the network.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sandboxInfo } from '../helpers/sandbox.js';

/** Local addresses (hex, as the kernel prints them) of the sockets listening on a port. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local?.endsWith(`:${hexPort}`)) out.push(local.split(':')[0]);
    }
  }
  return out;
}

const LOOPBACK_V4 = '0100007F'; // 127.0.0.1, little-endian
const LOOPBACK_V4_MAPPED = '0000000000000000FFFF00000100007F'; // ::ffff:127.0.0.1
const LOOPBACK_V6 = '00000000000000000000000001000000'; // ::1

describe('DynamoDB Local', () => {
  it('listens on the loopback interface only', () => {
    const port = Number(new URL(sandboxInfo().dynamoLocalEndpoint).port);
    const addresses = listeners(port);
    expect(addresses.length).toBeGreaterThan(0);
    for (const a of addresses) expect([LOOPBACK_V4, LOOPBACK_V4_MAPPED, LOOPBACK_V6]).toContain(a);
  });

  it('and so does the gateway', () => {
    const port = Number(new URL(sandboxInfo().endpoint).port);
    const addresses = listeners(port);
    expect(addresses.length).toBeGreaterThan(0);
    for (const a of addresses) expect([LOOPBACK_V4, LOOPBACK_V4_MAPPED, LOOPBACK_V6]).toContain(a);
  });
});
