/** Plain data of the local sandbox: its configuration (from sandbox.yaml) and what it hands out. */

/** An IAM policy document as JSON (or YAML) writes it. Validated by iam/validate-policy.ts. */
export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
  /** accepted for trust policies only; identity and session policies must not name a principal */
  Principal?: unknown;
}

export interface RoleConfig {
  /** `[\w+=,.@-]{1,64}`; the ARN is arn:aws:iam::<account>:role/<name> */
  name: string;
  /** seconds, 3600–43200 as IAM allows; caps AssumeRole's DurationSeconds */
  maxSessionDuration: number;
  /** identity policies attached to the role (evaluated like managed policies) */
  policies: PolicyDocument[];
}

/** One seed table: the CreateTable input as the DynamoDB API names it, and its items. */
export interface TableSeed {
  /** CreateTable input (TableName, KeySchema, AttributeDefinitions, indexes, billing…) */
  input: Record<string, unknown> & { TableName: string };
  /** plain values, marshalled as the Document Client does */
  items: Record<string, unknown>[];
}

export interface SandboxConfig {
  /** 12 digits; default 000000000000 */
  account: string;
  /** default us-east-1 */
  region: string;
  /** in file order: the first is the default role of runbooks that name none */
  roles: RoleConfig[];
  tables: TableSeed[];
  /** the file it was read from, if any */
  file?: string;
}

/** A role as the running sandbox knows it. */
export interface SandboxRole {
  name: string;
  arn: string;
  /** `AROA` + 17 uppercase alphanumerics, as IAM's unique role ids */
  roleId: string;
}

/** Long-term credentials of the sandbox's base principal (an IAM user that can only assume roles and use the run store's tables). */
export interface BaseCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}
