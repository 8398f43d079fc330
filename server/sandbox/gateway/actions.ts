/**
 * The IAM action each DynamoDB request is authorised for, as AWS documents it. The gateway keeps
 * this table of its own, written from AWS's documentation and not taken from the tool's
 * (server/runbook/operations.ts): an enforcement point that read the facts it checks from the code
 * it checks would agree with that code's mistakes.
 *
 * - Service Authorization Reference, "Actions, resources, and condition keys for Amazon DynamoDB":
 *   an API operation is authorised as the action of the same name (GetItem as dynamodb:GetItem,
 *   Query as dynamodb:Query, BatchWriteItem as dynamodb:BatchWriteItem, DescribeTable as
 *   dynamodb:DescribeTable, …), except the transactions and the PartiQL operations below.
 * - Developer Guide, "Using IAM with DynamoDB transactions": TransactGetItems and TransactWriteItems
 *   are authorised part by part, each as its underlying operation's action (Get as
 *   dynamodb:GetItem, Put as dynamodb:PutItem, Update as dynamodb:UpdateItem, Delete as
 *   dynamodb:DeleteItem) and ConditionCheck as dynamodb:ConditionCheckItem.
 * - Developer Guide, "IAM security policies with PartiQL for DynamoDB": ExecuteStatement,
 *   BatchExecuteStatement and ExecuteTransaction are authorised statement by statement, by kind:
 *   dynamodb:PartiQLSelect, dynamodb:PartiQLInsert, dynamodb:PartiQLUpdate, dynamodb:PartiQLDelete.
 */

/** The kind of a PartiQL statement, its first keyword. */
export type StatementKind = 'select' | 'insert' | 'update' | 'delete';

/** The action of each PartiQL statement kind, on the table or index the statement names. */
export const STATEMENT_ACTIONS: Readonly<Record<StatementKind, string>> = {
  select: 'dynamodb:PartiQLSelect',
  insert: 'dynamodb:PartiQLInsert',
  update: 'dynamodb:PartiQLUpdate',
  delete: 'dynamodb:PartiQLDelete',
};

/** The action of each member of TransactItems, on the table the part names. */
export const TRANSACT_PART_ACTIONS: Readonly<Record<string, string>> = {
  Get: 'dynamodb:GetItem',
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** The action of an operation authorised under its own name (every one but the transactions and PartiQL). */
export function operationAction(operation: string): string {
  return `dynamodb:${operation}`;
}
