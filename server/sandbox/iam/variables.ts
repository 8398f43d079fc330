/**
 * IAM policy variables: `${aws:userid}`, `${aws:PrincipalTag/team}`, `${key, 'default'}`, and the
 * special characters `${*}`, `${?}`, `${$}`, which stand for a literal `*`, `?` and `$` "in any
 * string where you can use regular policy variables" (AWS, Policy variables, "Special characters").
 *
 * What a variable stands for is text, never a wildcard: in a wildcard pattern (StringLike, ArnLike,
 * Resource) `${*}` matches an asterisk only. Patterns are therefore returned in the escaped form
 * match.ts reads, where `\` makes the next character literal.
 */
import type { ContextKeys } from './context-keys.js';

const VARIABLE = /\$\{([^}]*)\}/g;

/**
 * The string with every variable replaced by its single value in the request, for operators that
 * compare exactly (StringEquals…); undefined when a variable has no value and no default (IAM then
 * treats the element as not matching).
 */
export function substituteVariables(text: string, keys: ContextKeys): string | undefined {
  if (!text.includes('${')) return text;
  return substitute(
    text,
    keys,
    (s) => s,
    (s) => s,
  );
}

/**
 * A wildcard pattern (Resource, StringLike, ArnLike…) with its variables replaced, escaped for
 * match.ts: the policy's own `*` and `?` stay wildcards, what variables stand for is literal.
 */
export function substitutePattern(text: string, keys: ContextKeys): string | undefined {
  if (!text.includes('${') && !text.includes('\\')) return text;
  return substitute(
    text,
    keys,
    (s) => s.replace(/\\/g, '\\\\'),
    (s) => s.replace(/[\\*?]/g, '\\$&'),
  );
}

function substitute(text: string, keys: ContextKeys, own: (s: string) => string, resolved: (s: string) => string): string | undefined {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(VARIABLE)) {
    const value = resolve(m[1].trim(), keys);
    if (value === undefined) return undefined;
    out += own(text.slice(last, m.index)) + resolved(value);
    last = m.index + m[0].length;
  }
  return out + own(text.slice(last));
}

function resolve(body: string, keys: ContextKeys): string | undefined {
  if (body === '*' || body === '?' || body === '$') return body;
  const [name, dflt] = splitDefault(body);
  const values = keys.get(name.toLowerCase());
  if (values && values.length === 1) return values[0];
  return dflt;
}

function splitDefault(body: string): [string, string | undefined] {
  const m = /^([^,]+),\s*'([^']*)'$/.exec(body);
  return m ? [m[1].trim(), m[2]] : [body, undefined];
}
