/**
 * The sandbox gateway: one loopback port that speaks STS and IAM (Query protocol) and DynamoDB
 * (JSON 1.0), so that the unmodified AWS SDKs and CLI work against it with only an endpoint
 * override. Every request is authenticated (SigV4 with a key the sandbox issued); DynamoDB requests
 * are then authorised with IAM's rules and forwarded to DynamoDB Local unchanged but for the
 * Authorization header, and the answer is streamed back as it comes.
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RbError } from '../../errors.js';
import { LOCAL_AUTHORIZATION } from '../local-auth.js';
import type { BaseCredentials, SandboxConfig, SandboxRole } from '../types.js';
import { authenticate, type AuthFailure } from './authenticate.js';
import { authorizeDynamo } from './authorize-dynamo.js';
import { iamAction } from './iam.js';
import { Identities, STORE_POLICY_PREFIX, storeTablesArn } from './identities.js';
import { jsonError } from './json-protocol.js';
import { KeySchemas } from './key-schemas.js';
import { IAM_NAMESPACE, QueryError, queryError, queryResponse, STS_NAMESPACE, type Reply } from './query-protocol.js';
import { header, parseAuthorization, type ReceivedRequest } from './sigv4.js';
import { stsAction } from './sts.js';

export interface GatewayOptions {
  config: SandboxConfig;
  /** DynamoDB Local, e.g. http://127.0.0.1:8000 */
  dynamoLocalEndpoint: string;
  /** port to listen on (127.0.0.1); 0 or absent picks a free one */
  port?: number;
  /** epoch milliseconds; tests pass a controllable clock to expire sessions without waiting */
  clock?: () => number;
  /** the run store's table prefix: the base principal may use `table/<prefix>*`; default runbooks- */
  storePrefix?: string;
}

export interface Gateway {
  /** http://127.0.0.1:PORT, for STS, IAM and DynamoDB alike */
  endpoint: string;
  port: number;
  region: string;
  account: string;
  baseCredentials: BaseCredentials;
  roles: SandboxRole[];
  stop(): Promise<void>;
}

// DynamoDB's largest request (BatchWriteItem of 25 items of 400 KB) is about 10 MB.
const MAX_BODY = 16 * 1024 * 1024;
const DYNAMO_TARGET = /^(DynamoDB_20120810|DynamoDBStreams_20120810)\.([A-Za-z]+)$/;
const IAM_ACTIONS = new Set(['PutRolePolicy', 'GetRolePolicy', 'DeleteRolePolicy', 'ListRolePolicies', 'GetRole']);
// The same refusal is named differently by the JSON services and by the Query services.
const DYNAMO_AUTH_ERRORS: Record<AuthFailure, string> = {
  missing: 'MissingAuthenticationTokenException',
  incomplete: 'IncompleteSignatureException',
  'unknown-key': 'UnrecognizedClientException',
  'bad-token': 'UnrecognizedClientException',
  expired: 'ExpiredTokenException',
  signature: 'InvalidSignatureException',
};
const QUERY_AUTH_ERRORS: Record<AuthFailure, [string, number]> = {
  missing: ['MissingAuthenticationToken', 403],
  incomplete: ['IncompleteSignature', 400],
  'unknown-key': ['InvalidClientTokenId', 403],
  'bad-token': ['InvalidClientTokenId', 403],
  expired: ['ExpiredToken', 400],
  signature: ['SignatureDoesNotMatch', 403],
};
const CONTROL_PLANE = new Set(['CreateTable', 'UpdateTable', 'DeleteTable']);

/** Starts the gateway on 127.0.0.1 in front of a running DynamoDB Local. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const clock = options.clock ?? Date.now;
  const identities = new Identities(config.account, config.roles, clock, storeTablesArn(config.region, config.account, options.storePrefix ?? STORE_POLICY_PREFIX));
  const local = new URL(options.dynamoLocalEndpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const schemas = new KeySchemas(local, agent);

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // No detail leaves the gateway: a message could carry request data.
      if (!res.headersSent) send(res, jsonError('InternalServerError', 'The sandbox gateway failed to handle the request.', randomUUID(), 500), clock());
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const body = await readBody(req);
    if (body === undefined) {
      send(res, jsonError('ValidationException', `The request body exceeds ${MAX_BODY} bytes.`, requestId, 413), clock());
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const received: ReceivedRequest = {
      method: req.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
      rawHeaders: req.rawHeaders,
      body,
    };
    const now = clock();
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') {
      const m = DYNAMO_TARGET.exec(target);
      if (!m) {
        send(res, jsonError('UnknownOperationException', `Unknown operation ${target}`, requestId), now);
        return;
      }
      const auth = authenticate(received, identities, now, ['dynamodb'], [config.region]);
      if (!auth.ok) {
        send(res, jsonError(DYNAMO_AUTH_ERRORS[auth.failure], auth.message, requestId), now);
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.length ? body.toString('utf8') : '{}');
      } catch {
        send(res, jsonError('SerializationException', 'The request body is not valid JSON.', requestId), now);
        return;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        send(res, jsonError('SerializationException', 'The request body must be a JSON object.', requestId), now);
        return;
      }
      const denied = await authorizeDynamo(auth.principal, m[2], parsed as Record<string, unknown>, {
        identities,
        schemas,
        region: config.region,
        account: config.account,
        now,
      });
      if (denied !== undefined) {
        send(res, jsonError('AccessDeniedException', denied, requestId), now);
        return;
      }
      const table = (parsed as { TableName?: unknown }).TableName;
      // A table created, changed or deleted may have another key schema: read it again next time.
      const forget = CONTROL_PLANE.has(m[2]) && typeof table === 'string' ? () => schemas.forget(table) : undefined;
      forget?.();
      forward(req, res, body, now, forget);
      return;
    }
    send(res, queryProtocol(received, requestId, now), now);
  }

  function queryProtocol(received: ReceivedRequest, requestId: string, now: number): Reply {
    const params = new URLSearchParams(received.method === 'GET' ? received.query : received.body.toString('utf8'));
    const action = params.get('Action');
    const scopeService = parseAuthorization(header(received.rawHeaders, 'authorization'))?.service;
    const service = scopeService === 'iam' || (scopeService !== 'sts' && action !== null && IAM_ACTIONS.has(action)) ? 'iam' : 'sts';
    const namespace = service === 'iam' ? IAM_NAMESPACE : STS_NAMESPACE;
    if (action === null) return queryError('MissingAction', 'The request must contain the parameter Action.', 400, namespace, requestId);
    // IAM is a global service signed for us-east-1; STS is regional.
    const regions = service === 'iam' ? [...new Set(['us-east-1', config.region])] : [config.region];
    const auth = authenticate(received, identities, now, [service], regions);
    if (!auth.ok) {
      const [code, status] = QUERY_AUTH_ERRORS[auth.failure];
      return queryError(code, auth.message, status, namespace, requestId);
    }
    try {
      const env = { identities, now, region: config.region };
      const result = service === 'iam' ? iamAction(action, params, auth.principal, env) : stsAction(action, params, auth.principal, env);
      return queryResponse(action, namespace, result, requestId);
    } catch (err) {
      if (err instanceof QueryError) return queryError(err.code, err.message, err.status, namespace, requestId);
      throw err;
    }
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, now: number, done?: () => void): void {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === 'authorization' || name === 'x-amz-security-token' || name === 'host' || name === 'connection') continue;
      headers[name] = value;
    }
    headers.authorization = LOCAL_AUTHORIZATION;
    headers['content-length'] = String(body.length);
    delete headers['transfer-encoding'];
    const upstream = httpRequest({ host: local.hostname, port: local.port, method: req.method, path: req.url, headers, agent }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && name !== 'connection' && name !== 'keep-alive') out[name] = value;
      }
      // Clients correct their clock from Date; it must be the sandbox's clock, not DynamoDB Local's.
      out.date = new Date(now).toUTCString();
      res.writeHead(answer.statusCode ?? 502, out);
      if (done) answer.once('end', done);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) send(res, jsonError('InternalServerError', 'DynamoDB Local did not answer.', randomUUID(), 500), now);
      else res.destroy();
    });
    upstream.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new RbError('RB_ERR_SANDBOX_START', `The sandbox gateway cannot listen on 127.0.0.1:${options.port ?? 0}: ${err.code ?? err.message}`)),
    );
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    region: config.region,
    account: config.account,
    baseCredentials: { accessKeyId: identities.base.accessKeyId, secretAccessKey: identities.base.secretAccessKey },
    roles: [...identities.roles.values()].map((r) => ({ name: r.name, arn: r.arn, roleId: r.roleId })),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply, now: number): void {
  res.writeHead(reply.status, { ...reply.headers, date: new Date(now).toUTCString(), 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}
