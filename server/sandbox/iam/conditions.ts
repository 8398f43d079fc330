/**
 * The Condition element, with IAM's semantics:
 * - all operators of a statement, and all keys of an operator, must hold (AND); the values listed
 *   for one key are alternatives (OR);
 * - a key absent from the request makes a positive operator false, a negated one (`StringNotEquals`,
 *   `ArnNotLike`…) true, and anything with `IfExists` true;
 * - `ForAllValues:` holds when every request value matches, and so also when the key is absent or
 *   empty (the well-known footgun); `ForAnyValue:` needs at least one matching value.
 */
import { arnMatch, wildcardMatch } from './match.js';
import type { ContextKeys } from './context-keys.js';
import { substitutePattern, substituteVariables } from './variables.js';

type Compare = (requestValue: string, policyValue: string) => boolean;

interface BaseOperator {
  compare: Compare;
  /** negated operators hold when no policy value matches */
  negated: boolean;
  /**
   * how policy values are read: as they are, as text with ${…} variables (exact operators), or as
   * wildcard patterns with variables (match.ts's escaped form: what a variable stands for is literal)
   */
  values: 'raw' | 'text' | 'pattern';
}

export interface ParsedOperator {
  set?: 'ForAllValues' | 'ForAnyValue';
  name: string;
  base?: BaseOperator;
  ifExists: boolean;
  /** the Null operator: tests presence, not value */
  isNull: boolean;
}

const num = (s: string): number => (s.trim() === '' ? NaN : Number(s));
/** IAM dates are ISO 8601 or epoch seconds */
const date = (s: string): number => (/^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s));
/** Compares two values read as numbers by `read`: a value that does not read as one matches nothing. */
const readAs =
  (read: (s: string) => number) =>
  (test: (a: number, b: number) => boolean): Compare =>
  (a, b) => {
    const x = read(a);
    const y = read(b);
    return !Number.isNaN(x) && !Number.isNaN(y) && test(x, y);
  };
const numeric = readAs(num);
const dated = readAs(date);
const stringEquals: Compare = (a, b) => a === b;
const ignoreCase: Compare = (a, b) => a.toLowerCase() === b.toLowerCase();
const like: Compare = (a, b) => wildcardMatch(b, a);
const arn: Compare = (a, b) => arnMatch(b, a);

const op = (compare: Compare, negated = false, values: BaseOperator['values'] = 'raw'): BaseOperator => ({ compare, negated, values });

const OPERATORS: Record<string, BaseOperator> = {
  StringEquals: op(stringEquals, false, 'text'),
  StringNotEquals: op(stringEquals, true, 'text'),
  StringEqualsIgnoreCase: op(ignoreCase, false, 'text'),
  StringNotEqualsIgnoreCase: op(ignoreCase, true, 'text'),
  StringLike: op(like, false, 'pattern'),
  StringNotLike: op(like, true, 'pattern'),
  NumericEquals: op(numeric((a, b) => a === b)),
  NumericNotEquals: op(
    numeric((a, b) => a === b),
    true,
  ),
  NumericLessThan: op(numeric((a, b) => a < b)),
  NumericLessThanEquals: op(numeric((a, b) => a <= b)),
  NumericGreaterThan: op(numeric((a, b) => a > b)),
  NumericGreaterThanEquals: op(numeric((a, b) => a >= b)),
  DateEquals: op(dated((a, b) => a === b)),
  DateNotEquals: op(
    dated((a, b) => a === b),
    true,
  ),
  DateLessThan: op(dated((a, b) => a < b)),
  DateLessThanEquals: op(dated((a, b) => a <= b)),
  DateGreaterThan: op(dated((a, b) => a > b)),
  DateGreaterThanEquals: op(dated((a, b) => a >= b)),
  // AWS: policy variables may be used with the String, Boolean and ARN operators.
  Bool: op(ignoreCase, false, 'text'),
  BinaryEquals: op(stringEquals),
  ArnEquals: op(arn, false, 'pattern'),
  ArnLike: op(arn, false, 'pattern'),
  ArnNotEquals: op(arn, true, 'pattern'),
  ArnNotLike: op(arn, true, 'pattern'),
};

/** Parses `ForAllValues:StringLikeIfExists` and the like; undefined for an unknown operator. */
export function parseOperator(operator: string): ParsedOperator | undefined {
  let name = operator;
  let set: ParsedOperator['set'];
  const colon = name.indexOf(':');
  if (colon !== -1) {
    const prefix = name.slice(0, colon);
    if (prefix !== 'ForAllValues' && prefix !== 'ForAnyValue') return undefined;
    set = prefix;
    name = name.slice(colon + 1);
  }
  if (name === 'Null') return set ? undefined : { name, ifExists: false, isNull: true };
  const ifExists = name.endsWith('IfExists');
  if (ifExists) name = name.slice(0, -'IfExists'.length);
  const base = OPERATORS[name];
  return base ? { set, name, base, ifExists, isNull: false } : undefined;
}

/** true when every operator of a Condition element holds for the request. */
export function conditionHolds(condition: Record<string, Record<string, unknown>>, keys: ContextKeys): boolean {
  for (const [operator, block] of Object.entries(condition)) {
    const parsed = parseOperator(operator);
    // Validation refuses unknown operators before a policy is stored; fail closed all the same.
    if (!parsed) return false;
    for (const [key, raw] of Object.entries(block)) {
      const policyValues = (Array.isArray(raw) ? raw : [raw]).map(String);
      if (!operatorHolds(parsed, keys.get(key.toLowerCase()), policyValues, keys)) return false;
    }
  }
  return true;
}

function operatorHolds(parsed: ParsedOperator, requestValues: readonly string[] | undefined, rawPolicyValues: string[], keys: ContextKeys): boolean {
  const present = requestValues !== undefined && requestValues.length > 0;
  if (parsed.isNull) {
    // "Null": "true" means the key must be absent, "false" that it must be present.
    return rawPolicyValues.some((v) => (v.toLowerCase() === 'true' ? !present : present));
  }
  const base = parsed.base!;
  const substitute = base.values === 'text' ? substituteVariables : base.values === 'pattern' ? substitutePattern : undefined;
  const policyValues = substitute
    ? rawPolicyValues.flatMap((v) => {
        const s = substitute(v, keys);
        return s === undefined ? [] : [s];
      })
    : rawPolicyValues;
  const matchesAny = (value: string): boolean => policyValues.some((p) => base.compare(value, p));
  // A negated operator holds for a value that matches none of the policy values.
  const valueHolds = (value: string): boolean => (base.negated ? !matchesAny(value) : matchesAny(value));

  if (parsed.set === 'ForAllValues') return !present || requestValues.every(valueHolds);
  if (parsed.set === 'ForAnyValue') return present && requestValues.some(valueHolds);
  if (!present) return parsed.ifExists || base.negated;
  return base.negated ? !requestValues.some(matchesAny) : requestValues.some(matchesAny);
}
