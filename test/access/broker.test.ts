import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { STSServiceException } from '@aws-sdk/client-sts';
import { createBroker, credentialsOf, forget, stsError, type Broker, type Session } from '../../server/access/broker.js';
import { deriveSessionPolicy } from '../../server/access/derive-policy.js';
import { sessionName } from '../../server/access/session-name.js';
import { executeRequest } from '../../server/dynamo/execute.js';
import { RbError } from '../../server/errors.js';
import type { RenderedRequest } from '../../server/runbook/types.js';
import { iamClient, roleArn, sandboxInfo } from '../helpers/sandbox.js';

const info = sandboxInfo();
const ctx = {
  region: info.region,
  account: info.account,
  partitionKeys: { Orders: 'pk', Customers: 'customerId', Payments: 'orderId' } as Record<string, string>,
};
const runId = `bt${randomBytes(6).toString('hex')}`;
const target = { region: info.region, endpoint: info.endpoint, maxItems: 100 };
let broker: Broker;

beforeAll(() => {
  broker = createBroker({
    region: info.region,
    endpoint: info.endpoint,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
  });
});
afterAll(() => broker.destroy());

async function sessionFor(request: RenderedRequest, step: string, extra: { role?: string; user?: string } = {}): Promise<Session> {
  return broker.assume({
    roleArn: roleArn(extra.role ?? 'runbook-runner'),
    policy: deriveSessionPolicy(request, ctx),
    sessionName: sessionName(runId, step),
    durationSeconds: 900,
    sourceIdentity: extra.user ?? 'alice',
    tags: { runbook: 'orders/refund-check', run: runId, step, user: extra.user ?? 'alice' },
  });
}

/** The coded error a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<RbError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RbError);
  return err as RbError;
}

const getCustomer = (customerId: string): RenderedRequest => ({ operation: 'GetItem', input: { TableName: 'Customers', Key: { customerId } } });
const ordersOf = (customerId: string): RenderedRequest => ({
  operation: 'Query',
  input: { TableName: 'Orders', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `CUSTOMER#${customerId}` } },
});
/** The pending orders, a Query on the index ByStatus. */
const pendingByStatus: RenderedRequest = {
  operation: 'Query',
  input: {
    TableName: 'Orders',
    IndexName: 'ByStatus',
    KeyConditionExpression: '#s = :s',
    ExpressionAttributeNames: { '#s': 'status' },
    ExpressionAttributeValues: { ':s': 'PENDING' },
  },
};

describe('a session with a derived policy', () => {
  it('is a named session of the role, expiring after the duration asked for', async () => {
    const before = Date.now();
    const session = await sessionFor(getCustomer('C1001'), 'shape');
    const role = info.roles.find((r) => r.name === 'runbook-runner')!;
    expect(session.roleId).toBe(role.roleId);
    expect(session.roleArn).toBe(role.arn);
    expect(session.sessionName).toBe(`rb-${runId}-shape`);
    expect(session.assumedRoleId).toBe(`${role.roleId}:rb-${runId}-shape`);
    expect(session.arn).toBe(`arn:aws:sts::${info.account}:assumed-role/runbook-runner/rb-${runId}-shape`);
    expect(session.expiration.getTime()).toBeGreaterThanOrEqual(before + 899_000);
    expect(session.expiration.getTime()).toBeLessThanOrEqual(Date.now() + 901_000);
  });

  it('reads the item of its GetItem, and nothing else: no other key, table or write', async () => {
    const session = await sessionFor(getCustomer('C1001'), 'get-customer');
    const ok = await executeRequest(getCustomer('C1001'), session, target);
    expect(ok.items).toEqual([expect.objectContaining({ customerId: 'C1001', name: 'Ada Lovelace' })]);

    const otherKey = await failure(executeRequest(getCustomer('C1002'), session, target));
    expect(otherKey.code).toBe('RB_ERR_DYNAMO_ACCESS_DENIED');
    expect(otherKey.details).toMatchObject({ awsCode: 'AccessDeniedException' });
    expect(otherKey.message).toContain('dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/Customers');

    const otherTable = await failure(executeRequest({ operation: 'GetItem', input: { TableName: 'Payments', Key: { orderId: 'A7', paymentId: 'P-1001' } } }, session, target));
    expect(otherTable.code).toBe('RB_ERR_DYNAMO_ACCESS_DENIED');
    expect(otherTable.message).toContain('table/Payments');

    const write = await failure(
      executeRequest(
        {
          operation: 'UpdateItem',
          input: { TableName: 'Customers', Key: { customerId: 'C1001' }, UpdateExpression: 'SET tier = :t', ExpressionAttributeValues: { ':t': 'PLATINUM' } },
        },
        session,
        target,
      ),
    );
    expect(write.code).toBe('RB_ERR_DYNAMO_ACCESS_DENIED');
    expect(write.message).toContain('dynamodb:UpdateItem');

    const scan = await failure(executeRequest({ operation: 'Scan', input: { TableName: 'Customers' } }, session, target));
    expect(scan.code).toBe('RB_ERR_DYNAMO_ACCESS_DENIED');
  });

  it('queries its own partition only, and not through an index', async () => {
    const session = await sessionFor(ordersOf('C1001'), 'orders');
    const ok = await executeRequest(ordersOf('C1001'), session, target);
    expect(ok.items.map((i) => i.orderId)).toEqual(['A7', 'B2', 'C9']);
    expect((await failure(executeRequest(ordersOf('C1002'), session, target))).code).toBe('RB_ERR_DYNAMO_ACCESS_DENIED');
    expect((await failure(executeRequest(pendingByStatus, session, target))).message).toContain('table/Orders/index/ByStatus');
  });

  it('of a Query on an index may query that index, but not the table', async () => {
    const session = await sessionFor(pendingByStatus, 'pending');
    const ok = await executeRequest(pendingByStatus, session, target);
    expect(ok.items.map((i) => i.orderId).sort()).toEqual(['B2', 'E5', 'G8']);
    expect((await failure(executeRequest(ordersOf('C1001'), session, target))).code).toBe('RB_ERR_DYNAMO_ACCESS_DENIED');
  });

  it('carries the user as SourceIdentity and the run in its session tags', async () => {
    const user = `mallory${randomBytes(3).toString('hex')}`;
    const iam = iamClient();
    const PolicyName = `broker-test-${runId}`;
    // A deny that matches only a session whose SourceIdentity and run tag are exactly ours.
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'runbook-runner',
        PolicyName,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:SourceIdentity': user, 'aws:PrincipalTag/run': runId } } }],
        }),
      }),
    );
    try {
      const marked = await sessionFor(getCustomer('C1001'), 'marked', { user });
      const err = await failure(executeRequest(getCustomer('C1001'), marked, target));
      expect(err.message).toContain('explicit deny');
      const other = await sessionFor(getCustomer('C1001'), 'unmarked', { user: 'alice' });
      expect((await executeRequest(getCustomer('C1001'), other, target)).count).toBe(1);
    } finally {
      await iam.send(new DeleteRolePolicyCommand({ RoleName: 'runbook-runner', PolicyName }));
      iam.destroy();
    }
  });
});

describe('credentials', () => {
  it('never show in JSON, inspection, or an error of the session', async () => {
    const session = await sessionFor(getCustomer('C1001'), 'secrets');
    const { accessKeyId, secretAccessKey, sessionToken } = credentialsOf(session);
    expect(sessionToken!.length).toBeGreaterThan(20);
    const denied = await failure(executeRequest(getCustomer('C1003'), session, target));
    const views = [
      JSON.stringify(session),
      inspect(session, { showHidden: true, depth: null, getters: true }),
      String(session),
      JSON.stringify(structuredClone(session)),
      JSON.stringify({ message: denied.message, details: denied.details }),
      inspect(denied, { showHidden: true, depth: null }),
    ];
    for (const view of views) {
      expect(view).not.toContain(secretAccessKey);
      expect(view).not.toContain(sessionToken);
      expect(view).not.toContain(accessKeyId);
    }
  });

  it('are gone once forgotten: nothing can run with the session any more', async () => {
    const session = await sessionFor(getCustomer('C1001'), 'forgotten');
    expect((await executeRequest(getCustomer('C1001'), session, target)).count).toBe(1);
    forget(session);
    expect(() => credentialsOf(session)).toThrow(expect.objectContaining({ code: 'RB_ERR_ACCESS_SESSION_REVOKED' }));
    expect((await failure(executeRequest(getCustomer('C1001'), session, target))).code).toBe('RB_ERR_ACCESS_SESSION_REVOKED');
  });
});

describe('STS refusals become step errors', () => {
  const assume = (over: Partial<Parameters<Broker['assume']>[0]>, b: Broker = broker) =>
    b.assume({
      roleArn: roleArn('runbook-runner'),
      policy: deriveSessionPolicy(getCustomer('C1001'), ctx),
      sessionName: sessionName(runId, 'refused'),
      durationSeconds: 900,
      sourceIdentity: 'alice',
      tags: {},
      ...over,
    });

  it('a role the server may not assume: AccessDenied, with what to check', async () => {
    const err = await failure(assume({ roleArn: `arn:aws:iam::${info.account}:role/no-such-role` }));
    expect(err.code).toBe('RB_ERR_ACCESS_ASSUME_ROLE');
    expect(err.details).toMatchObject({ awsCode: 'AccessDenied' });
    expect(err.message).toMatch(/trust policy must allow .*sts:AssumeRole, sts:SetSourceIdentity and sts:TagSession/);
  });

  it("a duration over the role's maximum", async () => {
    const err = await failure(assume({ durationSeconds: 7200 }));
    expect(err.code).toBe('RB_ERR_ACCESS_ASSUME_ROLE');
    expect(err.message).toContain('exceeds the MaxSessionDuration');
  });

  it("the server's own credentials refused", async () => {
    const wrong = createBroker({ region: info.region, endpoint: info.endpoint, credentials: { accessKeyId: info.accessKeyId, secretAccessKey: 'not-the-secret-at-all' } });
    try {
      const err = await failure(assume({}, wrong));
      expect(err.code).toBe('RB_ERR_ACCESS_ASSUME_ROLE');
      expect(err.message).toContain("refresh the server's AWS credentials");
      expect(err.message).not.toContain('not-the-secret-at-all');
    } finally {
      wrong.destroy();
    }
  });

  it("a policy over STS's 2,048 characters, before any call", async () => {
    const keys = Array.from({ length: 100 }, (_, i) => ({ customerId: `CUSTOMER-WITH-A-LONG-ID-${i}` }));
    const policy = deriveSessionPolicy({ operation: 'BatchGetItem', input: { RequestItems: { Customers: { Keys: keys } } } }, ctx);
    const err = await failure(assume({ policy }));
    expect(err.code).toBe('RB_ERR_ACCESS_POLICY_TOO_LARGE');
    expect(err.message).toMatch(/is \d+ characters; STS accepts at most 2048/);
  });

  it('a policy under 2,048 characters that STS still finds too large once packed (PackedPolicyTooLarge)', async () => {
    const tables = Array.from({ length: 14 }, () => randomBytes(60).toString('base64url'));
    const request: RenderedRequest = {
      operation: 'BatchGetItem',
      input: { RequestItems: Object.fromEntries(tables.map((t) => [t, { Keys: [{ id: 'x' }] }])) },
    };
    const policy = deriveSessionPolicy(request, ctx);
    expect(JSON.stringify(policy).length).toBeLessThan(2048);
    const err = await failure(assume({ policy }));
    expect(err.code).toBe('RB_ERR_ACCESS_POLICY_TOO_LARGE');
    expect(err.details).toMatchObject({ awsCode: expect.stringMatching(/^PackedPolicyTooLarge/) });
    expect(err.message).toContain('split the step');
  });

  it("throttling (not producible by the sandbox): the SDK's own exception maps to RB_ERR_ACCESS_THROTTLED", () => {
    const token = 'IQoJb3JpZ2luX2VjE'.repeat(12);
    const throttled = new STSServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: `Rate exceeded for ${token}` });
    const err = stsError(throttled, roleArn('runbook-runner'));
    expect(err.code).toBe('RB_ERR_ACCESS_THROTTLED');
    expect(err.message).toContain('wait a moment');
    expect(err.message).not.toContain(token);
  });
});
