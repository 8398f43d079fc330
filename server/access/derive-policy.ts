/**
 * The session policy of one rendered request (docs/security.md): exactly the IAM actions it needs, on
 * exactly the table and index ARNs it touches, pinned with `dynamodb:LeadingKeys` where the request
 * fixes every partition key it touches on a table. STS intersects this with the role's own
 * policies, so the session can never do more than both allow.
 *
 * Pinning, per (table, action): GetItem, PutItem, UpdateItem, DeleteItem, a Query of the table with
 * an equality on the partition key, and every part of BatchGetItem, BatchWriteItem,
 * TransactGetItems and TransactWriteItems (all of them name each key). A part that cannot be read
 * with certainty (unknown key schema, binary key) leaves its action on that table unpinned rather
 * than failing. Never pinned: Scan, Query of an index (LeadingKeys names the table's partition
 * key), DescribeTable, PartiQL (its key sits in a WHERE clause bound through `?`).
 *
 * Output is deterministic: statements, actions, resources and values are sorted, so transcripts
 * and tests are stable.
 */
import { indexArn, tableArn, type ArnScope } from '../aws/arn.js';
import { grantsOf } from './grants.js';
import type { RenderedRequest } from '../runbook/types.js';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface DeriveContext extends ArnScope {
  /** table → partition key attribute name, for the tables whose key schema is known */
  partitionKeys: Record<string, string>;
}

/** Every table a request touches, sorted and without duplicates (PartiQL targets included). */
export function tablesOf(request: RenderedRequest): string[] {
  return [...new Set(grantsOf(request).map((g) => g.table))].sort();
}

/** Derives the least-privilege session policy of a rendered request. */
export function deriveSessionPolicy(request: RenderedRequest, ctx: DeriveContext): PolicyDocument {
  // resource → action → pinned partition key values (null: unpinned)
  const needs = new Map<string, Map<string, Set<string> | null>>();
  for (const grant of grantsOf(request)) {
    const resource = grant.index === undefined ? tableArn(grant.table, ctx) : indexArn(grant.table, grant.index, ctx);
    const pk = Object.prototype.hasOwnProperty.call(ctx.partitionKeys, grant.table) ? ctx.partitionKeys[grant.table] : undefined;
    const value = grant.leadingKey && pk !== undefined ? grant.leadingKey(pk) : undefined;
    const actions = needs.get(resource) ?? new Map<string, Set<string> | null>();
    needs.set(resource, actions);
    const prior = actions.get(grant.action);
    if (value === undefined || prior === null) actions.set(grant.action, null);
    else if (prior) prior.add(value);
    else actions.set(grant.action, new Set([value]));
  }
  // Actions on a resource that share the same pinned values share one statement; then resources
  // with the same actions and the same condition share one. Both merges grant exactly the same.
  const perResource = new Map<string, { resource: string; actions: string[]; values: string[] | null }>();
  for (const [resource, actions] of needs) {
    for (const [action, values] of actions) {
      const sorted = values === null ? null : [...values].sort();
      const group = `${resource}\n${JSON.stringify(sorted)}`;
      const entry = perResource.get(group) ?? { resource, actions: [], values: sorted };
      entry.actions.push(action);
      perResource.set(group, entry);
    }
  }
  const statements = new Map<string, PolicyStatement>();
  for (const { resource, actions, values } of perResource.values()) {
    actions.sort();
    const group = `${actions.join(',')}\n${JSON.stringify(values)}`;
    const existing = statements.get(group);
    if (existing) {
      existing.Resource.push(resource);
      continue;
    }
    const statement: PolicyStatement = { Effect: 'Allow', Action: actions, Resource: [resource] };
    if (values) statement.Condition = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': values.map(literalValue) } };
    statements.set(group, statement);
  }
  return document([...statements.values()]);
}

/**
 * A key value as IAM must read it: literally. IAM reads `${…}` in a condition value as a policy
 * variable (`${aws:userid}`, `${*}`), so every `$` is written `${$}`, IAM's own escape for it.
 */
export function literalValue(value: string): string {
  return value.replace(/\$/g, '${$}');
}

/** The policy of the session that looks up a table's key schema: DescribeTable on that table only. */
export function describeTablePolicy(table: string, ctx: ArnScope): PolicyDocument {
  return document([{ Effect: 'Allow', Action: ['dynamodb:DescribeTable'], Resource: [tableArn(table, ctx)] }]);
}

/**
 * The role policy a set of session policies needs: the union of their actions grouped by resource,
 * without conditions (an admin pastes it into the role; the sessions narrow it per step).
 */
export function minimalRolePolicy(policies: PolicyDocument[]): PolicyDocument {
  const byResource = new Map<string, Set<string>>();
  for (const policy of policies) {
    for (const s of policy.Statement) {
      if (s.Effect !== 'Allow') continue;
      for (const resource of s.Resource) {
        const actions = byResource.get(resource) ?? new Set<string>();
        s.Action.forEach((a) => actions.add(a));
        byResource.set(resource, actions);
      }
    }
  }
  const byActions = new Map<string, PolicyStatement>();
  for (const [resource, actions] of byResource) {
    const list = [...actions].sort();
    const key = list.join(',');
    const existing = byActions.get(key);
    if (existing) existing.Resource.push(resource);
    else byActions.set(key, { Effect: 'Allow', Action: list, Resource: [resource] });
  }
  return document([...byActions.values()]);
}

function document(statements: PolicyStatement[]): PolicyDocument {
  for (const s of statements) {
    s.Action.sort();
    s.Resource.sort();
  }
  statements.sort((a, b) => compare(a.Resource.join(','), b.Resource.join(',')) || compare(a.Action.join(','), b.Action.join(',')));
  return { Version: '2012-10-17', Statement: statements };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
