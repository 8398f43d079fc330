// Runs persist across restarts, and a server killed mid-run leaves nothing usable behind.
//
// The SIGKILL test runs `runbooks serve --aws` against the suite's shared sandbox, exactly as it
// would run against AWS (AWS_ENDPOINT_URL and base credentials from the environment): the sandbox
// outlives the killed server, as AWS would. The killed run's session credentials died with the
// process, so the test proves the refusal the way an attacker holding them would meet it: it assumes
// the same role itself with a session named like the run's (`rb-<run>-…`), which the inline deny
// the restarted server put on the role (`aws:userid` like `<role id>:rb-<run>-*`) must refuse, while
// a session named for another run, assumed the same way, still works.
import { GetRolePolicyCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assumeRole, dynamoClient, iamClient } from '../helpers/sandbox.js';
import { requireBuild, runCli, sandboxAwsEnv, startServe, type ServeProcess } from '../helpers/cli.js';
import { bearer, callJson, FIXTURES, startTestServer, testerRoleArn } from './helpers.js';

describe('runs after a restart', () => {
  it('keeps ended runs and their transcripts; a run another live server runs on the folder stays its own', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rb-restart-'));
    try {
      const first = await startTestServer({ dataDir });
      const start = async () =>
        (await first.app.inject({ method: 'POST', url: '/api/runs', headers: bearer('alice'), payload: { runbook: 'shop/customer', params: { customerId: 'C1002' } } })).json().run
          .id as string;
      const done = await start();
      await first.app.inject({ method: 'POST', url: `/api/runs/${done}/steps/read-customer/execute`, headers: bearer('alice') });
      await first.app.inject({ method: 'POST', url: `/api/runs/${done}/complete`, headers: bearer('alice') });
      const left = await start();

      // A second server on the same folder while the first still runs `left` (a crash is the SIGKILL test below).
      const second = await startTestServer({ dataDir });
      try {
        const list = async () =>
          (await second.app.inject({ method: 'GET', url: '/api/runs', headers: bearer('bob') })).json().runs as Array<{
            id: string;
            status: string;
            endReason?: string;
            elsewhere?: string;
          }>;
        expect((await list()).find((r) => r.id === done)).toMatchObject({ status: 'completed', endReason: 'complete' });
        expect((await list()).find((r) => r.id === left)).toMatchObject({ status: 'active', elsewhere: expect.stringContaining(`process ${process.pid}`) });
        const md = await second.app.inject({ method: 'GET', url: `/api/runs/${done}/transcript?format=md`, headers: bearer('bob') });
        expect(md.statusCode).toBe(200);
        // The results come from the run's records, the prose from the run's own copy of its runbook.
        expect(md.body).toContain('Grace Hopper');
        expect(md.body).toContain('## Read the customer');
        const exec = await second.app.inject({ method: 'POST', url: `/api/runs/${left}/steps/read-customer/execute`, headers: bearer('alice') });
        expect(exec.json().error.code).toBe('RB_ERR_RUN_ELSEWHERE');

        // The first server stops: it ends its run, and the second sees that.
        await first.close();
        expect((await list()).find((r) => r.id === left)).toMatchObject({ status: 'completed', endReason: 'shutdown' });
        expect((await list()).find((r) => r.id === left)?.elsewhere).toBeUndefined();
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('SIGKILL in the middle of a run', () => {
  let dataDir: string;
  let serve: ServeProcess | undefined;
  const token = 'restart-test-token-0123456789abcdef0123';

  beforeAll(async () => {
    requireBuild();
    dataDir = await mkdtemp(join(tmpdir(), 'rb-sigkill-'));
  });
  afterAll(async () => {
    if (serve && serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  const args = () => [FIXTURES, '--aws', '--iam-revocation', '--role', testerRoleArn(), '--port', '0', '--data', dataDir, '--token', token];

  const api = (method: 'GET' | 'POST', path: string, body?: unknown) => callJson(serve!.url, { authorization: `Bearer ${token}` }, method, path, body);

  it('restarts with the audit chain intact, the run interrupted and its sessions refused by the gateway', async () => {
    serve = await startServe(args(), sandboxAwsEnv());
    const started = await api('POST', '/api/runs', { runbook: 'shop/customer', params: { customerId: 'C1001' } });
    expect(started.status).toBe(201);
    const runId: string = started.json.run.id;
    const executed = await api('POST', `/api/runs/${runId}/steps/read-customer/execute`, {});
    expect(executed.json.execution.status).toBe('succeeded');
    const sessionId: string = executed.json.execution.session.assumedRoleId;
    const roleId = sessionId.split(':')[0];

    // Before the kill, a session named like the run's is accepted: the refusal below is the deny's doing.
    const before = await assumeRole('runbook-tester', { RoleSessionName: `rb-${runId}-probe0` });
    const beforeClient = dynamoClient(before);
    await expect(beforeClient.send(new GetItemCommand({ TableName: 'Customers', Key: { customerId: { S: 'C1001' } } }))).resolves.toBeDefined();

    serve.child.kill('SIGKILL');
    await serve.exited;

    // The chain holds; the killed server's records are not signed yet (it signs when it stops).
    const verifyAfterKill = await runCli(['audit', 'verify', '--data', dataDir, '--json']);
    expect(verifyAfterKill.code, verifyAfterKill.stdout + verifyAfterKill.stderr).toBe(1);
    expect(JSON.parse(verifyAfterKill.stdout).firstBad).toMatchObject({ record: 1, kind: 'unsigned' });

    serve = await startServe(args(), sandboxAwsEnv());
    const run = (await api('GET', `/api/runs/${runId}`)).json.run;
    expect(run.status).toBe('interrupted');
    expect(run.endReason).toBe('interrupted');
    expect(run.revocation).toMatchObject({ iam: 'done' });
    expect(run.executions[0].session).toMatchObject({ assumedRoleId: sessionId, revoked: true });

    // The role now carries a deny for the run's sessions…
    const iam = iamClient();
    const roleName = testerRoleArn().split('/').pop()!;
    const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
    const documents = await Promise.all(
      names.map(async (PolicyName) => decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName }))).PolicyDocument ?? '')),
    );
    expect(documents.join('\n')).toContain(`${roleId}:rb-${runId}-*`);

    // …so a session of the run's name pattern is refused, even one issued before the restart,
    const probe = await assumeRole('runbook-tester', { RoleSessionName: `rb-${runId}-probe1` });
    for (const client of [beforeClient, dynamoClient(probe)]) {
      const refused = await client.send(new GetItemCommand({ TableName: 'Customers', Key: { customerId: { S: 'C1001' } } })).catch((err: Error) => err);
      expect(refused).toBeInstanceOf(Error);
      expect((refused as Error).name).toBe('AccessDeniedException');
      expect((refused as Error).message).toContain('explicit deny');
    }
    // …while a session of another run's name, assumed the same way, still works.
    const other = await assumeRole('runbook-tester', { RoleSessionName: 'rb-0000000000-probe' });
    const ok = await dynamoClient(other).send(new GetItemCommand({ TableName: 'Customers', Key: { customerId: { S: 'C1001' } } }));
    expect(ok.Item?.customerId?.S).toBe('C1001');

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    const verify = await runCli(['audit', 'verify', '--data', dataDir]);
    expect(verify.code).toBe(0);
    // The restarted server signed the killed one's records with its own.
    expect(verify.stdout).toMatch(/^audit log OK: \d+ records, \d+ digests?, signed by [0-9a-f]{64}\n$/);
  }, 120_000);
});
