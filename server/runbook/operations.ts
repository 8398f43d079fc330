/**
 * The tool's one table of per-operation facts, each read where it is used: the parser validates
 * request fields against `fields` and copies `write` onto each step; the renderer reads `fields` to
 * put values in plain form (./typed-values.ts); the policy derivation (server/access/grants.ts)
 * reads `actions` and `pinsLeadingKey`; the engine reads `fields` to ask for consumed capacity.
 * Field names are exactly those of the DynamoDB API reference, so that AWS examples paste into a
 * runbook unchanged. The executor's choice of SDK command is a switch over the operation
 * (server/dynamo/execute.ts), where the SDK types each command's output. The sandbox gateway does
 * not read this table: it keeps its own (server/sandbox/gateway/actions.ts).
 */

/** The shape of a request field, as the parser checks it. */
export type FieldShape =
  | 'string'
  | 'integer'
  | 'boolean'
  /**
   * an item or key: a map of attribute name to value, plain (Document Client marshalling) or typed
   * DynamoDB JSON, one form per request (./typed-values.ts)
   */
  | 'item'
  /** ExpressionAttributeValues: a map of `:name` to value, plain or typed as `item` */
  | 'values'
  /** ExpressionAttributeNames: a map of `#name` to attribute name */
  | 'names'
  | { enum: readonly string[] }
  | { list: FieldShape; minItems?: number; maxItems?: number }
  /** a map with arbitrary keys (table names) whose values share one shape */
  | { map: FieldShape }
  | { object: FieldTable }
  /** exactly one of the named members, each with its own shape (TransactItems, WriteRequest) */
  | { oneOf: FieldTable };

export interface FieldFact {
  shape: FieldShape;
  required?: boolean;
}

export type FieldTable = Readonly<Record<string, FieldFact>>;

export type OperationName =
  'GetItem' | 'Query' | 'Scan' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchGetItem' | 'BatchWriteItem' | 'TransactGetItems' | 'TransactWriteItems' | 'DescribeTable';

export type PartiqlKind = 'select' | 'insert' | 'update' | 'delete';

export interface OperationFact {
  /** true when the operation changes data: it needs confirmation and, under `approval: writes`, approval */
  write: boolean;
  /**
   * IAM actions (the policy derivation reads the first). A transaction's depend on its parts: its
   * list is empty, and each part's action is in `transactPartActions`.
   */
  actions: readonly string[];
  /**
   * true when every partition key the request touches is fixed by the request itself, so the
   * session policy can pin `dynamodb:LeadingKeys` (Query only when it targets the table; batches
   * and transactions per table, since each of their parts names its key).
   */
  pinsLeadingKey: boolean;
  fields: FieldTable;
}

const ReturnConsumedCapacity: FieldFact = { shape: { enum: ['INDEXES', 'TOTAL', 'NONE'] } };
const ReturnItemCollectionMetrics: FieldFact = { shape: { enum: ['SIZE', 'NONE'] } };
const ReturnValuesOnConditionCheckFailure: FieldFact = { shape: { enum: ['ALL_OLD', 'NONE'] } };
const TableName: FieldFact = { shape: 'string', required: true };
const Key: FieldFact = { shape: 'item', required: true };
const ExpressionAttributeNames: FieldFact = { shape: 'names' };
const ExpressionAttributeValues: FieldFact = { shape: 'values' };
const ProjectionExpression: FieldFact = { shape: 'string' };
const ConditionExpression: FieldFact = { shape: 'string' };
const ConsistentRead: FieldFact = { shape: 'boolean' };
const Select: FieldFact = {
  shape: { enum: ['ALL_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES', 'SPECIFIC_ATTRIBUTES', 'COUNT'] },
};

/** What every conditional write takes after its condition: the expressions' names and values, and what a failed condition returns. */
const conditionFields: FieldTable = { ExpressionAttributeNames, ExpressionAttributeValues, ReturnValuesOnConditionCheckFailure };

const getPart: FieldTable = { TableName, Key, ProjectionExpression, ExpressionAttributeNames };
const putPart: FieldTable = { TableName, Item: { shape: 'item', required: true }, ConditionExpression, ...conditionFields };
const updatePart: FieldTable = { TableName, Key, UpdateExpression: { shape: 'string', required: true }, ConditionExpression, ...conditionFields };
const deletePart: FieldTable = { TableName, Key, ConditionExpression, ...conditionFields };
const conditionCheckPart: FieldTable = { TableName, Key, ConditionExpression: { shape: 'string', required: true }, ...conditionFields };

/** IAM action of each member of TransactItems (AWS checks the item-level action per part). */
export const transactPartActions: Readonly<Record<string, string>> = {
  Get: 'dynamodb:GetItem',
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** IAM action of each PartiQL statement kind (ExecuteStatement). */
export const partiqlActions: Readonly<Record<PartiqlKind, string>> = {
  select: 'dynamodb:PartiQLSelect',
  insert: 'dynamodb:PartiQLInsert',
  update: 'dynamodb:PartiQLUpdate',
  delete: 'dynamodb:PartiQLDelete',
};

export const operations: Readonly<Record<OperationName, OperationFact>> = {
  GetItem: {
    write: false,
    actions: ['dynamodb:GetItem'],
    pinsLeadingKey: true,
    fields: { TableName, Key, ProjectionExpression, ExpressionAttributeNames, ConsistentRead, ReturnConsumedCapacity },
  },
  Query: {
    write: false,
    actions: ['dynamodb:Query'],
    pinsLeadingKey: true,
    fields: {
      TableName,
      IndexName: { shape: 'string' },
      KeyConditionExpression: { shape: 'string', required: true },
      FilterExpression: { shape: 'string' },
      ProjectionExpression,
      ExpressionAttributeNames,
      ExpressionAttributeValues,
      ScanIndexForward: { shape: 'boolean' },
      Limit: { shape: 'integer' },
      ConsistentRead,
      Select,
      ExclusiveStartKey: { shape: 'item' },
      ReturnConsumedCapacity,
    },
  },
  Scan: {
    write: false,
    actions: ['dynamodb:Scan'],
    pinsLeadingKey: false,
    fields: {
      TableName,
      IndexName: { shape: 'string' },
      FilterExpression: { shape: 'string' },
      ProjectionExpression,
      ExpressionAttributeNames,
      ExpressionAttributeValues,
      Limit: { shape: 'integer' },
      ConsistentRead,
      Select,
      Segment: { shape: 'integer' },
      TotalSegments: { shape: 'integer' },
      ExclusiveStartKey: { shape: 'item' },
      ReturnConsumedCapacity,
    },
  },
  PutItem: {
    write: true,
    actions: ['dynamodb:PutItem'],
    pinsLeadingKey: true,
    fields: {
      ...putPart,
      ReturnValues: { shape: { enum: ['NONE', 'ALL_OLD'] } },
      ReturnConsumedCapacity,
      ReturnItemCollectionMetrics,
    },
  },
  UpdateItem: {
    write: true,
    actions: ['dynamodb:UpdateItem'],
    pinsLeadingKey: true,
    fields: {
      ...updatePart,
      ReturnValues: { shape: { enum: ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'] } },
      ReturnConsumedCapacity,
      ReturnItemCollectionMetrics,
    },
  },
  DeleteItem: {
    write: true,
    actions: ['dynamodb:DeleteItem'],
    pinsLeadingKey: true,
    fields: {
      ...deletePart,
      ReturnValues: { shape: { enum: ['NONE', 'ALL_OLD'] } },
      ReturnConsumedCapacity,
      ReturnItemCollectionMetrics,
    },
  },
  BatchGetItem: {
    write: false,
    actions: ['dynamodb:BatchGetItem'],
    pinsLeadingKey: true,
    fields: {
      RequestItems: {
        required: true,
        shape: {
          map: {
            object: {
              Keys: { shape: { list: 'item', minItems: 1, maxItems: 100 }, required: true },
              ProjectionExpression,
              ExpressionAttributeNames,
              ConsistentRead,
            },
          },
        },
      },
      ReturnConsumedCapacity,
    },
  },
  BatchWriteItem: {
    write: true,
    actions: ['dynamodb:BatchWriteItem'],
    pinsLeadingKey: true,
    fields: {
      RequestItems: {
        required: true,
        shape: {
          map: {
            list: {
              oneOf: {
                PutRequest: { shape: { object: { Item: { shape: 'item', required: true } } } },
                DeleteRequest: { shape: { object: { Key } } },
              },
            },
            minItems: 1,
            maxItems: 25,
          },
        },
      },
      ReturnConsumedCapacity,
      ReturnItemCollectionMetrics,
    },
  },
  TransactGetItems: {
    write: false,
    actions: [],
    pinsLeadingKey: true,
    fields: {
      TransactItems: {
        required: true,
        shape: { list: { oneOf: { Get: { shape: { object: getPart } } } }, minItems: 1, maxItems: 100 },
      },
      ReturnConsumedCapacity,
    },
  },
  TransactWriteItems: {
    write: true,
    actions: [],
    pinsLeadingKey: true,
    fields: {
      TransactItems: {
        required: true,
        shape: {
          list: {
            oneOf: {
              Put: { shape: { object: putPart } },
              Update: { shape: { object: updatePart } },
              Delete: { shape: { object: deletePart } },
              ConditionCheck: { shape: { object: conditionCheckPart } },
            },
          },
          minItems: 1,
          maxItems: 100,
        },
      },
      ClientRequestToken: { shape: 'string' },
      ReturnConsumedCapacity,
      ReturnItemCollectionMetrics,
    },
  },
  DescribeTable: {
    write: false,
    actions: ['dynamodb:DescribeTable'],
    pinsLeadingKey: false,
    fields: { TableName },
  },
};

export const operationNames = Object.keys(operations) as OperationName[];

export function isOperationName(name: string): name is OperationName {
  return Object.prototype.hasOwnProperty.call(operations, name);
}
