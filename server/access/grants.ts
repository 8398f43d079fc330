/**
 * What a rendered request needs, part by part: one grant per (IAM action, table or index) with the
 * key that part touches, read from the shared table of per-operation facts. The policy derivation
 * turns these into statements; keeping this step separate keeps both small and testable.
 */
import { RbError } from '../errors.js';
import { operations, partiqlActions, transactPartActions, type OperationName } from '../runbook/operations.js';
import type { RenderedRequest } from '../runbook/types.js';
import { checkName } from '../aws/arn.js';
import { isRecord } from '../is-record.js';
import { leadingKeyOf, queryLeadingKey } from './leading-keys.js';
import { partiqlTarget } from './partiql-target.js';

export interface Grant {
  action: string;
  table: string;
  index?: string;
  /**
   * How to read the partition key value this part fixes, given the table's partition key name;
   * absent when the part does not fix one (Scan, a Query on an index, PartiQL, DescribeTable).
   */
  leadingKey?: (partitionKey: string) => string | undefined;
}

/** Every grant a request needs, in request order. Throws RB_ERR_ACCESS_POLICY_DERIVE on a malformed request. */
export function grantsOf(request: RenderedRequest): Grant[] {
  if (request.operation === 'ExecuteStatement') {
    const target = partiqlTarget(String(request.input.Statement ?? ''));
    if (target.kind !== request.statementKind) {
      throw new RbError('RB_ERR_ACCESS_POLICY_DERIVE', `The PartiQL statement is ${target.kind.toUpperCase()} but the step was parsed as ${request.statementKind.toUpperCase()}.`);
    }
    return [{ action: partiqlActions[target.kind], table: target.table, index: target.index }];
  }
  const fact = operations[request.operation];
  const grants = operationGrants(request.operation, request.input);
  // The table of facts decides which operations may pin; the cases below only say how.
  return fact.pinsLeadingKey ? grants : grants.map(({ leadingKey: _unpinned, ...g }) => g);
}

function operationGrants(operation: OperationName, input: Record<string, unknown>): Grant[] {
  const fact = operations[operation];
  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [keyed(fact.actions[0], input, 'Key')];
    case 'PutItem':
      return [keyed(fact.actions[0], input, 'Item')];
    case 'Query':
    case 'Scan': {
      const table = checkName(input.TableName, 'table');
      if (input.IndexName !== undefined) {
        // A Query or Scan of an index is authorised against the index ARN alone, and
        // LeadingKeys always names the table's partition key, which an index query does not fix.
        return [{ action: fact.actions[0], table, index: checkName(input.IndexName, 'index') }];
      }
      return operation === 'Query' ? [{ action: fact.actions[0], table, leadingKey: (pk) => queryLeadingKey(input, pk) }] : [{ action: fact.actions[0], table }];
    }
    case 'DescribeTable':
      return [{ action: fact.actions[0], table: checkName(input.TableName, 'table') }];
    case 'BatchGetItem':
      return perTable(input.RequestItems, (table, entry) => list(isRecord(entry) ? entry.Keys : undefined, 'Keys').map((key) => fixed(fact.actions[0], table, key)));
    case 'BatchWriteItem':
      return perTable(input.RequestItems, (table, requests) =>
        list(requests, 'write requests').map((req) => {
          const put = isRecord(req) && isRecord(req.PutRequest) ? req.PutRequest.Item : undefined;
          const del = isRecord(req) && isRecord(req.DeleteRequest) ? req.DeleteRequest.Key : undefined;
          if (put === undefined && del === undefined) throw malformed('a BatchWriteItem request without PutRequest.Item or DeleteRequest.Key');
          return fixed(fact.actions[0], table, put ?? del);
        }),
      );
    case 'TransactGetItems':
    case 'TransactWriteItems':
      // AWS authorises each part by its item-level action (GetItem, PutItem, …, ConditionCheckItem).
      return list(input.TransactItems, 'TransactItems').map((part) => {
        const kinds = isRecord(part) ? Object.keys(part).filter((k) => k in transactPartActions) : [];
        if (kinds.length !== 1) throw malformed('a TransactItems entry that is not exactly one of Get, Put, Update, Delete, ConditionCheck');
        const body = (part as Record<string, unknown>)[kinds[0]];
        return keyed(transactPartActions[kinds[0]], isRecord(body) ? body : {}, kinds[0] === 'Put' ? 'Item' : 'Key');
      });
  }
}

function keyed(action: string, input: Record<string, unknown>, field: 'Key' | 'Item'): Grant {
  return fixed(action, checkName(input.TableName, 'table'), input[field]);
}

function fixed(action: string, table: string, keyOrItem: unknown): Grant {
  return { action, table, leadingKey: (pk) => leadingKeyOf(keyOrItem, pk) };
}

function perTable(requestItems: unknown, each: (table: string, entry: unknown) => Grant[]): Grant[] {
  if (!isRecord(requestItems) || Object.keys(requestItems).length === 0) throw malformed('no RequestItems');
  return Object.entries(requestItems).flatMap(([table, entry]) => each(checkName(table, 'table'), entry));
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw malformed(`no ${what}`);
  return value;
}

function malformed(what: string): RbError {
  return new RbError('RB_ERR_ACCESS_POLICY_DERIVE', `The request has ${what}; no session policy can be derived from it.`);
}
