import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { createBroker, credentialsOf, isHeld, type Broker, type Session } from '../../server/access/broker.js';
import type { AwsCredentialIdentity } from '../../server/aws/credentials.js';
import { deriveSessionPolicy } from '../../server/access/derive-policy.js';
import { createKeySchemaCache } from '../../server/access/key-schemas.js';
import { createIamRevoker, revokeRunSessions, type IamRevoker } from '../../server/access/revocation.js';
import { INLINE_POLICY_MAX_CHARS, PRUNE_GRACE_MS, REVOCATION_POLICY_NAME } from '../../server/access/revocation-policy.js';
import { sessionName } from '../../server/access/session-name.js';
import { executeRequest } from '../../server/dynamo/execute.js';
import { RbError } from '../../server/errors.js';
import type { RenderedRequest } from '../../server/runbook/types.js';
import type { Gateway } from '../../server/sandbox/index.js';
import { dynamoClient, iamClient, privateGateway, roleArn, sandboxInfo, type SandboxInfo } from '../helpers/sandbox.js';

const shared = sandboxInfo();
const hex = (n: number) => randomBytes(n).toString('hex');
const getCustomer = (customerId: string): RenderedRequest => ({ operation: 'GetItem', input: { TableName: 'Customers', Key: { customerId } } });
const ordersOf = (customerId: string): RenderedRequest => ({
  operation: 'Query',
  input: { TableName: 'Orders', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `CUSTOMER#${customerId}` } },
});

function clients(info: SandboxInfo) {
  const credentials = { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey };
  const broker = createBroker({ region: info.region, endpoint: info.endpoint, credentials });
  // As the engine wires them: the broker learns of every cutoff the revoker puts or reads.
  const revoker = createIamRevoker({ region: info.region, endpoint: info.endpoint, credentials, onCutoff: (arn, at) => broker.noteCutoff(arn, at) });
  return { broker, revoker };
}

/** The AWS error a raw SDK call with leaked credentials gets (undefined if it succeeds). */
async function refusal(p: Promise<unknown>): Promise<{ name: string; message: string } | undefined> {
  return p.then(
    () => undefined,
    (e: { name: string; message: string }) => ({ name: e.name, message: e.message }),
  );
}

describe('completing a run, on the shared sandbox', () => {
  let broker: Broker;
  let revoker: IamRevoker;
  beforeAll(() => ({ broker, revoker } = clients(shared)));
  afterAll(() => {
    broker.destroy();
    revoker.destroy();
  });

  it('refuses every session of the run at the gateway, even with leaked keys, and leaves another run alone', async () => {
    const runner = roleArn('runbook-runner');
    const [runA, runB] = [`ra${hex(5)}`, `rb${hex(5)}`];
    const target = { region: shared.region, endpoint: shared.endpoint, maxItems: 50 };
    const leaked: Array<{ creds: AwsCredentialIdentity; call: 'describe' | 'get' }> = [];
    const sessionsA: Session[] = [];
    const assume = async (runId: string, step: string, request: RenderedRequest, partitionKeys: Record<string, string>) =>
      broker.assume({
        roleArn: runner,
        policy: deriveSessionPolicy(request, { region: shared.region, account: shared.account, partitionKeys }),
        sessionName: sessionName(runId, step),
        durationSeconds: 900,
        sourceIdentity: 'alice',
        tags: { run: runId, step, user: 'alice' },
      });

    // Run A: key schemas through their own DescribeTable sessions, then two steps.
    const keys = createKeySchemaCache({
      broker,
      roleArn: runner,
      runId: runA,
      region: shared.region,
      endpoint: shared.endpoint,
      account: shared.account,
      sourceIdentity: 'alice',
      tags: { run: runA },
      onSession: (s) => {
        sessionsA.push(s);
        leaked.push({ creds: { ...credentialsOf(s) }, call: 'describe' });
      },
    });
    const partitionKeys = await keys.partitionKeys(['Customers', 'Orders']);
    expect(partitionKeys).toEqual({ Customers: 'customerId', Orders: 'pk' });
    expect(sessionsA.map((s) => s.sessionName).sort()).toEqual([`rb-${runA}-keys@Customers`, `rb-${runA}-keys@Orders`]);
    expect(sessionsA.every((s) => !isHeld(s))).toBe(true); // forgotten as soon as DescribeTable answered

    const a1 = await assume(runA, 'customer', getCustomer('C1001'), partitionKeys);
    const a2 = await assume(runA, 'orders', ordersOf('C1001'), partitionKeys);
    sessionsA.push(a1, a2);
    leaked.push({ creds: { ...credentialsOf(a1) }, call: 'get' });
    const b1 = await assume(runB, 'customer', getCustomer('C1001'), partitionKeys);
    expect((await executeRequest(getCustomer('C1001'), a1, target)).count).toBe(1);
    expect((await executeRequest(ordersOf('C1001'), a2, target)).count).toBe(3);

    await revokeRunSessions(runA, sessionsA, revoker);

    // The server forgot run A's credentials at once ...
    for (const s of [a1, a2]) {
      const err = await executeRequest(getCustomer('C1001'), s, target).catch((e: RbError) => e);
      expect(err).toMatchObject({ code: 'RB_ERR_ACCESS_SESSION_REVOKED' });
    }
    // ... and whoever kept a copy is refused by an explicit deny, DescribeTable sessions included.
    for (const { creds, call } of leaked) {
      const ddb = dynamoClient(creds);
      const err = await refusal(
        call === 'get'
          ? ddb.send(new GetItemCommand({ TableName: 'Customers', Key: { customerId: { S: 'C1001' } } }))
          : ddb.send(new DescribeTableCommand({ TableName: 'Customers' })),
      );
      ddb.destroy();
      expect(err?.name).toBe('AccessDeniedException');
      expect(err?.message).toContain('with an explicit deny in an identity-based policy');
    }
    // Run B is untouched.
    expect((await executeRequest(getCustomer('C1001'), b1, target)).items[0]).toMatchObject({ name: 'Ada Lovelace' });

    const entries = await revoker.entries(runner);
    const mine = entries.find((e) => e.patterns.includes(`${a1.roleId}:rb-${runA}-*`));
    expect(mine?.until.getTime()).toBeGreaterThanOrEqual(Math.floor(Math.max(...sessionsA.map((s) => s.expiration.getTime())) / 1000) * 1000);
    expect(entries.some((e) => e.patterns.some((p) => p.includes(runB)))).toBe(false);
  });
});

describe('the revocation policy over time, on a gateway of its own', () => {
  // Inline policies are state of a role shared by every test file; pruning and filling them up to
  // IAM's limit happens on a private gateway (same DynamoDB Local, its own roles and clock).
  let gateway: Gateway;
  let info: SandboxInfo;
  let offsetMs = 0;
  let broker: Broker;
  let revoker: IamRevoker;
  const ROLE = 'revocation-tester';

  beforeAll(async () => {
    ({ gateway, info } = await privateGateway(ROLE, { clock: () => Date.now() + offsetMs }));
    ({ broker, revoker } = clients(info));
  });
  afterAll(async () => {
    broker.destroy();
    revoker.destroy();
    await gateway.stop();
  });

  const arn = () => roleArn(ROLE, info);
  const roleId = () => info.roles[0].roleId;
  const clearAll = () => revoker.prune(arn(), new Date(Date.now() + 30 * 86_400_000));
  const storedSize = async (): Promise<number | undefined> => {
    const iam = iamClient(undefined, info);
    try {
      const out = await iam.send(new GetRolePolicyCommand({ RoleName: ROLE, PolicyName: REVOCATION_POLICY_NAME }));
      return JSON.stringify(JSON.parse(decodeURIComponent(out.PolicyDocument!))).length;
    } catch (err) {
      if ((err as Error).name === 'NoSuchEntityException' || (err as Error).name === 'NoSuchEntity') return undefined;
      throw err;
    } finally {
      iam.destroy();
    }
  };

  it('prunes a run only once its sessions have expired, and deletes the policy when nothing is left', async () => {
    await clearAll();
    const t0 = Date.now();
    await revoker.revokeRun({ roleArn: arn(), roleId: roleId(), runId: 'early', until: new Date(t0 + 15 * 60_000) });
    await revoker.revokeRun({ roleArn: arn(), roleId: roleId(), runId: 'late', until: new Date(t0 + 60 * 60_000) });
    await revoker.revokeRun({ roleArn: arn(), roleId: roleId(), runId: 'gone', until: new Date(t0 - 60 * 60_000) });
    const patterns = async () => (await revoker.entries(arn())).flatMap((e) => e.patterns).sort();
    // An entry already expired is dropped on the next write, here its own.
    expect(await patterns()).toEqual([`${roleId()}:rb-early-*`, `${roleId()}:rb-late-*`]);

    await revoker.prune(arn(), new Date(t0 + 15 * 60_000 + PRUNE_GRACE_MS - 1000));
    expect(await patterns()).toHaveLength(2);
    await revoker.prune(arn(), new Date(t0 + 15 * 60_000 + PRUNE_GRACE_MS + 1000));
    expect(await patterns()).toEqual([`${roleId()}:rb-late-*`]);
    await revoker.prune(arn(), new Date(t0 + 2 * 60 * 60_000));
    expect(await patterns()).toEqual([]);
    expect(await storedSize()).toBeUndefined();
  });

  it("a pruned run's leaked keys stay useless: by then the gateway finds them expired", async () => {
    await clearAll();
    const runId = `rp${hex(4)}`;
    const session = await broker.assume({
      roleArn: arn(),
      policy: deriveSessionPolicy(getCustomer('C1001'), { region: info.region, account: info.account, partitionKeys: { Customers: 'customerId' } }),
      sessionName: sessionName(runId, 'customer'),
      durationSeconds: 900,
      sourceIdentity: 'alice',
      tags: {},
    });
    const creds = { ...credentialsOf(session) } as Required<AwsCredentialIdentity>;
    await revokeRunSessions(runId, [session], revoker);
    const get = () => {
      const ddb = dynamoClient(creds, info, { maxAttempts: 1 });
      return refusal(ddb.send(new GetItemCommand({ TableName: 'Customers', Key: { customerId: { S: 'C1001' } } }))).finally(() => ddb.destroy());
    };
    expect((await get())?.message).toContain('explicit deny');

    const later = new Date(session.expiration.getTime() + PRUNE_GRACE_MS + 1000);
    await revoker.prune(arn(), later);
    expect(await revoker.entries(arn())).toEqual([]);
    offsetMs = later.getTime() - Date.now();
    try {
      expect((await get())?.name).toBe('ExpiredTokenException');
    } finally {
      offsetMs = 0;
    }
  });

  it("keeps concurrent revocations of one role, none lost to another's write", async () => {
    await clearAll();
    const runs = Array.from({ length: 12 }, (_, i) => `cc${i}${hex(3)}`);
    await Promise.all(runs.map((runId) => revoker.revokeRun({ roleArn: arn(), roleId: roleId(), runId, until: new Date(Date.now() + 3_600_000) })));
    const patterns = (await revoker.entries(arn())).flatMap((e) => e.patterns);
    expect(patterns.sort()).toEqual(runs.map((r) => `${roleId()}:rb-${r}-*`).sort());
  });

  it('stays under 10,240 characters whatever the number of runs: compacts, then folds into a cutoff', async () => {
    await clearAll();
    const until = (i: number) => new Date(Date.now() + 3_600_000 + i * 1000);
    const sizes: number[] = [];
    const before = await broker.assume({
      roleArn: arn(),
      policy: deriveSessionPolicy(getCustomer('C1001'), { region: info.region, account: info.account, partitionKeys: { Customers: 'customerId' } }),
      sessionName: sessionName(`pre${hex(4)}`, 'customer'),
      durationSeconds: 900,
      sourceIdentity: 'alice',
      tags: {},
    });
    const creds = { ...credentialsOf(before) } as Required<AwsCredentialIdentity>;
    const runs: string[] = [];
    for (let i = 0; i < 400; i++) {
      const runId = `fill${String(i).padStart(4, '0')}${hex(16)}`;
      runs.push(runId);
      await revoker.revokeRun({ roleArn: arn(), roleId: roleId(), runId, until: until(i), issued: new Date() });
      sizes.push((await storedSize())!);
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(INLINE_POLICY_MAX_CHARS);
    // It folded: a cutoff on aws:TokenIssueTime now covers every earlier session of the tool on the role…
    const cutoff = await revoker.cutoff(arn());
    expect(cutoff).toBeInstanceOf(Date);
    expect(broker.cutoffOf(arn())).toEqual(cutoff);
    expect(cutoff!.getTime()).toBeGreaterThan(before.issuedAt.getTime());
    const ddb = dynamoClient(creds, info, { maxAttempts: 1 });
    try {
      const refused = await refusal(ddb.send(new GetItemCommand({ TableName: 'Customers', Key: { customerId: { S: 'C1001' } } })));
      expect(refused?.message).toContain('explicit deny');
    } finally {
      ddb.destroy();
    }
    // …and the runs revoked since stand as entries of their own, fewer than 400.
    const entries = await revoker.entries(arn());
    expect(entries.flatMap((e) => e.patterns).length).toBeLessThan(400);
    const kept = new Set(entries.flatMap((e) => e.patterns));
    expect(runs.filter((r) => kept.has(`${roleId()}:rb-${r}-*`))).toEqual(runs.slice(runs.length - kept.size));
    // A session assumed now is issued after the cutoff (the broker waits for it) and works.
    const after = await broker.assume({
      roleArn: arn(),
      policy: deriveSessionPolicy(getCustomer('C1001'), { region: info.region, account: info.account, partitionKeys: { Customers: 'customerId' } }),
      sessionName: sessionName(`post${hex(4)}`, 'customer'),
      durationSeconds: 900,
      sourceIdentity: 'alice',
      tags: {},
    });
    expect(after.issuedAt.getTime()).toBeGreaterThanOrEqual(cutoff!.getTime());
    const fresh = dynamoClient({ ...credentialsOf(after) }, info, { maxAttempts: 1 });
    try {
      expect((await fresh.send(new GetItemCommand({ TableName: 'Customers', Key: { customerId: { S: 'C1001' } } }))).Item?.customerId?.S).toBe('C1001');
    } finally {
      fresh.destroy();
    }
    // Once every session it covers has expired, pruning removes the cutoff too.
    await revoker.prune(arn(), new Date(until(400).getTime() + PRUNE_GRACE_MS + 1000));
    expect(await revoker.cutoff(arn())).toBeUndefined();
  });

  it("compacts when the role's other inline policies leave less room (IAM answers LimitExceeded)", async () => {
    await clearAll();
    const iam = iamClient(undefined, info);
    const other = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Padding',
          Effect: 'Deny',
          Action: 'dynamodb:DeleteTable',
          Resource: Array.from({ length: 90 }, (_, i) => `arn:aws:dynamodb:us-east-1:000000000000:table/padding-table-${String(i).padStart(3, '0')}`),
        },
      ],
    };
    expect(JSON.stringify(other).length).toBeGreaterThan(6000);
    await iam.send(new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: 'other-inline', PolicyDocument: JSON.stringify(other) }));
    try {
      const runs = Array.from({ length: 25 }, (_, i) => `lim${i}${hex(8)}`);
      for (const runId of runs) await revoker.revokeRun({ roleArn: arn(), roleId: roleId(), runId, until: new Date(Date.now() + 3_600_000) });
      const entries = await revoker.entries(arn());
      expect(entries.flatMap((e) => e.patterns).sort()).toEqual(runs.map((r) => `${roleId()}:rb-${r}-*`).sort());
      // 25 statements would not have fitted beside the other policy: they were compacted.
      expect(entries.length).toBeLessThan(25);
      expect((await storedSize())! + JSON.stringify(other).length).toBeLessThanOrEqual(INLINE_POLICY_MAX_CHARS);
    } finally {
      await iam.send(new (await import('@aws-sdk/client-iam')).DeleteRolePolicyCommand({ RoleName: ROLE, PolicyName: 'other-inline' }));
      iam.destroy();
    }
  });
});
