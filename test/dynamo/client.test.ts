// Session clients share one connection pool, but each signs with its own session's keys only,
// refuses to send once its session is forgotten, and is rebuilt from the held credentials when it
// was dropped from the cache.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, forget, type Broker, type Session } from '../../server/access/broker.js';
import { clientsFor } from '../../server/dynamo/client.js';
import { roleArn, sandboxInfo } from '../helpers/sandbox.js';

const info = sandboxInfo();
const target = { region: info.region, endpoint: info.endpoint };
let broker: Broker;

function getPolicy(customerId: string) {
  return {
    Version: '2012-10-17' as const,
    Statement: [
      {
        Effect: 'Allow' as const,
        Action: ['dynamodb:GetItem'],
        Resource: [`arn:aws:dynamodb:${info.region}:${info.account}:table/Customers`],
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [customerId] } },
      },
    ],
  };
}

function assume(customerId: string, n: number): Promise<Session> {
  return broker.assume({
    roleArn: roleArn('runbook-tester'),
    policy: getPolicy(customerId),
    sessionName: `rb-clients-${n}`,
    durationSeconds: 900,
    sourceIdentity: 'tester',
    tags: { run: 'clients' },
  });
}

const get = (session: Session, customerId: string) => clientsFor(session, target).doc.send(new GetCommand({ TableName: 'Customers', Key: { customerId } }));

beforeAll(() => {
  broker = createBroker({ ...target, credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey } });
});

afterAll(() => broker?.destroy());

describe('session clients', () => {
  it('sign each request with their own session only, over the shared pool', async () => {
    const ada = await assume('C1001', 1);
    const grace = await assume('C1002', 2);
    expect((await get(ada, 'C1001')).Item?.customerId).toBe('C1001');
    expect((await get(grace, 'C1002')).Item?.customerId).toBe('C1002');
    // Each session's policy pins its own customer: a request signed with the other's keys would pass.
    await expect(get(ada, 'C1002')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(get(grace, 'C1001')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    forget(ada);
    forget(grace);
  });

  it('refuse to send once the session is forgotten, even when a caller kept the client', async () => {
    const session = await assume('C1001', 3);
    const { doc } = clientsFor(session, target);
    forget(session);
    await expect(doc.send(new GetCommand({ TableName: 'Customers', Key: { customerId: 'C1001' } }))).rejects.toMatchObject({ code: 'RB_ERR_ACCESS_SESSION_REVOKED' });
    expect(() => clientsFor(session, target)).toThrow(expect.objectContaining({ code: 'RB_ERR_ACCESS_SESSION_REVOKED' }));
  });

  it('are rebuilt from the held credentials after being dropped for newer sessions', async () => {
    const first = await assume('C1001', 4);
    const kept = clientsFor(first, target);
    const others: Session[] = [];
    for (let i = 0; i < 40; i++) {
      const s = await assume('C1001', 10 + i);
      clientsFor(s, target);
      others.push(s);
    }
    const again = clientsFor(first, target);
    expect(again).not.toBe(kept);
    expect((await get(first, 'C1001')).Item?.customerId).toBe('C1001');
    for (const s of [first, ...others]) forget(s);
  }, 30_000);
});
