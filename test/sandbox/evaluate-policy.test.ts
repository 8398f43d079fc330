import { describe, expect, it } from 'vitest';
import { conditionHolds, parseOperator } from '../../server/sandbox/iam/conditions.js';
import { contextKeys } from '../../server/sandbox/iam/context-keys.js';
import { accessDeniedMessage, authorize, type AuthzRequest } from '../../server/sandbox/iam/evaluate-policy.js';
import { arnMatch, wildcardMatch } from '../../server/sandbox/iam/match.js';
import { validatePolicy } from '../../server/sandbox/iam/validate-policy.js';
import type { PolicyDocument } from '../../server/sandbox/types.js';

const ORDERS = 'arn:aws:dynamodb:us-east-1:000000000000:table/Orders';
const req = (action: string, resource: string, keys: Record<string, string | string[]> = {}): AuthzRequest => ({
  action,
  resource,
  keys: contextKeys(keys),
});
const allow = (
  Action: string | string[],
  Resource: string | string[],
  Condition?: PolicyDocument extends never ? never : Record<string, Record<string, unknown>>,
): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) }],
});

describe('authorize', () => {
  it('allows what an identity policy allows, with action wildcards matched case-insensitively', () => {
    expect(authorize(req('dynamodb:GetItem', ORDERS), [allow('DynamoDB:get*', ORDERS)])).toEqual({ allowed: true });
    expect(authorize(req('dynamodb:Query', ORDERS), [allow('dynamodb:Get?tem', ORDERS)])).toMatchObject({ allowed: false, reason: 'no-allow', policy: 'identity' });
  });

  it('intersects the role policies with the session policy', () => {
    const role = [allow('dynamodb:*', '*')];
    const session = [allow('dynamodb:GetItem', ORDERS)];
    expect(authorize(req('dynamodb:GetItem', ORDERS), role, session).allowed).toBe(true);
    expect(authorize(req('dynamodb:PutItem', ORDERS), role, session)).toEqual({ allowed: false, reason: 'no-allow', policy: 'session' });
    expect(authorize(req('dynamodb:GetItem', ORDERS), [allow('dynamodb:Query', '*')], [allow('dynamodb:*', '*')])).toEqual({
      allowed: false,
      reason: 'no-allow',
      policy: 'identity',
    });
  });

  it('lets an explicit deny win over any allow, and says which policy denied', () => {
    const deny: PolicyDocument = { Statement: { Effect: 'Deny', Action: 'dynamodb:*', Resource: `${ORDERS}*` } };
    expect(authorize(req('dynamodb:GetItem', `${ORDERS}/index/ByStatus`), [allow('*', '*'), deny])).toEqual({ allowed: false, reason: 'explicit-deny', policy: 'identity' });
    expect(authorize(req('dynamodb:GetItem', ORDERS), [allow('*', '*')], [allow('*', '*'), deny])).toEqual({ allowed: false, reason: 'explicit-deny', policy: 'session' });
  });

  it('honours NotAction and NotResource', () => {
    const notWrites: PolicyDocument = { Statement: [{ Effect: 'Allow', NotAction: ['dynamodb:Put*', 'dynamodb:Delete*'], NotResource: `${ORDERS}/index/*` }] };
    expect(authorize(req('dynamodb:GetItem', ORDERS), [notWrites]).allowed).toBe(true);
    expect(authorize(req('dynamodb:PutItem', ORDERS), [notWrites]).allowed).toBe(false);
    expect(authorize(req('dynamodb:Query', `${ORDERS}/index/ByStatus`), [notWrites]).allowed).toBe(false);
  });

  it('matches resources part by part: a wildcard does not cross the colons of an ARN', () => {
    expect(arnMatch('arn:aws:dynamodb:*:*:table/Orders', ORDERS)).toBe(true);
    expect(arnMatch('arn:aws:dynamodb:*:table/Orders', ORDERS)).toBe(false);
    expect(arnMatch('arn:aws:dynamodb:us-east-1:000000000000:table/Ord*', `${ORDERS}/index/ByStatus`)).toBe(true);
    expect(arnMatch(ORDERS, `${ORDERS}/index/ByStatus`)).toBe(false);
    expect(wildcardMatch('a?c', 'abc')).toBe(true);
    expect(wildcardMatch('a.c', 'abc')).toBe(false);
  });

  it('words refusals as AWS does', () => {
    const r = req('dynamodb:GetItem', ORDERS);
    const who = 'arn:aws:sts::000000000000:assumed-role/runbook-runner/rb-x';
    expect(accessDeniedMessage(who, r, { allowed: false, reason: 'no-allow', policy: 'session' })).toBe(
      `User: ${who} is not authorized to perform: dynamodb:GetItem on resource: ${ORDERS} because no session policy allows the dynamodb:GetItem action`,
    );
    expect(accessDeniedMessage(who, r, { allowed: false, reason: 'explicit-deny', policy: 'identity' })).toBe(
      `User: ${who} is not authorized to perform: dynamodb:GetItem on resource: ${ORDERS} with an explicit deny in an identity-based policy`,
    );
  });
});

describe('conditions', () => {
  const holds = (condition: Record<string, Record<string, unknown>>, keys: Record<string, string | string[]>): boolean => conditionHolds(condition, contextKeys(keys));

  it('ForAllValues:StringEquals on dynamodb:LeadingKeys: every key listed, and true when the key is absent', () => {
    const c = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CUSTOMER#C1001', 'CUSTOMER#C1002'] } };
    expect(holds(c, { 'dynamodb:LeadingKeys': ['CUSTOMER#C1001'] })).toBe(true);
    expect(holds(c, { 'dynamodb:LeadingKeys': ['CUSTOMER#C1001', 'CUSTOMER#C1003'] })).toBe(false);
    // The footgun AWS documents: a request without partition keys (Scan) satisfies ForAllValues.
    expect(holds(c, {})).toBe(true);
    expect(holds({ 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': 'x' } }, {})).toBe(false);
  });

  it('condition keys are case-insensitive, values are not', () => {
    expect(holds({ StringEquals: { 'AWS:SourceIdentity': 'alice' } }, { 'aws:sourceidentity': 'alice' })).toBe(true);
    expect(holds({ StringEquals: { 'aws:SourceIdentity': 'Alice' } }, { 'aws:SourceIdentity': 'alice' })).toBe(false);
    expect(holds({ StringEqualsIgnoreCase: { 'aws:SourceIdentity': 'Alice' } }, { 'aws:SourceIdentity': 'alice' })).toBe(true);
  });

  it('StringLike on aws:userid matches the sessions of a run', () => {
    const c = { StringLike: { 'aws:userid': 'AROAEXAMPLE:rb-run1-*' } };
    expect(holds(c, { 'aws:userid': 'AROAEXAMPLE:rb-run1-step-1' })).toBe(true);
    expect(holds(c, { 'aws:userid': 'AROAEXAMPLE:rb-run2-step-1' })).toBe(false);
  });

  it('an absent key fails a positive operator and satisfies a negated one or IfExists', () => {
    expect(holds({ StringEquals: { 'aws:SourceIdentity': 'alice' } }, {})).toBe(false);
    expect(holds({ StringNotEquals: { 'aws:SourceIdentity': 'alice' } }, {})).toBe(true);
    expect(holds({ StringEqualsIfExists: { 'aws:SourceIdentity': 'alice' } }, {})).toBe(true);
    expect(holds({ StringNotEquals: { 'aws:SourceIdentity': ['alice', 'bob'] } }, { 'aws:SourceIdentity': 'bob' })).toBe(false);
    expect(holds({ Null: { 'aws:SourceIdentity': 'true' } }, {})).toBe(true);
    expect(holds({ Null: { 'aws:SourceIdentity': 'false' } }, {})).toBe(false);
  });

  it('DateLessThan on aws:TokenIssueTime compares times, ISO or epoch seconds', () => {
    const c = { DateLessThan: { 'aws:TokenIssueTime': '2026-11-27T12:00:00Z' } };
    expect(holds(c, { 'aws:TokenIssueTime': '2026-11-27T11:59:59Z' })).toBe(true);
    expect(holds(c, { 'aws:TokenIssueTime': '2026-11-27T12:00:00Z' })).toBe(false);
    expect(holds({ DateGreaterThanEquals: { 'aws:TokenIssueTime': String(Date.parse('2026-11-27T12:00:00Z') / 1000) } }, { 'aws:TokenIssueTime': '2026-11-27T12:00:00Z' })).toBe(
      true,
    );
  });

  it('all operators and all keys must hold', () => {
    const c = { StringEquals: { 'aws:SourceIdentity': 'alice', 'aws:PrincipalTag/run': 'r1' }, NumericLessThan: { 'aws:EpochTime': '100' } };
    expect(holds(c, { 'aws:SourceIdentity': 'alice', 'aws:PrincipalTag/run': 'r1', 'aws:EpochTime': '99' })).toBe(true);
    expect(holds(c, { 'aws:SourceIdentity': 'alice', 'aws:PrincipalTag/run': 'r2', 'aws:EpochTime': '99' })).toBe(false);
    expect(holds(c, { 'aws:SourceIdentity': 'alice', 'aws:PrincipalTag/run': 'r1', 'aws:EpochTime': '100' })).toBe(false);
  });

  it('substitutes policy variables', () => {
    const c = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': '${aws:PrincipalTag/customer}' } };
    expect(holds(c, { 'aws:PrincipalTag/customer': 'C1', 'dynamodb:LeadingKeys': ['C1'] })).toBe(true);
    expect(holds(c, { 'aws:PrincipalTag/customer': 'C1', 'dynamodb:LeadingKeys': ['C2'] })).toBe(false);
  });

  it('reads ${*}, ${?} and ${$} as the characters themselves, never as wildcards', () => {
    const like = { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': 'a${*}b${?}c*' } };
    expect(holds(like, { 'dynamodb:LeadingKeys': ['a*b?cde'] })).toBe(true);
    expect(holds(like, { 'dynamodb:LeadingKeys': ['axxb?c'] })).toBe(false);
    expect(holds(like, { 'dynamodb:LeadingKeys': ['a*bxc'] })).toBe(false);
    const exact = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': '${$}{aws:userid}' } };
    expect(holds(exact, { 'aws:userid': 'AROA:rb-x', 'dynamodb:LeadingKeys': ['${aws:userid}'] })).toBe(true);
    expect(holds(exact, { 'aws:userid': 'AROA:rb-x', 'dynamodb:LeadingKeys': ['AROA:rb-x'] })).toBe(false);
    // What a variable stands for is text in a pattern too; a backslash in the policy is no escape.
    expect(holds({ StringLike: { 'aws:userid': '${aws:PrincipalTag/p}' } }, { 'aws:PrincipalTag/p': 'a?', 'aws:userid': 'ab' })).toBe(false);
    expect(holds({ StringLike: { 'aws:userid': 'a\\*' } }, { 'aws:userid': 'a\\xyz' })).toBe(true);
    expect(authorize(req('dynamodb:GetItem', ORDERS), [allow('dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:000000000000:table/${*}')]).allowed).toBe(false);
  });

  it('knows its operators', () => {
    expect(parseOperator('ForAllValues:StringLikeIfExists')).toMatchObject({ set: 'ForAllValues', name: 'StringLike', ifExists: true });
    expect(parseOperator('StringMaybe')).toBeUndefined();
    expect(parseOperator('ForSomeValues:StringEquals')).toBeUndefined();
  });
});

describe('validatePolicy', () => {
  it('accepts a policy the tool derives', () => {
    expect(validatePolicy(allow(['dynamodb:Query'], ORDERS, { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CUSTOMER#C1001'] } }))).toEqual([]);
  });

  it('refuses what it cannot evaluate faithfully, and malformed statements', () => {
    const messages = validatePolicy({
      Statement: [
        { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
        { Effect: 'Allow', Action: 'GetItem', Resource: 'table/Orders' },
        { Effect: 'Allow', Action: 'dynamodb:GetItem', NotAction: 'dynamodb:Query', Resource: '*' },
        { Effect: 'Allow', Principal: '*', Action: 'dynamodb:GetItem', Resource: '*' },
      ],
    }).map((p) => p.message);
    expect(messages).toEqual([
      expect.stringContaining('the condition operator "IpAddress" is not one the sandbox evaluates'),
      expect.stringContaining('"GetItem" is not valid in Action'),
      expect.stringContaining('"table/Orders" is not valid in Resource'),
      'a statement has either Action or NotAction, not both',
      'an identity or session policy must not specify a principal',
    ]);
  });
});
