/** The global condition keys AWS sets for a principal's request (aws:userid, aws:TokenIssueTime…). */
import { contextKeys } from '../iam/context-keys.js';
import type { Principal } from './identities.js';

/** Condition keys of a request by `principal` at `now`, plus any request-specific ones. */
export function principalContext(
  principal: Principal,
  now: number,
  region: string,
  extra: Record<string, string | readonly string[] | undefined> = {},
): Map<string, readonly string[]> {
  const s = principal.session;
  const keys: Record<string, string | readonly string[] | undefined> = {
    'aws:userid': principal.userId,
    'aws:PrincipalArn': s ? s.role.arn : principal.arn,
    'aws:PrincipalAccount': principal.account,
    'aws:PrincipalType': s ? 'AssumedRole' : 'User',
    'aws:username': s ? undefined : principal.arn.slice(principal.arn.lastIndexOf('/') + 1),
    'aws:SourceIdentity': s?.sourceIdentity,
    'aws:TokenIssueTime': s ? new Date(s.issuedAt).toISOString().replace('.000Z', 'Z') : undefined,
    'aws:CurrentTime': new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'aws:EpochTime': String(Math.floor(now / 1000)),
    'aws:SecureTransport': 'false',
    'aws:RequestedRegion': region,
    ...extra,
  };
  for (const tag of s?.tags ?? []) keys[`aws:PrincipalTag/${tag.key}`] = tag.value;
  return contextKeys(keys);
}
