/**
 * The sandbox configuration's shape rules, on plain data: account, region, roles (name, maximum
 * session duration, identity policies) and seed tables (CreateTable input plus items). load-file.ts
 * turns the problems found here into `file:line:col` errors.
 */
import { RbError } from '../errors.js';
import { isRecord } from '../is-record.js';
import type { PolicyDocument, RoleConfig, SandboxConfig, TableSeed } from './types.js';
import { validatePolicy, type PolicyPath } from './iam/validate-policy.js';

export interface ConfigProblem {
  path: PolicyPath;
  atKey?: boolean;
  message: string;
}

export const DEFAULT_ACCOUNT = '000000000000';
export const DEFAULT_REGION = 'us-east-1';
export const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const TOP_KEYS = new Set(['account', 'region', 'roles', 'tables']);
const ROLE_KEYS = new Set(['maxSessionDuration', 'policies']);
// CreateTable's request members (DynamoDB API reference), plus `items`.
const TABLE_KEYS = new Set([
  'TableName',
  'KeySchema',
  'AttributeDefinitions',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'BillingMode',
  'ProvisionedThroughput',
  'StreamSpecification',
  'SSESpecification',
  'Tags',
  'TableClass',
  'DeletionProtectionEnabled',
  'OnDemandThroughput',
  'WarmThroughput',
  'ResourcePolicy',
  'items',
]);

/** Checks plain data (a parsed sandbox.yaml) and builds the configuration; problems carry paths. */
export function checkSandboxData(data: unknown): { config?: SandboxConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  if (!isRecord(data)) return { problems: [{ path: [], message: 'the sandbox file must be a mapping with roles and tables' }] };
  for (const key of Object.keys(data)) {
    if (!TOP_KEYS.has(key)) problems.push({ path: [key], atKey: true, message: `unknown key ${JSON.stringify(key)} (expected account, region, roles, tables)` });
  }
  let account = DEFAULT_ACCOUNT;
  if (data.account !== undefined) {
    if (typeof data.account === 'string' && /^\d{12}$/.test(data.account)) account = data.account;
    else problems.push({ path: ['account'], message: 'account must be 12 digits in quotes, e.g. "000000000000" (unquoted, YAML reads a number)' });
  }
  let region = DEFAULT_REGION;
  if (data.region !== undefined) {
    if (typeof data.region === 'string' && REGION.test(data.region)) region = data.region;
    else problems.push({ path: ['region'], message: 'region must be an AWS region name such as us-east-1' });
  }
  const roles = checkRoles(data.roles, problems);
  const tables = checkTables(data.tables, problems);
  return problems.length ? { problems } : { config: { account, region, roles, tables }, problems };
}

function checkRoles(value: unknown, problems: ConfigProblem[]): RoleConfig[] {
  if (!isRecord(value) || Object.keys(value).length === 0) {
    problems.push({ path: value === undefined ? [] : ['roles'], message: 'roles must map at least one role name to { maxSessionDuration, policies }' });
    return [];
  }
  const roles: RoleConfig[] = [];
  for (const [name, role] of Object.entries(value)) {
    const path = ['roles', name];
    if (!ROLE_NAME.test(name)) problems.push({ path, atKey: true, message: `${JSON.stringify(name)} is not a valid role name (1-64 characters of letters, digits and +=,.@_-)` });
    if (!isRecord(role)) {
      problems.push({ path, message: `role ${name} must be a mapping with maxSessionDuration and policies` });
      continue;
    }
    for (const key of Object.keys(role)) {
      if (!ROLE_KEYS.has(key))
        problems.push({ path: [...path, key], atKey: true, message: `unknown key ${JSON.stringify(key)} in role ${name} (expected maxSessionDuration, policies)` });
    }
    const max = role.maxSessionDuration ?? 3600;
    // IAM's limits for a role's MaxSessionDuration.
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 3600 || max > 43200) {
      problems.push({ path: [...path, 'maxSessionDuration'], message: 'maxSessionDuration must be a whole number of seconds from 3600 to 43200' });
    }
    const policies = role.policies ?? [];
    if (!Array.isArray(policies)) {
      problems.push({ path: [...path, 'policies'], message: 'policies must be a list of IAM policy documents' });
      continue;
    }
    policies.forEach((p, i) => {
      for (const problem of validatePolicy(p)) problems.push({ ...problem, path: [...path, 'policies', i, ...problem.path] });
    });
    roles.push({ name, maxSessionDuration: max as number, policies: policies as PolicyDocument[] });
  }
  return roles;
}

function checkTables(value: unknown, problems: ConfigProblem[]): TableSeed[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ path: ['tables'], message: 'tables must be a list of CreateTable inputs (TableName, KeySchema, AttributeDefinitions…) with optional items' });
    return [];
  }
  const seen = new Set<string>();
  const tables: TableSeed[] = [];
  value.forEach((table, i) => {
    const path = ['tables', i];
    if (!isRecord(table)) {
      problems.push({ path, message: 'a table must be a mapping with TableName, KeySchema and AttributeDefinitions' });
      return;
    }
    for (const key of Object.keys(table)) {
      if (!TABLE_KEYS.has(key))
        problems.push({ path: [...path, key], atKey: true, message: `unknown key ${JSON.stringify(key)} in a table (CreateTable input members, plus items)` });
    }
    const name = table.TableName;
    if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
      problems.push({ path: name === undefined ? path : [...path, 'TableName'], message: 'TableName must be 3-255 characters of A-Z a-z 0-9 _ . -' });
    } else if (seen.has(name)) {
      problems.push({ path: [...path, 'TableName'], message: `table ${name} is declared twice` });
    } else {
      seen.add(name);
    }
    const types = checkAttributeDefinitions(table.AttributeDefinitions, [...path, 'AttributeDefinitions'], problems);
    const keys = checkKeySchema(table.KeySchema, [...path, 'KeySchema'], types, problems);
    const items = table.items ?? [];
    if (!Array.isArray(items)) {
      problems.push({ path: [...path, 'items'], message: 'items must be a list of items (mappings of attribute names to values)' });
    } else {
      items.forEach((item, j) => checkItem(item, [...path, 'items', j], keys, types, problems));
    }
    const { items: _items, ...input } = table;
    tables.push({ input: input as TableSeed['input'], items: Array.isArray(items) ? (items as Record<string, unknown>[]) : [] });
  });
  return tables;
}

function checkAttributeDefinitions(value: unknown, path: PolicyPath, problems: ConfigProblem[]): Map<string, string> {
  const types = new Map<string, string>();
  if (!Array.isArray(value) || value.length === 0) {
    problems.push({ path: path.slice(0, -1), message: 'the table needs AttributeDefinitions: [{ AttributeName, AttributeType: S | N | B }, …]' });
    return types;
  }
  value.forEach((d, i) => {
    if (!isRecord(d) || typeof d.AttributeName !== 'string' || !['S', 'N', 'B'].includes(d.AttributeType as string)) {
      problems.push({ path: [...path, i], message: 'each attribute definition is { AttributeName, AttributeType: S | N | B }' });
    } else {
      types.set(d.AttributeName, d.AttributeType as string);
    }
  });
  return types;
}

function checkKeySchema(value: unknown, path: PolicyPath, types: Map<string, string>, problems: ConfigProblem[]): string[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > 2) {
    problems.push({
      path: value === undefined ? path.slice(0, -1) : path,
      message: 'the table needs KeySchema: a HASH key and optionally a RANGE key, [{ AttributeName, KeyType }]',
    });
    return [];
  }
  const names: string[] = [];
  value.forEach((k, i) => {
    const expected = i === 0 ? 'HASH' : 'RANGE';
    if (!isRecord(k) || typeof k.AttributeName !== 'string' || k.KeyType !== expected) {
      problems.push({ path: [...path, i], message: `KeySchema entry ${i + 1} must be { AttributeName, KeyType: ${expected} }` });
      return;
    }
    if (types.size && !types.has(k.AttributeName)) {
      problems.push({ path: [...path, i, 'AttributeName'], message: `key attribute ${k.AttributeName} is missing from AttributeDefinitions` });
    }
    names.push(k.AttributeName);
  });
  return names;
}

function checkItem(item: unknown, path: PolicyPath, keys: string[], types: Map<string, string>, problems: ConfigProblem[]): void {
  if (!isRecord(item)) {
    problems.push({ path, message: 'an item must be a mapping of attribute names to values' });
    return;
  }
  for (const key of keys) {
    const v = item[key];
    const type = types.get(key);
    const ok = type === 'N' ? typeof v === 'number' : type === 'B' ? v instanceof Uint8Array : typeof v === 'string' && v !== '';
    if (!ok)
      problems.push({
        path: v === undefined ? path : [...path, key],
        message: `the item's key attribute ${key} must be a ${type === 'N' ? 'number' : type === 'B' ? 'binary value' : 'non-empty string'}`,
      });
  }
}

/**
 * Checks a configuration given as data rather than read from a file (tests, embedding): role names,
 * session limits and policies. Throws RB_ERR_CONFIG_INVALID naming the first problems.
 */
export function checkSandboxConfig(config: SandboxConfig): SandboxConfig {
  const problems: string[] = [];
  if (!/^\d{12}$/.test(config.account)) problems.push('account must be 12 digits');
  if (!REGION.test(config.region)) problems.push(`region ${JSON.stringify(config.region)} is not an AWS region name`);
  if (config.roles.length === 0) problems.push('at least one role is needed');
  const names = new Set<string>();
  for (const role of config.roles) {
    if (!ROLE_NAME.test(role.name)) problems.push(`${JSON.stringify(role.name)} is not a valid role name`);
    if (names.has(role.name)) problems.push(`role ${role.name} is declared twice`);
    names.add(role.name);
    if (!Number.isInteger(role.maxSessionDuration) || role.maxSessionDuration < 3600 || role.maxSessionDuration > 43200) {
      problems.push(`role ${role.name}: maxSessionDuration must be from 3600 to 43200 seconds`);
    }
    role.policies.forEach((p, i) => {
      for (const problem of validatePolicy(p)) problems.push(`role ${role.name}, policy ${i + 1}: ${problem.message}`);
    });
  }
  for (const t of config.tables) {
    if (!TABLE_NAME.test(t.input.TableName)) problems.push(`${JSON.stringify(t.input.TableName)} is not a valid table name`);
  }
  if (problems.length) throw new RbError('RB_ERR_CONFIG_INVALID', `The sandbox configuration is invalid: ${problems.slice(0, 5).join('; ')}`);
  return config;
}
