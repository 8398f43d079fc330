/** IAM's wildcard matching: `*` any run of characters, `?` one character. */

const cache = new Map<string, RegExp>();

/** Matches a value against a pattern with `*` and `?`; actions compare case-insensitively. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*') && !pattern.includes('?')) {
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  }
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = cache.get(key);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    if (cache.size > 10_000) cache.clear();
    cache.set(key, re);
  }
  return re.test(value);
}

/**
 * Matches an ARN against an ARN pattern (the Resource element, ArnLike): each of the first five
 * colon-separated parts is matched on its own, so a wildcard never spans a `:` between them; the
 * resource part may contain `:` and `/`.
 */
export function arnMatch(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = splitArn(pattern);
  const a = splitArn(arn);
  // A pattern with fewer than six parts is no ARN pattern and matches nothing but itself.
  if (!p || !a) return pattern === arn;
  for (let i = 0; i < 6; i++) if (!wildcardMatch(p[i], a[i])) return false;
  return true;
}

function splitArn(arn: string): string[] | undefined {
  const parts: string[] = [];
  let rest = arn;
  for (let i = 0; i < 5; i++) {
    const at = rest.indexOf(':');
    if (at === -1) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}
