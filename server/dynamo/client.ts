/**
 * One DynamoDB client per session, built from that session's credentials and nothing else (no
 * default chain, no environment), cached while the session is held and destroyed the moment it is
 * forgotten, so no SDK object keeps a revoked session's keys.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { credentialsOf, onForget, type Session } from '../access/credentials.js';
import { clientOptions, type AwsTarget } from '../access/sdk.js';

export interface SessionClients {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

const cache = new WeakMap<Session, { target: string; clients: SessionClients }>();

onForget((session) => {
  const entry = cache.get(session);
  cache.delete(session);
  entry?.clients.client.destroy();
});

/** The clients of a session for a region and endpoint; throws RB_ERR_ACCESS_SESSION_REVOKED once it is forgotten. */
export function clientsFor(session: Session, target: AwsTarget): SessionClients {
  const credentials = credentialsOf(session);
  const key = `${target.region}\n${target.endpoint ?? ''}`;
  const cached = cache.get(session);
  if (cached?.target === key) return cached.clients;
  cached?.clients.client.destroy();
  // No expiration is passed: an expired session is then refused by DynamoDB (ExpiredTokenException),
  // one failure path whatever the clock of this server says.
  const { accessKeyId, secretAccessKey, sessionToken } = credentials;
  const client = new DynamoDBClient({ ...clientOptions(target), credentials: { accessKeyId, secretAccessKey, sessionToken } });
  const doc = DynamoDBDocumentClient.from(client, {
    // Item values are plain YAML/JSON values; numbers come back wrapped so none loses precision.
    marshallOptions: { removeUndefinedValues: true },
    unmarshallOptions: { wrapNumbers: true },
  });
  const clients = { client, doc };
  cache.set(session, { target: key, clients });
  return clients;
}
