/**
 * One sandbox for the whole suite: DynamoDB Local takes seconds to start, so test files share it
 * through `inject('sandbox')` (see test/helpers/sandbox.ts) instead of each starting their own.
 * Besides the sample roles of runbooks/sandbox.yaml there is `runbook-tester`, allowed dynamodb:*
 * on everything: tests that write create their own uniquely named tables (through
 * dynamoLocalEndpoint) so that parallel files neither disturb each other nor the seed data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadSandboxFile, startSandbox, type Sandbox } from '../server/cli/local-sandbox.js';
import type { SandboxInfo } from './helpers/sandbox.js';

let sandbox: Sandbox | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The audit signing key is created on first use under $XDG_CONFIG_HOME: the suite's engines and
  // the commands it runs (which inherit this environment) use a key of their own, never the user's.
  const configHome = await mkdtemp(join(tmpdir(), 'rb-test-config-'));
  process.env.XDG_CONFIG_HOME = configHome;
  delete process.env.RUNBOOKS_AUDIT_KEY;
  const config = loadSandboxFile(new URL('../runbooks/sandbox.yaml', import.meta.url).pathname);
  config.roles.push({
    name: 'runbook-tester',
    maxSessionDuration: 43200,
    policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] }],
  });
  sandbox = await startSandbox({ config });
  const info: SandboxInfo = {
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    account: sandbox.account,
    accessKeyId: sandbox.baseCredentials.accessKeyId,
    secretAccessKey: sandbox.baseCredentials.secretAccessKey,
    roles: sandbox.roles,
    dynamoLocalEndpoint: sandbox.dynamoLocalEndpoint,
  };
  project.provide('sandbox', info);
  return async () => {
    await sandbox?.stop();
    sandbox = undefined;
    await rm(configHome, { recursive: true, force: true });
  };
}
