/**
 * `runbooks store init` as a user runs it (the built command): with --aws against a DynamoDB
 * endpoint it creates the tables and turns TTL on, and a second run keeps them; an identity without
 * the rights gets the AWS code and the actions it needs; without --aws it starts the sandbox, whose
 * base principal opens the store; a prefix no table name can start with is bad input.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { cleanEnv, requireBuild, runCli, sandboxAwsEnv } from '../helpers/cli.js';
import { localDynamo, sandboxInfo } from '../helpers/sandbox.js';

const info = sandboxInfo();
// DynamoDB Local itself, as an account where the caller may create tables.
const adminEnv = () =>
  cleanEnv({ AWS_ENDPOINT_URL_DYNAMODB: info.dynamoLocalEndpoint, AWS_REGION: info.region, AWS_ACCESS_KEY_ID: 'sandboxlocal', AWS_SECRET_ACCESS_KEY: 'sandboxlocal' });

describe('runbooks store init', () => {
  requireBuild();

  it('creates the tables with --aws, then keeps them', async () => {
    const prefix = `rb-${randomUUID().slice(0, 8)}-`;
    const first = await runCli(['store', 'init', '--aws', '--store-prefix', prefix], adminEnv());
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      [
        `run store tables (prefix ${prefix}) in AWS (${info.region}):`,
        `  ${prefix}runs     created`,
        `  ${prefix}journal  created`,
        `  ${prefix}items    created, TTL on expiresAt`,
        `  ${prefix}audit    created`,
        '',
      ].join('\n'),
    );
    const again = await runCli(['store', 'init', '--aws', '--json'], { ...adminEnv(), RUNBOOKS_STORE_PREFIX: prefix });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      prefix,
      region: info.region,
      tables: [
        { kind: 'runs', name: `${prefix}runs`, status: 'exists' },
        { kind: 'journal', name: `${prefix}journal`, status: 'exists' },
        { kind: 'items', name: `${prefix}items`, status: 'exists' },
        { kind: 'audit', name: `${prefix}audit`, status: 'exists' },
      ],
      ttl: { table: `${prefix}items`, attribute: 'expiresAt' },
    });
    const local = localDynamo();
    const ttl = await local.send(new DescribeTimeToLiveCommand({ TableName: `${prefix}items` }));
    // The audit chain is evidence: it never expires.
    const auditTtl = await local.send(new DescribeTimeToLiveCommand({ TableName: `${prefix}audit` }));
    local.destroy();
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe('ENABLED');
    expect(auditTtl.TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
  });

  it('names the AWS code and the actions needed when the identity may not create tables', async () => {
    // The sandbox's base principal may use the store tables, not create them.
    const r = await runCli(['store', 'init', '--aws', '--store-prefix', `runbooks-${randomUUID().slice(0, 8)}-`], sandboxAwsEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^runbooks: Creating the run store failed: CreateTable of runbooks-\w+-(runs|journal|items|audit) was refused \(AccessDeniedException\)\. The identity running it needs dynamodb:CreateTable, dynamodb:DescribeTable, dynamodb:DescribeTimeToLive, dynamodb:UpdateTimeToLive, dynamodb:UpdateTable on table\/runbooks-\w+-\* \(docs\/deploy\.md\)\.\n$/,
    );
    expect(r.stderr).not.toContain(info.secretAccessKey);
  });

  it('in the sandbox, creates them at its start and opens them as the base principal', async () => {
    const r = await runCli(['store', 'init', '--sandbox-file', 'runbooks/sandbox.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^run store tables \(prefix runbooks-\) in the local sandbox of runbooks\/sandbox\.yaml \(in memory: /);
    expect(r.stdout).toContain('  runbooks-items    created, TTL on expiresAt\n');
    expect(r.stdout).toContain('  runbooks-audit    created\n');
  }, 60_000);

  it('refuses a prefix no table name can start with, and --aws without a region', async () => {
    const bad = await runCli(['store', 'init', '--store-prefix', 'no spaces']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('runbooks: The store prefix "no spaces" cannot start a DynamoDB table name: use 1-248 characters of A-Z a-z 0-9 _ . - (default runbooks-).\n');
    const noRegion = await runCli(['store', 'init', '--aws']);
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toBe('runbooks: With --aws, set the region: AWS_REGION=eu-west-1 (or AWS_DEFAULT_REGION).\n');
  });
});
