/** ARNs: of DynamoDB tables and indexes, and of IAM roles (their parts the policies need). Shared by the parser, the policies and the engine. */
import { RbError } from '../errors.js';

/** Where the derived ARNs live: AWS partition (default `aws`), region and account. */
export interface ArnScope {
  region: string;
  account: string;
  partition?: string;
}

// DynamoDB's own rule for table and index names. Checking it also keeps `*` and `?` out of a
// Resource, where IAM would read them as wildcards: a parameter must never widen a policy.
const NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/([A-Za-z0-9_.-]{3,255})$/;

/** Throws a coded error unless `name` is a valid DynamoDB table or index name (or a table ARN). */
export function checkName(name: unknown, what: 'table' | 'index'): string {
  if (typeof name === 'string' && (NAME.test(name) || (what === 'table' && TABLE_ARN.test(name)))) return name;
  throw new RbError(
    'RB_ERR_ACCESS_POLICY_DERIVE',
    `${JSON.stringify(name)} is not a valid DynamoDB ${what} name (3-255 characters of A-Z a-z 0-9 _ . -); ` + 'the session policy cannot be derived from this request.',
  );
}

/** The ARN of a table. A TableName that is already a table ARN (DynamoDB accepts both) is kept. */
export function tableArn(table: string, scope: ArnScope): string {
  if (TABLE_ARN.test(table)) return table;
  return `arn:${scope.partition ?? 'aws'}:dynamodb:${scope.region}:${scope.account}:table/${table}`;
}

/** The ARN of a secondary index of a table. */
export function indexArn(table: string, index: string, scope: ArnScope): string {
  return `${tableArn(table, scope)}/index/${index}`;
}

/** True for an IAM role ARN (`arn:aws:iam::<account>:role/[path/]<name>`). */
export function isRoleArn(text: string): boolean {
  return ROLE_ARN.test(text);
}

/** The account of an IAM role ARN; undefined for anything else. */
export function accountOfRoleArn(text: string): string | undefined {
  return ROLE_ARN.exec(text)?.[2];
}

/** Partition, account and role name of an IAM role ARN (roles may have a path). */
export function parseRoleArn(roleArn: string): { partition: string; account: string; roleName: string } {
  const m = ROLE_ARN.exec(roleArn);
  if (!m) {
    throw new RbError('RB_ERR_CONFIG_INVALID', `${JSON.stringify(roleArn)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).`);
  }
  return { partition: m[1], account: m[2], roleName: m[3] };
}
