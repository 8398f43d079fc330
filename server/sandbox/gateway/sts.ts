/** STS on the gateway: AssumeRole (Policy, DurationSeconds, RoleSessionName, SourceIdentity, Tags) and GetCallerIdentity. */
import type { PolicyDocument } from '../types.js';
import { accessDeniedMessage, authorize, type AuthzRequest } from '../iam/evaluate-policy.js';
import { validatePolicy } from '../iam/validate-policy.js';
import type { Identities, Principal, RoleState } from './identities.js';
import { packedPolicyPercent, POLICY_PLAINTEXT_LIMIT } from './packed-policy.js';
import { principalContext } from './principal-context.js';
import { el, memberList, QueryError } from './query-protocol.js';

export interface StsEnv {
  identities: Identities;
  now: number;
  region: string;
}

const NAME = /^[\w+=,.@-]*$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

/** The XML result of an STS action; throws QueryError with AWS's code and message. */
export function stsAction(action: string, params: URLSearchParams, principal: Principal, env: StsEnv): string {
  if (action === 'GetCallerIdentity') {
    return el('Arn', principal.arn) + el('UserId', principal.userId) + el('Account', principal.account);
  }
  if (action === 'AssumeRole') return assumeRole(params, principal, env);
  throw new QueryError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
}

function assumeRole(params: URLSearchParams, principal: Principal, env: StsEnv): string {
  const roleArn = params.get('RoleArn');
  const sessionName = params.get('RoleSessionName');
  const durationText = params.get('DurationSeconds');
  const policyText = params.get('Policy') ?? undefined;
  const sourceIdentity = params.get('SourceIdentity') ?? undefined;
  const tags = memberList(params, 'Tags').map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' }));

  const errors: string[] = [];
  const constraint = (value: string | null, field: string, rule: string): void => {
    errors.push(`Value ${value === null ? 'null' : `'${value}'`} at '${field}' failed to satisfy constraint: Member must ${rule}`);
  };
  if (roleArn === null) constraint(null, 'roleArn', 'not be null');
  else if (roleArn.length < 20) constraint(roleArn, 'roleArn', 'have length greater than or equal to 20');
  else if (roleArn.length > 2048) constraint(roleArn, 'roleArn', 'have length less than or equal to 2048');
  checkName(sessionName, 'roleSessionName', true, constraint);
  checkName(sourceIdentity ?? null, 'sourceIdentity', false, constraint);
  const duration = durationText === null ? 3600 : Number(durationText);
  if (!Number.isInteger(duration)) constraint(durationText, 'durationSeconds', 'be a whole number');
  else if (duration < 900) constraint(durationText, 'durationSeconds', 'have value greater than or equal to 900');
  else if (duration > 43200) constraint(durationText, 'durationSeconds', 'have value less than or equal to 43200');
  if (policyText !== undefined && policyText.length > POLICY_PLAINTEXT_LIMIT) {
    constraint(policyText, 'policy', `have length less than or equal to ${POLICY_PLAINTEXT_LIMIT}`);
  }
  if (tags.length > 50) constraint(`[${tags.length} tags]`, 'tags', 'have length less than or equal to 50');
  tags.forEach((t, i) => {
    if (t.key.length < 1 || t.key.length > 128)
      constraint(t.key, `tags.${i + 1}.member.key`, `have length ${t.key.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 128'}`);
    else if (!TAG_KEY.test(t.key)) constraint(t.key, `tags.${i + 1}.member.key`, 'satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+');
    if (t.value.length > 256) constraint(t.value, `tags.${i + 1}.member.value`, 'have length less than or equal to 256');
  });
  if (errors.length) {
    throw new QueryError('ValidationError', `${errors.length} validation error${errors.length > 1 ? 's' : ''} detected: ${errors.join('; ')}`);
  }
  if (params.has('PolicyArns.member.1.arn')) {
    throw new QueryError('ValidationError', 'The sandbox does not support managed session policies (PolicyArns); pass the session policy inline as Policy.');
  }
  if (sourceIdentity?.toLowerCase().startsWith('aws:')) {
    throw new QueryError('ValidationError', "SourceIdentity cannot begin with the prefix 'aws:'");
  }
  const seen = new Set<string>();
  for (const t of tags) {
    // STS compares tag keys case-insensitively.
    if (seen.has(t.key.toLowerCase())) throw new QueryError('ValidationError', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(t.key.toLowerCase());
  }

  const role = findRole(roleArn!, env.identities);
  // The roles' trust policies trust the base principal only (no role chaining); AWS words a trust
  // refusal, and an unknown role, without a reason.
  if (!role || principal.kind !== 'user') {
    throw new QueryError('AccessDenied', `User: ${principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
  }
  const needed = ['sts:AssumeRole', ...(sourceIdentity ? ['sts:SetSourceIdentity'] : []), ...(tags.length ? ['sts:TagSession'] : [])];
  for (const action of needed) {
    const request: AuthzRequest = { action, resource: role.arn, keys: principalContext(principal, env.now, env.region) };
    const decision = authorize(request, env.identities.identityPolicies(principal));
    if (!decision.allowed) throw new QueryError('AccessDenied', accessDeniedMessage(principal.arn, request, decision), 403);
  }
  if (duration > role.maxSessionDuration) {
    throw new QueryError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }

  let policy: PolicyDocument | undefined;
  if (policyText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(policyText);
    } catch {
      throw new QueryError('MalformedPolicyDocument', 'The policy is not in the valid JSON format.');
    }
    const problems = validatePolicy(parsed);
    if (problems.length) throw new QueryError('MalformedPolicyDocument', `The session policy is invalid: ${problems.map((p) => p.message).join('; ')}`);
    policy = parsed as PolicyDocument;
  }
  const packed = policy !== undefined || tags.length ? packedPolicyPercent(policy, tags) : undefined;
  if (packed !== undefined && packed > 100) {
    throw new QueryError('PackedPolicyTooLarge', `Packed policy consumes ${packed}% of allotted space, please use smaller policy.`);
  }

  const issued = env.identities.issueSession({ role: role, sessionName: sessionName!, sourceIdentity, tags, policy, durationSeconds: duration });
  const session = issued.principal.session!;
  return (
    el(
      'Credentials',
      el('AccessKeyId', issued.accessKeyId) +
        el('SecretAccessKey', issued.secretAccessKey) +
        el('SessionToken', issued.sessionToken) +
        el('Expiration', isoSeconds(session.expiresAt)),
      true,
    ) +
    el('AssumedRoleUser', el('AssumedRoleId', issued.principal.userId) + el('Arn', issued.principal.arn), true) +
    el('PackedPolicySize', packed) +
    el('SourceIdentity', sourceIdentity)
  );
}

function checkName(value: string | null, field: string, required: boolean, constraint: (value: string | null, field: string, rule: string) => void): void {
  if (value === null) {
    if (required) constraint(null, field, 'not be null');
    return;
  }
  if (value.length < 2) constraint(value, field, 'have length greater than or equal to 2');
  else if (value.length > 64) constraint(value, field, 'have length less than or equal to 64');
  else if (!NAME.test(value)) constraint(value, field, 'satisfy regular expression pattern: [\\w+=,.@-]*');
}

function findRole(arn: string, identities: Identities): RoleState | undefined {
  const m = ROLE_ARN.exec(arn);
  if (!m || m[1] !== identities.account) return undefined;
  const role = identities.roles.get(m[2]);
  return role && role.arn === arn ? role : undefined;
}

/** ISO 8601 in whole seconds, as STS writes Expiration. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
