/**
 * STS's and IAM's answers through the real SDK clients: AssumeRole's limits, and inline role
 * policies as the revocation of sessions uses them. Each file that edits role policies runs its own
 * in-process gateway (against the suite's DynamoDB Local) so that other files' roles stay as seeded.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { DeleteRolePolicyCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { startGateway, type Gateway, type SandboxConfig } from '../../server/sandbox/index.js';
import { sandboxInfo } from '../helpers/sandbox.js';

let now = Date.parse('2026-11-27T10:00:00Z');
let gateway: Gateway;
const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Action: 'dynamodb:*', Resource: '*' }] };

beforeAll(async () => {
  const config: SandboxConfig = {
    account: '123456789012',
    region: 'eu-west-1',
    roles: [
      { name: 'runner', maxSessionDuration: 3600, policies: [allowAll] },
      { name: 'long', maxSessionDuration: 7200, policies: [allowAll] },
    ],
    tables: [],
  };
  gateway = await startGateway({ config, dynamoLocalEndpoint: sandboxInfo().dynamoLocalEndpoint, clock: () => now });
});
afterAll(() => gateway.stop());

const config = (credentials = gateway.baseCredentials) => ({
  endpoint: gateway.endpoint,
  region: gateway.region,
  credentials,
  maxAttempts: 1,
  systemClockOffset: now - Date.now(),
});
const roleArn = (name = 'runner') => `arn:aws:iam::123456789012:role/${name}`;

async function assume(input: Partial<AssumeRoleCommandInput> = {}, credentials = gateway.baseCredentials) {
  const sts = new STSClient(config(credentials));
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn(), RoleSessionName: 'rb-run1-step1', DurationSeconds: 900, ...input }));
    return {
      out,
      credentials: { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! },
    };
  } finally {
    sts.destroy();
  }
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
  return 'allowed';
}

/** The outcome of a GetItem on the sandbox's Customers table with a session's credentials. */
async function read(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }): Promise<string> {
  const client = new DynamoDBClient(config(credentials));
  try {
    return await refusal(client.send(new GetItemCommand({ TableName: 'Customers', Key: { customerId: { S: 'C1001' } } })));
  } finally {
    client.destroy();
  }
}

describe('AssumeRole', () => {
  it("refuses DurationSeconds outside 900-43200 and above the role's maximum", async () => {
    expect(await refusal(assume({ DurationSeconds: 899 }))).toBe(
      "ValidationError: 1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    );
    expect(await refusal(assume({ DurationSeconds: 43201 }))).toMatch(/Member must have value less than or equal to 43200$/);
    expect(await refusal(assume({ DurationSeconds: 3601 }))).toBe('ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const long = await assume({ RoleArn: roleArn('long'), DurationSeconds: 7200 });
    expect(long.out.Credentials!.Expiration!.getTime()).toBe(Math.floor(now / 1000) * 1000 + 7200_000);
  });

  it('checks RoleSessionName, SourceIdentity and Tags', async () => {
    expect(await refusal(assume({ RoleSessionName: 'a' }))).toMatch(/^ValidationError: 1 validation error detected: Value 'a' at 'roleSessionName' .* greater than or equal to 2$/);
    expect(await refusal(assume({ RoleSessionName: 'rb run' }))).toMatch(/at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern/);
    expect(await refusal(assume({ SourceIdentity: 'x'.repeat(65) }))).toMatch(/at 'sourceIdentity' .* less than or equal to 64$/);
    const tags = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(await refusal(assume({ Tags: tags }))).toMatch(/at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50$/);
    expect(await refusal(assume({ Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] }))).toMatch(/at 'tags\.1\.member\.key' .* less than or equal to 128$/);
    expect(
      await refusal(
        assume({
          Tags: [
            { Key: 'run', Value: 'a' },
            { Key: 'RUN', Value: 'b' },
          ],
        }),
      ),
    ).toMatch(/^ValidationError: Duplicate tag keys/);
    const ok = await assume({ SourceIdentity: 'alice@example.com', Tags: [{ Key: 'runbook', Value: 'orders/refund-check' }] });
    expect(ok.out.SourceIdentity).toBe('alice@example.com');
    expect(ok.out.PackedPolicySize).toBeGreaterThan(0);
  });

  it('refuses a session policy over 2,048 characters, malformed, or too large once packed', async () => {
    const statement = (resources: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: resources }] });
    const long = statement(Array.from({ length: 40 }, (_, i) => `arn:aws:dynamodb:eu-west-1:123456789012:table/Orders${i}`));
    expect(long.length).toBeGreaterThan(2048);
    expect(await refusal(assume({ Policy: long }))).toMatch(
      /^ValidationError: 1 validation error detected: Value '.*' at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048$/,
    );
    expect(await refusal(assume({ Policy: '{"Statement": [' }))).toBe('MalformedPolicyDocumentException: The policy is not in the valid JSON format.');
    expect(await refusal(assume({ Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem' }] }) }))).toMatch(
      /^MalformedPolicyDocumentException: .*missing Resource/,
    );
    // Random table names do not compress: under the plaintext limit, over the packed one.
    const random = statement(Array.from({ length: 12 }, () => `arn:aws:dynamodb:eu-west-1:123456789012:table/${randomBytes(60).toString('base64url').slice(0, 80)}`));
    expect(random.length).toBeLessThanOrEqual(2048);
    expect(await refusal(assume({ Policy: random }))).toMatch(/^PackedPolicyTooLargeException: Packed policy consumes 1\d\d% of allotted space, please use smaller policy\.$/);
  });

  it('is refused for an unknown role and for role chaining', async () => {
    expect(await refusal(assume({ RoleArn: roleArn('nobody') }))).toBe(
      'AccessDenied: User: arn:aws:iam::123456789012:user/runbooks-server is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/nobody',
    );
    const { credentials } = await assume();
    expect(await refusal(assume({}, credentials))).toMatch(
      /^AccessDenied: User: arn:aws:sts::123456789012:assumed-role\/runner\/rb-run1-step1 is not authorized to perform: sts:AssumeRole/,
    );
  });
});

describe('inline role policies', () => {
  const iam = () => new IAMClient(config());
  const denyUserIds = (pattern: string) =>
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:userid': pattern } } }] });

  it('a deny on aws:userid refuses that session at once, while another session of the role still works', async () => {
    const a = await assume({ RoleSessionName: 'rb-run1-step1' });
    const b = await assume({ RoleSessionName: 'rb-run2-step1' });
    expect(await read(a.credentials)).toBe('allowed');
    const roleId = a.out.AssumedRoleUser!.AssumedRoleId!.split(':')[0];
    const client = iam();
    await client.send(new PutRolePolicyCommand({ RoleName: 'runner', PolicyName: 'revoke-run1', PolicyDocument: denyUserIds(`${roleId}:rb-run1-*`) }));
    expect(await read(a.credentials)).toBe(
      `AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/runner/rb-run1-step1 is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/Customers with an explicit deny in an identity-based policy`,
    );
    expect(await read(b.credentials)).toBe('allowed');
    // a new session of the revoked run is refused too; removing the policy lifts the deny
    expect(await read((await assume({ RoleSessionName: 'rb-run1-step2' })).credentials)).toMatch(/^AccessDeniedException: .*explicit deny/);
    await client.send(new DeleteRolePolicyCommand({ RoleName: 'runner', PolicyName: 'revoke-run1' }));
    expect(await read(a.credentials)).toBe('allowed');
    client.destroy();
  });

  it('a deny on aws:TokenIssueTime refuses sessions issued before a time', async () => {
    const before = await assume({ RoleSessionName: 'rb-old' });
    now += 60_000;
    const cutoff = new Date(now).toISOString();
    now += 1_000;
    const after = await assume({ RoleSessionName: 'rb-new' });
    const client = iam();
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff } } }] };
    await client.send(new PutRolePolicyCommand({ RoleName: 'runner', PolicyName: 'revoke-older', PolicyDocument: JSON.stringify(policy) }));
    expect(await read(before.credentials)).toMatch(/^AccessDeniedException: .*explicit deny/);
    expect(await read(after.credentials)).toBe('allowed');
    await client.send(new DeleteRolePolicyCommand({ RoleName: 'runner', PolicyName: 'revoke-older' }));
    client.destroy();
  });

  it('lists, returns (URL-encoded, as IAM does) and deletes them', async () => {
    const client = iam();
    const doc = denyUserIds('AROAEXAMPLEEXAMPLE1:rb-x-*');
    await client.send(new PutRolePolicyCommand({ RoleName: 'long', PolicyName: 'p1', PolicyDocument: doc }));
    await client.send(new PutRolePolicyCommand({ RoleName: 'long', PolicyName: 'p0', PolicyDocument: doc }));
    expect((await client.send(new ListRolePoliciesCommand({ RoleName: 'long' }))).PolicyNames).toEqual(['p0', 'p1']);
    const got = await client.send(new GetRolePolicyCommand({ RoleName: 'long', PolicyName: 'p1' }));
    expect(decodeURIComponent(got.PolicyDocument!)).toBe(doc);
    await client.send(new DeleteRolePolicyCommand({ RoleName: 'long', PolicyName: 'p1' }));
    await client.send(new DeleteRolePolicyCommand({ RoleName: 'long', PolicyName: 'p0' }));
    expect((await client.send(new ListRolePoliciesCommand({ RoleName: 'long' }))).PolicyNames).toEqual([]);
    expect(await refusal(client.send(new GetRolePolicyCommand({ RoleName: 'long', PolicyName: 'p1' })))).toBe(
      'NoSuchEntityException: The role policy with name p1 cannot be found.',
    );
    expect(await refusal(client.send(new ListRolePoliciesCommand({ RoleName: 'ghost' })))).toBe('NoSuchEntityException: The role with name ghost cannot be found.');
    const role = await client.send(new GetRoleCommand({ RoleName: 'long' }));
    expect(role.Role).toMatchObject({ RoleName: 'long', Arn: roleArn('long'), MaxSessionDuration: 7200 });
    expect(role.Role?.RoleId).toMatch(/^AROA[A-Z0-9]{17}$/);
    client.destroy();
  });

  it('refuses malformed documents and more than 10,240 bytes per role', async () => {
    const client = iam();
    expect(await refusal(client.send(new PutRolePolicyCommand({ RoleName: 'long', PolicyName: 'bad', PolicyDocument: '{nope' })))).toBe(
      'MalformedPolicyDocumentException: This policy contains invalid Json',
    );
    expect(await refusal(client.send(new PutRolePolicyCommand({ RoleName: 'long', PolicyName: 'bad', PolicyDocument: '{"Version":"2012-10-17"}' })))).toMatch(
      /^MalformedPolicyDocumentException: .*no Statement/,
    );
    // Each document is about 3 KB once whitespace is ignored: the fourth passes the aggregate limit.
    const big = (i: number) => denyUserIds(`AROAEXAMPLEEXAMPLE1:${String(i).repeat(3000)}`);
    for (const i of [1, 2, 3]) await client.send(new PutRolePolicyCommand({ RoleName: 'long', PolicyName: `big${i}`, PolicyDocument: big(i) }));
    expect(await refusal(client.send(new PutRolePolicyCommand({ RoleName: 'long', PolicyName: 'big4', PolicyDocument: big(4) })))).toBe(
      'LimitExceededException: Maximum policy size of 10240 bytes exceeded for role long',
    );
    // replacing a policy counts its new size, not both
    await client.send(new PutRolePolicyCommand({ RoleName: 'long', PolicyName: 'big3', PolicyDocument: big(5) }));
    for (const i of [1, 2, 3]) await client.send(new DeleteRolePolicyCommand({ RoleName: 'long', PolicyName: `big${i}` }));
    client.destroy();
  });

  it('sessions may not edit role policies: only the base principal may', async () => {
    const { credentials } = await assume();
    const client = new IAMClient(config(credentials));
    expect(await refusal(client.send(new PutRolePolicyCommand({ RoleName: 'runner', PolicyName: 'x', PolicyDocument: denyUserIds('*') })))).toMatch(
      /^AccessDenied: User: arn:aws:sts::123456789012:assumed-role\/runner\/rb-run1-step1 is not authorized to perform: iam:PutRolePolicy on resource: arn:aws:iam::123456789012:role\/runner because no identity-based policy allows/,
    );
    client.destroy();
  });
});
