/**
 * Authentication as AWS does it, through the real SDK clients: signatures, keys, session tokens and
 * their expiry. Time is a controllable clock of an in-process gateway in front of the suite's
 * DynamoDB Local, so expiry is tested without waiting.
 */
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { DynamoDBClient, GetItemCommand, ListTablesCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { loadSandboxFile, startGateway, type Gateway } from '../../server/sandbox/index.js';
import { sandboxInfo } from '../helpers/sandbox.js';

const START = Date.parse('2026-11-27T10:00:00Z');
let now = START;
let gateway: Gateway;

beforeAll(async () => {
  const config = loadSandboxFile(new URL('../../runbooks/sandbox.yaml', import.meta.url).pathname);
  gateway = await startGateway({ config, dynamoLocalEndpoint: sandboxInfo().dynamoLocalEndpoint, clock: () => now });
});
afterAll(() => gateway.stop());

/** SDK config whose signing clock is the gateway's clock. */
function clientConfig(credentials: DynamoDBClientConfig['credentials'], skewMs = 0) {
  return { endpoint: gateway.endpoint, region: gateway.region, credentials, maxAttempts: 1, systemClockOffset: now - Date.now() + skewMs };
}

async function session(durationSeconds = 900, name = 'rb-auth') {
  const sts = new STSClient(clientConfig(gateway.baseCredentials));
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: gateway.roles[0].arn, RoleSessionName: name, DurationSeconds: durationSeconds }));
  sts.destroy();
  return { out, credentials: { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! } };
}

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
  throw new Error('the request was not refused');
}

const getCustomer = () => new GetItemCommand({ TableName: 'Customers', Key: { customerId: { S: 'C1001' } } });

describe('credentials the gateway issues', () => {
  it("look like AWS's and expire DurationSeconds after issue", async () => {
    now = START;
    const { out } = await session(1800, 'rb-shape');
    const c = out.Credentials!;
    expect(c.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(c.SecretAccessKey).toHaveLength(40);
    expect(c.SessionToken!.length).toBeGreaterThan(300);
    expect(c.Expiration?.getTime()).toBe(START + 1800_000);
    expect(out.AssumedRoleUser?.AssumedRoleId).toBe(`${gateway.roles[0].roleId}:rb-shape`);
    expect(gateway.roles[0].roleId).toMatch(/^AROA[A-Z0-9]{17}$/);
    expect(gateway.baseCredentials.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
  });

  it('work with DynamoDB until they expire, then are refused with ExpiredTokenException', async () => {
    now = START;
    const { credentials } = await session(900);
    const ok = new DynamoDBClient(clientConfig(credentials));
    expect((await ok.send(getCustomer())).Item?.name.S).toBe('Ada Lovelace');
    ok.destroy();

    now = START + 899_000;
    const still = new DynamoDBClient(clientConfig(credentials));
    expect((await still.send(getCustomer())).Item).toBeDefined();
    still.destroy();

    now = START + 900_000;
    const late = new DynamoDBClient(clientConfig(credentials));
    expect(await errorOf(late.send(getCustomer()))).toEqual({ name: 'ExpiredTokenException', message: 'The security token included in the request is expired' });
    late.destroy();
    const sts = new STSClient(clientConfig(credentials));
    // STS's authentication layer says ExpiredToken (the modelled ExpiredTokenException is another error).
    expect(await errorOf(sts.send(new GetCallerIdentityCommand({})))).toEqual({ name: 'ExpiredToken', message: 'The security token included in the request is expired' });
    sts.destroy();
  });
});

describe('refusals', () => {
  it('a tampered signature: a wrong secret, or a body changed after signing', async () => {
    now = START;
    const { credentials } = await session();
    // Another last character: one in 64 secrets already ends in the one that replaces it.
    const last = credentials.secretAccessKey.at(-1) === 'X' ? 'Y' : 'X';
    const wrongSecret = new DynamoDBClient(clientConfig({ ...credentials, secretAccessKey: `${credentials.secretAccessKey.slice(0, -1)}${last}` }));
    expect(await errorOf(wrongSecret.send(getCustomer()))).toEqual({
      name: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    });
    wrongSecret.destroy();

    const tampering = new DynamoDBClient(clientConfig(credentials));
    // Runs after signing: rewrites the request for another customer under the original signature.
    tampering.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: string | Uint8Array };
        const b = request.body;
        const text = typeof b === 'string' ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
        request.body = Buffer.from(text.replace('C1001', 'C1002'));
        return next(args);
      },
      { step: 'deserialize', name: 'tamper' },
    );
    expect((await errorOf(tampering.send(getCustomer()))).name).toBe('InvalidSignatureException');
    tampering.destroy();
  });

  it("an unknown key, a missing token and another session's token", async () => {
    now = START;
    const { credentials } = await session();
    const { credentials: other } = await session(900, 'rb-other');
    const invalid = { name: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
    for (const creds of [
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      { ...credentials, sessionToken: other.sessionToken },
    ]) {
      const client = new DynamoDBClient(clientConfig(creds));
      expect(await errorOf(client.send(getCustomer()))).toEqual(invalid);
      client.destroy();
    }
    const sts = new STSClient(clientConfig({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) }));
    expect((await errorOf(sts.send(new GetCallerIdentityCommand({})))).name).toBe('InvalidClientTokenId');
    sts.destroy();
  });

  it("a request signed more than 15 minutes away from the gateway's clock", async () => {
    now = START;
    const { credentials } = await session();
    const stale = new DynamoDBClient(clientConfig(credentials, -16 * 60_000));
    const err = await errorOf(stale.send(getCustomer()));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toMatch(/^Signature expired: 20261127T094400Z is now earlier than 20261127T094500Z \(20261127T100000Z - 15 min\.\)$/);
    stale.destroy();
    const early = new DynamoDBClient(clientConfig(credentials, 16 * 60_000));
    expect((await errorOf(early.send(getCustomer()))).message).toMatch(/^Signature not yet current: /);
    early.destroy();
  });

  it('no Authorization header at all', async () => {
    const res = await fetch(gateway.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ __type: 'com.amazon.coral.service#MissingAuthenticationTokenException', message: 'Request is missing Authentication Token' });
  });

  it("answers with the gateway's clock in Date, so SDKs correct their skew from it", async () => {
    now = START;
    const client = new DynamoDBClient({ endpoint: gateway.endpoint, region: gateway.region, credentials: gateway.baseCredentials, maxAttempts: 1 });
    const err = await errorOf(client.send(new ListTablesCommand({})));
    // Signed with the real clock, far from the gateway's: refused, and the client learns the offset.
    expect(err.name).toBe('InvalidSignatureException');
    expect(Math.abs((client.config.systemClockOffset ?? 0) - (START - Date.now()))).toBeLessThan(5_000);
    client.destroy();
  });
});

describe('signatures made the way other clients make them', () => {
  // The AWS CLI signs content-type, host and x-amz-date (and the token when it has one); other
  // SDKs leave the token unsigned or add x-amz-content-sha256. Requests here are signed with the
  // reference signer and sent as they are.
  class Sha256 {
    private readonly hash;
    constructor(secret?: SourceData) {
      this.hash = secret ? createHmac('sha256', Buffer.from(secret as Uint8Array)) : createHash('sha256');
    }
    update(data: SourceData): void {
      this.hash.update(typeof data === 'string' ? data : Buffer.from(data as Uint8Array));
    }
    async digest(): Promise<Uint8Array> {
      return this.hash.digest();
    }
  }

  async function send(
    service: 'dynamodb' | 'sts',
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
    request: { method: string; headers: Record<string, string>; body?: string; query?: Record<string, string> },
    options: { unsignableHeaders?: Set<string> } = {},
  ): Promise<{ status: number; body: string }> {
    const url = new URL(gateway.endpoint);
    const signer = new SignatureV4({ credentials, region: gateway.region, service, sha256: Sha256, applyChecksum: false });
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        query: request.query ?? {},
        headers: { host: url.host, ...request.headers },
        body: request.body,
      },
      { signingDate: new Date(now), ...options },
    );
    const qs = new URLSearchParams(request.query ?? {}).toString();
    const { host: _host, ...headers } = signed.headers;
    const res = await fetch(`${gateway.endpoint}/${qs ? `?${qs}` : ''}`, { method: request.method, headers, body: request.body });
    return { status: res.status, body: await res.text() };
  }

  const getItem = (body = JSON.stringify({ TableName: 'Customers', Key: { customerId: { S: 'C1002' } } })) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' },
    body,
  });

  it('a session token sent but not signed', async () => {
    now = START;
    const { credentials } = await session();
    const res = await send('dynamodb', credentials, getItem(), { unsignableHeaders: new Set(['x-amz-security-token']) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).Item.name.S).toBe('Grace Hopper');
  });

  it("a signed x-amz-content-sha256, which must be the body's hash", async () => {
    now = START;
    const { credentials } = await session();
    const body = getItem().body;
    const hash = createHash('sha256').update(body).digest('hex');
    const ok = await send('dynamodb', credentials, { ...getItem(body), headers: { ...getItem().headers, 'x-amz-content-sha256': hash } });
    expect(ok.status).toBe(200);
    const lying = await send('dynamodb', credentials, {
      ...getItem(body),
      headers: { ...getItem().headers, 'x-amz-content-sha256': createHash('sha256').update('{}').digest('hex') },
    });
    expect(lying.status).toBe(400);
    expect(JSON.parse(lying.body).__type).toBe('com.amazon.coral.service#InvalidSignatureException');
  });

  it('an STS call as a signed GET with its parameters in the query string', async () => {
    now = START;
    const res = await send('sts', gateway.baseCredentials, { method: 'GET', headers: {}, query: { Action: 'GetCallerIdentity', Version: '2011-06-15' } });
    expect(res.status).toBe(200);
    expect(res.body).toContain('<Arn>arn:aws:iam::000000000000:user/runbooks-server</Arn>');
  });
});
