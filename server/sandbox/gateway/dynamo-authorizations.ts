/**
 * What a DynamoDB request must be authorised for, derived as AWS does: one IAM action and resource
 * per table touched (the index ARN when IndexName is given, every table of a batch, each part of a
 * transaction with its own item-level action, PartiQL by statement kind), with the partition key
 * values each touches for dynamodb:LeadingKeys.
 */
import { operationAction, STATEMENT_ACTIONS, TRANSACT_PART_ACTIONS } from './actions.js';
import type { KeySchema } from './key-schemas.js';
import { partitionKeyValues, readStatement } from './partiql.js';
import { isRecord } from '../../is-record.js';

export interface DynamoAuthorization {
  action: string;
  resource: string;
  /**
   * Partition key values touched; undefined when the request names none (Scan, DescribeTable),
   * so the key is absent from the request context as in AWS.
   */
  leadingKeys?: readonly string[];
}

export interface DeriveEnv {
  region: string;
  account: string;
  /** key schemas, only when some policy in force tests dynamodb:LeadingKeys (it costs a lookup) */
  keySchema?: (table: string) => Promise<KeySchema | undefined>;
}

/**
 * A value no ForAllValues:StringEquals list can hold (DynamoDB key attributes cannot be empty
 * strings): used when a request does name partition keys but the sandbox cannot read them, so
 * that a LeadingKeys condition fails closed instead of passing as if the key were absent.
 */
export const UNREADABLE_KEY = '';

type Item = Record<string, unknown>;
type Body = Record<string, unknown>;

/** The authorisations a DynamoDB operation needs; an empty list never happens (at least `*`). */
export async function deriveAuthorizations(operation: string, body: Body, env: DeriveEnv): Promise<DynamoAuthorization[]> {
  const table = (name: unknown): string => tableArn(name, env);
  const keysOf = async (name: unknown, items: unknown[], index?: unknown): Promise<string[] | undefined> => {
    if (!env.keySchema || typeof name !== 'string') return undefined;
    const schema = await env.keySchema(name);
    if (!schema) return undefined;
    const hash = index === undefined ? schema.hash : schema.indexes.get(typeof index === 'string' ? index : '');
    if (!hash) return [UNREADABLE_KEY];
    return unique(items.map((item) => attributeString(isRecord(item) ? item[hash] : undefined) ?? UNREADABLE_KEY));
  };

  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [{ action: operationAction(operation), resource: table(body.TableName), leadingKeys: await keysOf(body.TableName, [body.Key]) }];
    case 'PutItem':
      return [{ action: operationAction(operation), resource: table(body.TableName), leadingKeys: await keysOf(body.TableName, [body.Item]) }];
    case 'Query':
      return [{ action: operationAction(operation), resource: resourceOf(body, env), leadingKeys: await queryKeys(body, env) }];
    case 'Scan':
      return [{ action: operationAction(operation), resource: resourceOf(body, env) }];
    case 'BatchGetItem':
      return Promise.all(
        entries(body.RequestItems).map(async ([name, request]) => ({
          action: operationAction(operation),
          resource: table(name),
          leadingKeys: await keysOf(name, isRecord(request) && Array.isArray(request.Keys) ? request.Keys : []),
        })),
      );
    case 'BatchWriteItem':
      return Promise.all(
        entries(body.RequestItems).map(async ([name, writes]) => ({
          action: operationAction(operation),
          resource: table(name),
          leadingKeys: await keysOf(
            name,
            (Array.isArray(writes) ? writes : []).map((w: Item) => (isRecord(w?.PutRequest) ? w.PutRequest.Item : isRecord(w?.DeleteRequest) ? w.DeleteRequest.Key : undefined)),
          ),
        })),
      );
    case 'TransactGetItems':
    case 'TransactWriteItems':
      return Promise.all(
        (Array.isArray(body.TransactItems) ? body.TransactItems : []).map(async (part: unknown) => {
          const [kind, detail] = isRecord(part) ? (Object.entries(part)[0] ?? []) : [];
          const action = typeof kind === 'string' ? TRANSACT_PART_ACTIONS[kind] : undefined;
          const d = isRecord(detail) ? detail : {};
          return {
            action: action ?? `dynamodb:${operation}`,
            resource: table(d.TableName),
            leadingKeys: await keysOf(d.TableName, [kind === 'Put' ? d.Item : d.Key]),
          };
        }),
      );
    case 'ExecuteStatement':
      return [await partiql(body.Statement, body.Parameters, env)];
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction': {
      const list = operation === 'ExecuteTransaction' ? body.TransactStatements : body.Statements;
      const parts = (Array.isArray(list) ? list : []).map((s: Item) => partiql(s?.Statement, s?.Parameters, env));
      return parts.length ? Promise.all(parts) : [{ action: `dynamodb:${operation}`, resource: '*' }];
    }
    default:
      return [{ action: operationAction(operation), resource: otherResource(body, env) }];
  }
}

async function queryKeys(body: Body, env: DeriveEnv): Promise<string[] | undefined> {
  if (!env.keySchema || typeof body.TableName !== 'string') return undefined;
  const schema = await env.keySchema(body.TableName);
  if (!schema) return undefined;
  const hash = body.IndexName === undefined ? schema.hash : schema.indexes.get(typeof body.IndexName === 'string' ? body.IndexName : '');
  if (!hash) return [UNREADABLE_KEY];
  // The legacy form: KeyConditions { attr: { ComparisonOperator: EQ, AttributeValueList: [v] } }.
  if (isRecord(body.KeyConditions)) {
    const c = body.KeyConditions[hash];
    const v = isRecord(c) && c.ComparisonOperator === 'EQ' && Array.isArray(c.AttributeValueList) ? attributeString(c.AttributeValueList[0]) : undefined;
    return [v ?? UNREADABLE_KEY];
  }
  const value = keyConditionValue(body, hash);
  return [value ?? UNREADABLE_KEY];
}

/** The value compared for equality with `hash` in KeyConditionExpression (`pk = :v` or `#n = :v`). */
function keyConditionValue(body: Body, hash: string): string | undefined {
  const expr = body.KeyConditionExpression;
  if (typeof expr !== 'string') return undefined;
  const names = isRecord(body.ExpressionAttributeNames) ? body.ExpressionAttributeNames : {};
  const values = isRecord(body.ExpressionAttributeValues) ? body.ExpressionAttributeValues : {};
  const tokens = expr.match(/#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_.]*|<=|>=|<>|[=<>(),]/g) ?? [];
  const isHash = (tok: string | undefined): boolean => tok !== undefined && (tok.startsWith('#') ? names[tok] === hash : tok === hash);
  for (let i = 0; i + 2 < tokens.length; i++) {
    if (tokens[i + 1] !== '=') continue;
    const [left, right] = [tokens[i], tokens[i + 2]];
    const placeholder = isHash(left) && right.startsWith(':') ? right : isHash(right) && left.startsWith(':') ? left : undefined;
    if (placeholder) return attributeString(values[placeholder]);
  }
  return undefined;
}

async function partiql(statement: unknown, parameters: unknown, env: DeriveEnv): Promise<DynamoAuthorization> {
  const stmt = typeof statement === 'string' ? readStatement(statement) : undefined;
  // A statement the sandbox cannot read is authorised against `*`: only a grant on every resource allows it.
  if (!stmt) return { action: STATEMENT_ACTIONS.select, resource: '*' };
  const resource = stmt.index === undefined ? tableArn(stmt.table, env) : `${tableArn(stmt.table, env)}/index/${stmt.index}`;
  const auth: DynamoAuthorization = { action: STATEMENT_ACTIONS[stmt.kind], resource };
  if (!env.keySchema) return auth;
  const schema = await env.keySchema(stmt.table);
  if (!schema) return auth;
  const hash = stmt.index === undefined ? schema.hash : schema.indexes.get(stmt.index);
  const keys = hash ? partitionKeyValues(stmt, hash, Array.isArray(parameters) ? parameters : undefined, attributeString) : undefined;
  return { ...auth, leadingKeys: keys ?? [UNREADABLE_KEY] };
}

function resourceOf(body: Body, env: DeriveEnv): string {
  const arn = tableArn(body.TableName, env);
  return body.IndexName === undefined ? arn : `${arn}/index/${typeof body.IndexName === 'string' ? body.IndexName : ''}`;
}

// Control-plane operations name their resource in one of these members; the rest (ListTables,
// DescribeLimits, DescribeEndpoints…) act on `*`.
function otherResource(body: Body, env: DeriveEnv): string {
  if (typeof body.TableName === 'string') return tableArn(body.TableName, env);
  for (const member of ['ResourceArn', 'TableArn', 'BackupArn', 'StreamArn', 'ExportArn', 'ImportArn']) {
    if (typeof body[member] === 'string') return body[member];
  }
  return '*';
}

function tableArn(name: unknown, env: DeriveEnv): string {
  const table = typeof name === 'string' ? name : '';
  // DynamoDB accepts a table ARN wherever it takes a TableName.
  if (table.startsWith('arn:')) return table;
  return `arn:aws:dynamodb:${env.region}:${env.account}:table/${table}`;
}

/** A key attribute value as the LeadingKeys condition sees it: S and N as written, B as base64. */
export function attributeString(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.S === 'string') return value.S;
  if (typeof value.N === 'string') return value.N;
  if (typeof value.B === 'string') return value.B;
  return undefined;
}

function entries(v: unknown): Array<[string, unknown]> {
  return isRecord(v) ? Object.entries(v) : [];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
