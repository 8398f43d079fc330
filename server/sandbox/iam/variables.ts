/** IAM policy variables: `${aws:userid}`, `${aws:PrincipalTag/team}`, `${*}`, and `${key, 'default'}`. */
import type { ContextKeys } from './context-keys.js';

const VARIABLE = /\$\{([^}]*)\}/g;

/**
 * The string with every variable replaced by its single value in the request; undefined when a
 * variable has no value and no default (IAM then treats the element as not matching).
 */
export function substituteVariables(text: string, keys: ContextKeys): string | undefined {
  if (!text.includes('${')) return text;
  let missing = false;
  const out = text.replace(VARIABLE, (_m, inner: string) => {
    const body = inner.trim();
    if (body === '*' || body === '?' || body === '$') return body;
    const [name, dflt] = splitDefault(body);
    const values = keys.get(name.toLowerCase());
    if (values && values.length === 1) return values[0];
    if (dflt !== undefined) return dflt;
    missing = true;
    return '';
  });
  return missing ? undefined : out;
}

function splitDefault(body: string): [string, string | undefined] {
  const m = /^([^,]+),\s*'([^']*)'$/.exec(body);
  return m ? [m[1].trim(), m[2]] : [body, undefined];
}
