/**
 * IAM's wildcard matching: `*` any run of characters, `?` one character. A backslash makes the next
 * character literal: patterns built from policy text with variables substituted (variables.ts,
 * substitutePattern) mark so what the variables stood for, e.g. `${*}` as `\*`.
 */

const cache = new Map<string, RegExp>();

/** Matches a value against a pattern with `*` and `?`; actions compare case-insensitively. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === '*') return true;
  if (!/[*?\\]/.test(pattern)) {
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  }
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = cache.get(key);
  if (!re) {
    let body = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === '\\' && i + 1 < pattern.length) body += escapeRegex(pattern[++i]);
      else if (c === '*') body += '.*';
      else if (c === '?') body += '.';
      else body += escapeRegex(c);
    }
    re = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    if (cache.size > 10_000) cache.clear();
    cache.set(key, re);
  }
  return re.test(value);
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(c) ? `\\${c}` : c;
}

/**
 * Matches an ARN against an ARN pattern (the Resource element, ArnLike): each of the first five
 * colon-separated parts is matched on its own, so a wildcard never spans a `:` between them; the
 * resource part may contain `:` and `/`.
 */
export function arnMatch(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = splitArn(pattern, true);
  const a = splitArn(arn, false);
  // A pattern with fewer than six parts is no ARN pattern and matches nothing but itself.
  if (!p || !a) return pattern.replace(/\\(.)/gs, '$1') === arn;
  for (let i = 0; i < 6; i++) if (!wildcardMatch(p[i], a[i])) return false;
  return true;
}

/** The six parts of an ARN; in a pattern, an escaped character is never a separator. */
function splitArn(arn: string, escaped: boolean): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < arn.length && parts.length < 5; i++) {
    if (escaped && arn[i] === '\\') i++;
    else if (arn[i] === ':') {
      parts.push(arn.slice(start, i));
      start = i + 1;
    }
  }
  if (parts.length < 5) return undefined;
  parts.push(arn.slice(start));
  return parts;
}
