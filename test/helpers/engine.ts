/**
 * A run engine on the suite's shared sandbox, as the tests build one: the base principal's
 * credentials, the `runbook-tester` role (dynamodb:* on everything, so tests may use tables of
 * their own), no idle timer, and no IAM revocation unless a test is about it (roles are shared).
 */
import { RunEngine, type EngineOptions } from '../../server/runs/engine.js';
import type { Sandbox } from '../../server/sandbox/index.js';
import { roleArn, sandboxInfo, type SandboxInfo } from './sandbox.js';

export function testEngine(options: Pick<EngineOptions, 'dataDir'> & Partial<EngineOptions>, sandbox: SandboxInfo = sandboxInfo()): Promise<RunEngine> {
  return RunEngine.create({
    region: sandbox.region,
    account: sandbox.account,
    endpoint: sandbox.endpoint,
    credentials: { accessKeyId: sandbox.accessKeyId, secretAccessKey: sandbox.secretAccessKey },
    defaultRoleArn: roleArn('runbook-tester', sandbox),
    iamRevocation: false,
    idleTimeoutMs: 0,
    ...options,
  });
}

/** A run engine on a sandbox a test started itself: its base principal, its first role, no idle timer, no IAM revocation. */
export function sandboxEngine(sandbox: Sandbox, options: Pick<EngineOptions, 'dataDir'> & Partial<EngineOptions>): Promise<RunEngine> {
  return RunEngine.create({
    region: sandbox.region,
    account: sandbox.account,
    endpoint: sandbox.endpoint,
    credentials: sandbox.baseCredentials,
    defaultRoleArn: sandbox.roles[0].arn,
    iamRevocation: false,
    idleTimeoutMs: 0,
    ...options,
  });
}
