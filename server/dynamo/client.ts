/**
 * One DynamoDB client per session, built from that session's credentials and nothing else (no
 * default chain, no environment), destroyed the moment the session is forgotten, so no SDK object
 * keeps a revoked session's keys. Only the clients of the last few sessions are kept: a step's
 * session serves one execution, and a run holds all its sessions until it ends, so a client per
 * session kept that long made memory grow with every execution of a long run.
 *
 * The clients share one HTTP handler, so one pool of keep-alive connections: a step's session is
 * new at every execution, and a pool per session paid a new connection each time and left an idle
 * one behind per session until the run ended. A connection carries no credentials — every request
 * is signed with its own session's keys — and a forgotten session's client refuses to send.
 *
 * The settings the SDK reads from the environment and the shared config files (FIPS, dual-stack,
 * retry mode, defaults mode, …) are read once per region and endpoint and handed to every session's
 * client, instead of each new client running the whole lookup again at its first request (each miss
 * a thrown ProviderError): that lookup was about half of what making a session's client cost.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { credentialsOf, isHeld, onForget, type Session } from '../aws/credentials.js';
import { clientOptions, type AwsTarget } from '../aws/sdk.js';
import { RbError } from '../errors.js';

export interface SessionClients {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

type Handler = NodeHttpHandler;

/** clients by session, least recently used first */
const cache = new Map<Session, { target: string; clients: SessionClients }>();
const KEPT = 32;
let pool: Handler | undefined;

function drop(session: Session): void {
  const entry = cache.get(session);
  cache.delete(session);
  entry?.clients.client.destroy();
}

onForget(drop);

/** The session's view of the shared pool: sends only while the session is held; destroying it leaves the pool open. */
function sessionHandler(session: Session): Handler {
  const shared = (pool ??= new NodeHttpHandler());
  return {
    metadata: shared.metadata,
    handle: (request, options) => (isHeld(session) ? shared.handle(request, options) : Promise.reject(new RbError('RB_ERR_ACCESS_SESSION_REVOKED'))),
    destroy: () => undefined,
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  } as Partial<Handler> as Handler;
}

// The settings of a client's runtime config that the SDK loads from the environment and config files.
const LOADED_SETTINGS = [
  'accountIdEndpointMode',
  'authSchemePreference',
  'defaultsMode',
  'endpointDiscoveryEnabledProvider',
  'retryMode',
  'useDualstackEndpoint',
  'useFipsEndpoint',
  'userAgentAppId',
] as const;
const loadedSettings = new Map<string, Partial<DynamoDBClientConfig>>();

/**
 * The SDK's own loaders of those settings, from a client that never sends (no credentials of any
 * session): they are memoized, so every client given them shares one lookup. Where a version of the
 * SDK keeps them elsewhere, this is empty and each client loads its settings itself, as before.
 */
function settingsFor(key: string, target: AwsTarget): Partial<DynamoDBClientConfig> {
  let found = loadedSettings.get(key);
  if (!found) {
    const probe = new DynamoDBClient({ ...clientOptions(target), credentials: { accessKeyId: 'none', secretAccessKey: 'none' } });
    const init = (probe.initConfig ?? {}) as Record<string, unknown>;
    found = Object.fromEntries(LOADED_SETTINGS.filter((k) => typeof init[k] === 'function').map((k) => [k, init[k]]));
    probe.destroy();
    loadedSettings.set(key, found);
  }
  return found;
}

/** The clients of a session for a region and endpoint; throws RB_ERR_ACCESS_SESSION_REVOKED once it is forgotten. */
export function clientsFor(session: Session, target: AwsTarget): SessionClients {
  const credentials = credentialsOf(session);
  const key = `${target.region}\n${target.endpoint ?? ''}`;
  const cached = cache.get(session);
  if (cached?.target === key) {
    cache.delete(session);
    cache.set(session, cached);
    return cached.clients;
  }
  drop(session);
  // No expiration is passed: an expired session is then refused by DynamoDB (ExpiredTokenException),
  // one failure path whatever the clock of this server says.
  const { accessKeyId, secretAccessKey, sessionToken } = credentials;
  const config: DynamoDBClientConfig = {
    ...settingsFor(key, target),
    ...clientOptions(target),
    credentials: { accessKeyId, secretAccessKey, sessionToken },
    requestHandler: sessionHandler(session),
  };
  const client = new DynamoDBClient(config);
  const doc = DynamoDBDocumentClient.from(client, {
    // Item values are plain YAML/JSON values; numbers come back wrapped so none loses precision.
    marshallOptions: { removeUndefinedValues: true },
    unmarshallOptions: { wrapNumbers: true },
  });
  const clients = { client, doc };
  cache.set(session, { target: key, clients });
  if (cache.size > KEPT) drop(cache.keys().next().value!);
  return clients;
}
