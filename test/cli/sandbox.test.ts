/**
 * `runbooks sandbox`, run as a user runs it (the compiled command: `npm test` builds it first):
 * prints the endpoint and base credentials, serves until a signal, then leaves nothing running.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { requireBuild, spawnCli, type CliProcess } from '../helpers/cli.js';
import { childrenOf, eventually, liveInGroup } from '../sandbox/processes.js';

/** `runbooks …` started from the project's folder. */
function runbooks(args: string[]): CliProcess {
  requireBuild();
  return spawnCli(args, { cwd: new URL('../../', import.meta.url).pathname });
}

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  await eventually(check, ms, what);
}

/** The process group of the DynamoDB Local wrapper a `runbooks sandbox` process started. */
function jvmGroup(pid: number): number {
  const groups = childrenOf(pid).filter((c) => liveInGroup(c).length > 1);
  expect(groups).toHaveLength(1);
  return groups[0];
}

describe('runbooks sandbox', () => {
  it('prints one JSON line that the AWS SDK can use, and stops everything on SIGTERM', async () => {
    const run = runbooks(['sandbox', 'runbooks', '--json']);
    try {
      await waitFor(() => run.stdout().includes('\n'), 'the JSON line');
      const lines = run.stdout().trim().split('\n');
      expect(lines).toHaveLength(1);
      const printed = JSON.parse(lines[0]) as { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; roles: string[] };
      expect(Object.keys(printed)).toEqual(['endpoint', 'region', 'accessKeyId', 'secretAccessKey', 'roles']);
      expect(printed.roles).toEqual(['arn:aws:iam::000000000000:role/runbook-runner', 'arn:aws:iam::000000000000:role/runbook-readonly']);

      const base = { endpoint: printed.endpoint, region: printed.region, maxAttempts: 1 };
      const sts = new STSClient({ ...base, credentials: { accessKeyId: printed.accessKeyId, secretAccessKey: printed.secretAccessKey } });
      const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: printed.roles[1], RoleSessionName: 'cli-test' }));
      sts.destroy();
      const ddb = new DynamoDBClient({ ...base, credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! } });
      const q = await ddb.send(new QueryCommand({ TableName: 'Payments', KeyConditionExpression: 'orderId = :o', ExpressionAttributeValues: { ':o': { S: 'C9' } } }));
      ddb.destroy();
      expect(q.Items?.map((i) => i.state.S)).toEqual(['FAILED', 'CAPTURED']);

      const group = jvmGroup(run.child.pid!);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(await eventually(() => liveInGroup(group).length === 0, 10_000)).toBe(true);
      expect(run.stderr()).not.toContain(printed.secretAccessKey);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('prints the endpoint, export lines and roles for a human, on the port asked for, until Ctrl+C', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const run = runbooks(['sandbox', 'runbooks', '--port', String(port)]);
    try {
      await waitFor(() => run.stdout().includes('Press Ctrl+C to stop.'), 'the ready banner');
      const out = run.stdout();
      expect(out).toContain(`endpoint  http://127.0.0.1:${port}`);
      expect(out).toMatch(/export AWS_ACCESS_KEY_ID=AKIA[A-Z2-7]{16}\n/);
      expect(out).toMatch(/export AWS_SECRET_ACCESS_KEY=\S{40}\n/);
      expect(out).toContain('arn:aws:iam::000000000000:role/runbook-readonly');
      const group = jvmGroup(run.child.pid!);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
      expect(run.stdout()).toContain('Sandbox stopped.');
      expect(liveInGroup(group)).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('refuses a malformed sandbox file with its line, exit 2, without starting anything', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rb-cli-')), 'sandbox.yaml');
    writeFileSync(file, 'roles:\n  runner:\n    maxSessionDuration: 60\n');
    const run = runbooks(['sandbox', '--sandbox-file', file]);
    expect(await run.closed).toBe(2);
    expect(run.stderr()).toContain(`${file}:3:25: error: maxSessionDuration must be a whole number of seconds from 3600 to 43200`);
    expect(run.stdout()).toBe('');
  });
});
