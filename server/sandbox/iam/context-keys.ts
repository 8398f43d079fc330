/**
 * The condition keys the sandbox sets on a request. IAM condition key names are case-insensitive,
 * so the request context stores them lower-cased; values stay as they are.
 */

/** Condition keys and their values for one authorisation request (keys lower-cased). */
export type ContextKeys = ReadonlyMap<string, readonly string[]>;

/** The condition keys the sandbox sets (or knows to be absent), as AWS spells them; aws:PrincipalTag/<key> besides. */
export const CONDITION_KEYS = [
  'aws:userid',
  'aws:username',
  'aws:PrincipalArn',
  'aws:PrincipalAccount',
  'aws:PrincipalType',
  'aws:SourceIdentity',
  'aws:TokenIssueTime',
  'aws:CurrentTime',
  'aws:EpochTime',
  'aws:SecureTransport',
  'aws:RequestedRegion',
  'dynamodb:LeadingKeys',
] as const;

const SUPPORTED = new Set<string>(CONDITION_KEYS.map((k) => k.toLowerCase()));

/** true for a condition key the sandbox sets (or knows to be absent) on the requests it evaluates. */
export function isSupportedConditionKey(key: string): boolean {
  const k = key.toLowerCase();
  return SUPPORTED.has(k) || (k.startsWith('aws:principaltag/') && k.length > 'aws:principaltag/'.length);
}

/** Builds a context from keys as AWS spells them; undefined values are left out (the key is absent). */
export function contextKeys(entries: Record<string, string | readonly string[] | undefined>): Map<string, readonly string[]> {
  const map = new Map<string, readonly string[]>();
  for (const [k, v] of Object.entries(entries)) {
    if (v === undefined) continue;
    map.set(k.toLowerCase(), typeof v === 'string' ? [v] : v);
  }
  return map;
}
