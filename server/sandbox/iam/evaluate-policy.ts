/**
 * IAM policy evaluation for one request (action, resource, condition keys), as AWS does it for a
 * principal in its own account without resource policies or boundaries: an explicit Deny in any
 * policy wins; otherwise an identity policy must Allow and, where the session was issued with a
 * session policy, that policy must Allow too (the effective permission is their intersection).
 */
import type { PolicyDocument, PolicyStatement } from '../types.js';
import { conditionHolds } from './conditions.js';
import type { ContextKeys } from './context-keys.js';
import { arnMatch, wildcardMatch } from './match.js';
import { substitutePattern } from './variables.js';

export interface AuthzRequest {
  /** `service:Action`, e.g. `dynamodb:GetItem` */
  action: string;
  /** the resource ARN, or `*` for actions without one (ListTables) */
  resource: string;
  keys: ContextKeys;
}

export type PolicyKind = 'identity' | 'session';

export type Decision = { allowed: true } | { allowed: false; reason: 'explicit-deny' | 'no-allow'; policy: PolicyKind };

/**
 * Decides one request. `session` is undefined when the session was issued without a policy (it
 * then has the role's permissions); an empty list would allow nothing.
 */
export function authorize(request: AuthzRequest, identity: readonly PolicyDocument[], session?: readonly PolicyDocument[]): Decision {
  if (anyStatement(identity, 'Deny', request)) return { allowed: false, reason: 'explicit-deny', policy: 'identity' };
  if (session && anyStatement(session, 'Deny', request)) return { allowed: false, reason: 'explicit-deny', policy: 'session' };
  if (!anyStatement(identity, 'Allow', request)) return { allowed: false, reason: 'no-allow', policy: 'identity' };
  if (session && !anyStatement(session, 'Allow', request)) return { allowed: false, reason: 'no-allow', policy: 'session' };
  return { allowed: true };
}

/** AWS's AccessDenied wording: who, which action, which resource, and why. */
export function accessDeniedMessage(principalArn: string, request: AuthzRequest, decision: Decision): string {
  const head = `User: ${principalArn} is not authorized to perform: ${request.action} on resource: ${request.resource}`;
  if (decision.allowed) return head;
  const kind = decision.policy === 'identity' ? 'identity-based' : 'session';
  return decision.reason === 'explicit-deny'
    ? `${head} with an explicit deny in ${decision.policy === 'identity' ? 'an' : 'a'} ${kind} policy`
    : `${head} because no ${kind} policy allows the ${request.action} action`;
}

function anyStatement(policies: readonly PolicyDocument[], effect: 'Allow' | 'Deny', request: AuthzRequest): boolean {
  for (const policy of policies) {
    const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
    for (const s of statements) if (s.Effect === effect && statementApplies(s, request)) return true;
  }
  return false;
}

function statementApplies(s: PolicyStatement, request: AuthzRequest): boolean {
  const actionMatches = (p: string): boolean => wildcardMatch(p, request.action, true);
  if (s.Action !== undefined && !list(s.Action).some(actionMatches)) return false;
  if (s.NotAction !== undefined && list(s.NotAction).some(actionMatches)) return false;
  const resourceMatches = (p: string): boolean => {
    const pattern = substitutePattern(p, request.keys);
    return pattern !== undefined && arnMatch(pattern, request.resource);
  };
  if (s.Resource !== undefined && !list(s.Resource).some(resourceMatches)) return false;
  if (s.NotResource !== undefined && list(s.NotResource).some(resourceMatches)) return false;
  return s.Condition === undefined || conditionHolds(s.Condition, request.keys);
}

function list(v: string | string[]): string[] {
  return typeof v === 'string' ? [v] : v;
}
