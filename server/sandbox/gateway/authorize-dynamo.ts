/**
 * Authorises a DynamoDB request for a principal: each action and resource the request needs is
 * evaluated against the role's policies (attached and inline, read now) and the session policy.
 * The first refusal is reported, as AWS reports one.
 */
import { accessDeniedMessage, authorize, type AuthzRequest } from '../iam/evaluate-policy.js';
import type { PolicyDocument } from '../types.js';
import { deriveAuthorizations } from './dynamo-authorizations.js';
import type { Identities, Principal } from './identities.js';
import type { KeySchemas } from './key-schemas.js';
import { principalContext } from './principal-context.js';

export interface DynamoAuthEnv {
  identities: Identities;
  schemas: KeySchemas;
  region: string;
  account: string;
  now: number;
}

/** undefined when every part of the request is allowed, else AWS's AccessDenied message. */
export async function authorizeDynamo(principal: Principal, operation: string, body: Record<string, unknown>, env: DynamoAuthEnv): Promise<string | undefined> {
  const identity = env.identities.identityPolicies(principal);
  const session = principal.session?.policy ? [principal.session.policy] : undefined;
  const needsKeys = [...identity, ...(session ?? [])].some(mentionsLeadingKeys);
  const parts = await deriveAuthorizations(operation, body, {
    region: env.region,
    account: env.account,
    keySchema: needsKeys ? (table) => env.schemas.get(table) : undefined,
  });
  for (const part of parts) {
    const request: AuthzRequest = {
      action: part.action,
      resource: part.resource,
      keys: principalContext(principal, env.now, env.region, { 'dynamodb:LeadingKeys': part.leadingKeys }),
    };
    const decision = authorize(request, identity, session);
    if (!decision.allowed) return accessDeniedMessage(principal.arn, request, decision);
  }
  return undefined;
}

const mentions = new WeakMap<PolicyDocument, boolean>();

function mentionsLeadingKeys(policy: PolicyDocument): boolean {
  let found = mentions.get(policy);
  if (found === undefined) {
    found = JSON.stringify(policy).toLowerCase().includes('dynamodb:leadingkeys');
    mentions.set(policy, found);
  }
  return found;
}
