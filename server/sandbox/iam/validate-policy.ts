/**
 * Structural validation of IAM policy documents (role policies in sandbox.yaml, session policies
 * passed to AssumeRole, inline policies put through IAM). AWS answers a bad document with
 * MalformedPolicyDocument; the sandbox also refuses what it cannot evaluate faithfully (an
 * unsupported condition operator or key), since silently ignoring it would grant more than AWS.
 */
import { parseOperator } from './conditions.js';
import { isSupportedConditionKey } from './context-keys.js';
import { isRecord } from '../../is-record.js';

export type PolicyPath = ReadonlyArray<string | number>;

export interface PolicyProblem {
  /** where in the document, as keys and list indexes (for YAML positions) */
  path: PolicyPath;
  /** true when the problem is the key itself (an unknown key), not its value */
  atKey?: boolean;
  message: string;
}

const DOC_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition', 'Principal', 'NotPrincipal']);
const ACTION = /^(\*|[a-zA-Z0-9-]+:[A-Za-z0-9*?]+)$/;

/** Problems of a policy document; an empty list means it is valid. */
export function validatePolicy(doc: unknown): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  if (!isRecord(doc)) return [{ path: [], message: 'a policy document must be an object with a Statement' }];
  for (const key of Object.keys(doc)) {
    if (!DOC_KEYS.has(key)) problems.push({ path: [key], atKey: true, message: `unknown policy element ${JSON.stringify(key)} (expected Version, Id, Statement)` });
  }
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') {
    problems.push({ path: ['Version'], message: 'Version must be "2012-10-17" (or the older "2008-10-17")' });
  }
  const statements = doc.Statement;
  if (statements === undefined) {
    problems.push({ path: [], message: 'the policy has no Statement' });
  } else if (Array.isArray(statements)) {
    if (statements.length === 0) problems.push({ path: ['Statement'], message: 'Statement must not be empty' });
    statements.forEach((s, i) => validateStatement(s, ['Statement', i], problems));
  } else {
    validateStatement(statements, ['Statement'], problems);
  }
  return problems;
}

function validateStatement(s: unknown, path: PolicyPath, problems: PolicyProblem[]): void {
  if (!isRecord(s)) {
    problems.push({ path, message: 'a statement must be an object with Effect, Action and Resource' });
    return;
  }
  for (const key of Object.keys(s)) {
    if (!STATEMENT_KEYS.has(key)) problems.push({ path: [...path, key], atKey: true, message: `unknown statement element ${JSON.stringify(key)}` });
  }
  if (s.Sid !== undefined && (typeof s.Sid !== 'string' || !/^[A-Za-z0-9]*$/.test(s.Sid))) {
    problems.push({ path: [...path, 'Sid'], message: 'Sid must be letters and digits only' });
  }
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
    problems.push({ path: s.Effect === undefined ? path : [...path, 'Effect'], message: 'Effect must be "Allow" or "Deny"' });
  }
  if (s.Principal !== undefined || s.NotPrincipal !== undefined) {
    problems.push({ path: [...path, s.Principal !== undefined ? 'Principal' : 'NotPrincipal'], message: 'an identity or session policy must not specify a principal' });
  }
  exactlyOne(s, path, 'Action', 'NotAction', problems, (v) => ACTION.test(v), 'an action is "*" or "service:Action" (wildcards * and ? allowed)');
  exactlyOne(s, path, 'Resource', 'NotResource', problems, (v) => v === '*' || v.startsWith('arn:'), 'a resource is "*" or an ARN');
  if (s.Condition !== undefined) validateCondition(s.Condition, [...path, 'Condition'], problems);
}

function exactlyOne(s: Record<string, unknown>, path: PolicyPath, name: string, notName: string, problems: PolicyProblem[], valid: (value: string) => boolean, hint: string): void {
  const has = s[name] !== undefined;
  const hasNot = s[notName] !== undefined;
  if (has && hasNot) {
    problems.push({ path: [...path, notName], message: `a statement has either ${name} or ${notName}, not both` });
    return;
  }
  if (!has && !hasNot) {
    problems.push({ path, message: `the statement is missing ${name}` });
    return;
  }
  const key = has ? name : notName;
  const value = s[key];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    problems.push({ path: [...path, key], message: `${key} must be a string or a non-empty list of strings` });
    return;
  }
  list.forEach((v, i) => {
    const at = typeof value === 'string' ? [...path, key] : [...path, key, i];
    if (typeof v !== 'string' || !valid(v)) problems.push({ path: at, message: `${JSON.stringify(v)} is not valid in ${key}: ${hint}` });
  });
}

function validateCondition(condition: unknown, path: PolicyPath, problems: PolicyProblem[]): void {
  if (!isRecord(condition)) {
    problems.push({ path, message: 'Condition must map operators to { key: values }' });
    return;
  }
  for (const [operator, block] of Object.entries(condition)) {
    if (!parseOperator(operator)) {
      problems.push({
        path: [...path, operator],
        atKey: true,
        message: `the condition operator ${JSON.stringify(operator)} is not one the sandbox evaluates (String*, Numeric*, Date*, Bool, Arn*, Null, with ForAllValues:/ForAnyValue: and IfExists)`,
      });
      continue;
    }
    if (!isRecord(block)) {
      problems.push({ path: [...path, operator], message: `${operator} must map condition keys to values` });
      continue;
    }
    for (const [key, values] of Object.entries(block)) {
      if (!isSupportedConditionKey(key)) {
        problems.push({
          path: [...path, operator, key],
          atKey: true,
          message: `the condition key ${JSON.stringify(key)} is not one the sandbox sets; refusing rather than evaluating it differently from AWS`,
        });
      }
      const list = Array.isArray(values) ? values : [values];
      if (list.length === 0 || list.some((v) => !['string', 'number', 'boolean'].includes(typeof v))) {
        problems.push({ path: [...path, operator, key], message: `the values of ${key} must be strings, numbers or booleans` });
      }
    }
  }
}
