/**
 * IAM on the gateway: the inline policies of the sandbox's roles (PutRolePolicy, GetRolePolicy,
 * DeleteRolePolicy, ListRolePolicies) and GetRole. Inline policies take effect at the next request
 * of every session of the role, as in AWS (where it takes seconds).
 */
import type { PolicyDocument } from '../types.js';
import { accessDeniedMessage, authorize, type AuthzRequest } from '../iam/evaluate-policy.js';
import { validatePolicy } from '../iam/validate-policy.js';
import type { Identities, Principal, RoleState } from './identities.js';
import { principalContext } from './principal-context.js';
import { el, members, QueryError } from './query-protocol.js';
import { isoSeconds } from './sts.js';

export interface IamEnv {
  identities: Identities;
  now: number;
  region: string;
}

/** IAM's aggregate limit for a role's inline policies (whitespace does not count). */
export const INLINE_POLICY_LIMIT = 10_240;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const ACTIONS = new Set(['PutRolePolicy', 'GetRolePolicy', 'DeleteRolePolicy', 'ListRolePolicies', 'GetRole']);

/** The XML result of an IAM action (undefined for actions without a result); throws QueryError. */
export function iamAction(action: string, params: URLSearchParams, principal: Principal, env: IamEnv): string | undefined {
  if (!ACTIONS.has(action)) throw new QueryError('InvalidAction', `Could not find operation ${action} for version 2010-05-08`);
  const roleName = params.get('RoleName');
  if (roleName === null) throw new QueryError('ValidationError', "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null");
  const roleArn = `arn:aws:iam::${env.identities.account}:role/${roleName}`;
  const request: AuthzRequest = { action: `iam:${action}`, resource: roleArn, keys: principalContext(principal, env.now, env.region) };
  const decision = authorize(request, env.identities.identityPolicies(principal), principal.session?.policy ? [principal.session.policy] : undefined);
  if (!decision.allowed) throw new QueryError('AccessDenied', accessDeniedMessage(principal.arn, request, decision), 403);
  const role = env.identities.roles.get(roleName);
  if (!role) throw new QueryError('NoSuchEntity', `The role with name ${roleName} cannot be found.`, 404);

  switch (action) {
    case 'GetRole':
      return el('Role', roleXml(role), true);
    case 'ListRolePolicies':
      return el('PolicyNames', members([...role.inline.keys()].sort()), true) + el('IsTruncated', false);
    case 'GetRolePolicy': {
      const policy = role.inline.get(policyName(params));
      if (!policy) throw new QueryError('NoSuchEntity', `The role policy with name ${params.get('PolicyName')} cannot be found.`, 404);
      // IAM returns the document URL-encoded (RFC 3986), as it was put.
      return el('RoleName', role.name) + el('PolicyName', params.get('PolicyName')!) + el('PolicyDocument', encodeURIComponent(policy.text));
    }
    case 'DeleteRolePolicy': {
      const name = policyName(params);
      if (!role.inline.delete(name)) throw new QueryError('NoSuchEntity', `The role policy with name ${name} cannot be found.`, 404);
      return undefined;
    }
    default:
      putRolePolicy(role, params);
      return undefined;
  }
}

function putRolePolicy(role: RoleState, params: URLSearchParams): void {
  const name = policyName(params);
  const text = params.get('PolicyDocument');
  if (text === null) throw new QueryError('ValidationError', "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new QueryError('MalformedPolicyDocument', 'This policy contains invalid Json');
  }
  const problems = validatePolicy(parsed);
  if (problems.length) throw new QueryError('MalformedPolicyDocument', `Syntax errors in policy: ${problems.map((p) => p.message).join('; ')}`);
  let total = inlineSize(text);
  for (const [other, p] of role.inline) if (other !== name) total += inlineSize(p.text);
  if (total > INLINE_POLICY_LIMIT) {
    throw new QueryError('LimitExceeded', `Maximum policy size of ${INLINE_POLICY_LIMIT} bytes exceeded for role ${role.name}`, 409);
  }
  role.inline.set(name, { document: parsed as PolicyDocument, text });
}

/** Size of a policy as IAM counts it against the inline limit: whitespace outside strings does not count. */
export function inlineSize(text: string): number {
  return Buffer.byteLength(JSON.stringify(JSON.parse(text)));
}

function policyName(params: URLSearchParams): string {
  const name = params.get('PolicyName');
  if (name === null || !POLICY_NAME.test(name)) {
    throw new QueryError(
      'ValidationError',
      `1 validation error detected: Value ${name === null ? 'null' : `'${name}'`} at 'policyName' failed to satisfy constraint: Member must ${name === null ? 'not be null' : 'satisfy regular expression pattern: [\\w+=,.@-]+'}`,
    );
  }
  return name;
}

function roleXml(role: RoleState): string {
  const trust = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${role.arn.split(':')[4]}:user/runbooks-server` }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'] },
    ],
  };
  return (
    el('Path', '/') +
    el('RoleName', role.name) +
    el('RoleId', role.roleId) +
    el('Arn', role.arn) +
    el('CreateDate', isoSeconds(role.createdAt)) +
    el('AssumeRolePolicyDocument', encodeURIComponent(JSON.stringify(trust))) +
    el('MaxSessionDuration', role.maxSessionDuration)
  );
}
