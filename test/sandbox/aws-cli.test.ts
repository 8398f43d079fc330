/**
 * The unmodified AWS CLI against the sandbox, through scripts/aws-cli-demo.sh: it starts
 * `runbooks sandbox --json`, assumes a role with a session policy pinned to one customer, queries
 * through the gateway, and must see another customer's partition refused. Without the AWS CLI the
 * test says so and does not run; CI sets RUNBOOKS_REQUIRE_AWSCLI=1 (and installs it), where a
 * missing CLI fails.
 */
import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

function findAws(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const aws = findAws();
const required = process.env.RUNBOOKS_REQUIRE_AWSCLI === '1';
if (!aws) {
  process.stderr.write(
    `the AWS CLI test did not run: no \`aws\` on PATH. Install it (Debian: apt-get install awscli) to run it${required ? '; RUNBOOKS_REQUIRE_AWSCLI=1 makes this a failure' : ''}.\n`,
  );
}

describe.runIf(aws !== undefined || required)('the AWS CLI through the gateway', () => {
  it('assumes a role, queries the granted partition and is refused another', async () => {
    expect(aws, 'the AWS CLI is required here (RUNBOOKS_REQUIRE_AWSCLI=1) but is not installed').toBeDefined();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn('bash', [resolve('scripts/aws-cli-demo.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (c) => done({ code: c, stdout, stderr }));
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('assumed-role/runbook-runner/aws-cli-demo');
    // C1001's three orders, then the refusal of C1002's partition with AWS's code.
    for (const order of ['A7', 'B2', 'C9']) expect(stdout).toContain(order);
    expect(stdout).toMatch(/AccessDeniedException/);
    expect(stdout).toContain('== done');
  }, 90_000);
});
