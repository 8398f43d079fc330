import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RbError } from '../../server/errors.js';
import { loadSandboxFile, parseSandboxFile } from '../../server/sandbox/index.js';

const sample = new URL('../../runbooks/sandbox.yaml', import.meta.url).pathname;

/** The `file:line:col: error: message` lines of a sandbox file that must not load. */
function errorsOf(text: string): string[] {
  try {
    parseSandboxFile(text, 'sandbox.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(RbError);
    expect((err as RbError).code).toBe('RB_ERR_SANDBOX_FILE_INVALID');
    return (err as RbError).message.split('\n');
  }
  throw new Error('the file loaded');
}

const role = `roles:
  runner:
    policies:
      - Statement:
          - { Effect: Allow, Action: "dynamodb:*", Resource: "*" }
`;

describe('loadSandboxFile', () => {
  it('loads the sample file with its roles in order, defaults and seed items', () => {
    const config = loadSandboxFile(sample);
    expect(config.account).toBe('000000000000');
    expect(config.region).toBe('us-east-1');
    expect(config.roles.map((r) => r.name)).toEqual(['runbook-runner', 'runbook-readonly']);
    expect(config.roles[0].maxSessionDuration).toBe(3600);
    expect(config.tables.map((t) => t.input.TableName)).toEqual(['Customers', 'Orders', 'Payments']);
    const orders = config.tables[1];
    expect(orders.items).toHaveLength(7);
    expect(orders.input).not.toHaveProperty('items');
    expect(orders.items[0]).toMatchObject({ pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-01#A7', total: 42.5 });
  });

  it('defaults account, region and maxSessionDuration', () => {
    const config = parseSandboxFile(role, 'x.yaml');
    expect(config).toMatchObject({ account: '000000000000', region: 'us-east-1', tables: [], file: 'x.yaml' });
    expect(config.roles[0]).toMatchObject({ name: 'runner', maxSessionDuration: 3600 });
  });

  it('reports a missing file by its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-sandbox-'));
    expect(() => loadSandboxFile(join(dir, 'nope.yaml'))).toThrow(/nope\.yaml:1:1: error: cannot read the sandbox file: no such file/);
  });

  it('reports malformed YAML at its line and column', () => {
    const lines = errorsOf('roles:\n  runner:\n    policies: [\n');
    expect(lines[0]).toMatch(/^sandbox\.yaml:\d+:\d+: error: /);
    const dup = errorsOf('account: "000000000000"\naccount: "111111111111"\n' + role);
    expect(dup[0]).toMatch(/^sandbox\.yaml:2:1: error: .*[Mm]ap keys must be unique/);
  });

  it('points at an unknown key, a bad role name and an out-of-range maxSessionDuration', () => {
    const lines = errorsOf(`regoin: us-east-1
roles:
  "bad role!":
    maxSessionDuration: 900
    policies: []
`);
    expect(lines).toEqual([
      'sandbox.yaml:1:1: error: unknown key "regoin" (expected account, region, roles, tables)',
      'sandbox.yaml:3:3: error: "bad role!" is not a valid role name (1-64 characters of letters, digits and +=,.@_-)',
      'sandbox.yaml:4:25: error: maxSessionDuration must be a whole number of seconds from 3600 to 43200',
    ]);
  });

  it('refuses an unquoted account, which YAML reads as a number', () => {
    expect(errorsOf(`account: 000000000000\n${role}`)).toEqual([
      'sandbox.yaml:1:10: error: account must be 12 digits in quotes, e.g. "000000000000" (unquoted, YAML reads a number)',
    ]);
  });

  it('checks policies: no Statement, a bad Effect, an unknown condition key', () => {
    const lines = errorsOf(`roles:
  a:
    policies:
      - Version: "2012-10-17"
  b:
    policies:
      - Statement:
          - Effect: Permit
            Action: dynamodb:GetItem
            Resource: "*"
          - Effect: Allow
            Action: dynamodb:GetItem
            Resource: "*"
            Condition:
              StringEquals: { "dynamodb:Attributes": [a] }
`);
    expect(lines).toEqual([
      'sandbox.yaml:4:9: error: the policy has no Statement',
      'sandbox.yaml:8:21: error: Effect must be "Allow" or "Deny"',
      'sandbox.yaml:15:31: error: the condition key "dynamodb:Attributes" is not one the sandbox sets; refusing rather than evaluating it differently from AWS',
    ]);
  });

  it('checks tables: TableName, KeySchema, AttributeDefinitions, items and unknown members', () => {
    const lines = errorsOf(`${role}tables:
  - KeySchema: [{ AttributeName: id, KeyType: HASH }]
    AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
  - TableName: Things
    AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
  - TableName: Orders
    KeySchema: [{ AttributeName: pk, KeyType: HASH }]
    AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
    Items: []
    items:
      - { id: x }
`);
    expect(lines).toEqual([
      'sandbox.yaml:7:5: error: TableName must be 3-255 characters of A-Z a-z 0-9 _ . -',
      'sandbox.yaml:9:5: error: the table needs KeySchema: a HASH key and optionally a RANGE key, [{ AttributeName, KeyType }]',
      'sandbox.yaml:12:34: error: key attribute pk is missing from AttributeDefinitions',
      'sandbox.yaml:14:5: error: unknown key "Items" in a table (CreateTable input members, plus items)',
      "sandbox.yaml:16:9: error: the item's key attribute pk must be a non-empty string",
    ]);
  });

  it('reads a file from disk with its path in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-sandbox-'));
    const file = join(dir, 'sandbox.yaml');
    writeFileSync(file, 'roles: {}\n');
    expect(() => loadSandboxFile(file)).toThrow(`${file}:1:8: error: roles must map at least one role name`);
  });
});
