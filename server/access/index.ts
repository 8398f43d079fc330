/** Just-in-time access: session policies, the STS broker, credentials held apart, IAM revocation. */
export { checkName, indexArn, parseRoleArn, tableArn, type ArnScope } from './arn.js';
export {
  deriveSessionPolicy,
  describeTablePolicy,
  minimalRolePolicy,
  tablesOf,
  type DeriveContext,
  type PolicyDocument,
  type PolicyStatement,
} from './derive-policy.js';
export { partiqlTarget, type PartiqlTarget } from './partiql-target.js';
export { runUserIdPattern, sessionName } from './session-name.js';
export { createBroker, stsError, type AssumeInput, type Broker, type BrokerOptions } from './broker.js';
export {
  credentialsOf,
  forget,
  isHeld,
  type AwsCredentialIdentity,
  type AwsCredentialIdentityProvider,
  type Session,
} from './credentials.js';
export { createIamRevoker, revokeRunSessions, type IamRevoker, type RevokeRunInput, type RevokerOptions } from './revocation.js';
export { REVOCATION_POLICY_NAME } from './revocation-policy.js';
export { createKeySchemaCache, createKeySchemaStore, type KeySchemaCache, type KeySchemaCacheOptions, type KeySchemaStore, type KeySchemaStoreOptions } from './key-schemas.js';
export type { AwsTarget } from './sdk.js';
