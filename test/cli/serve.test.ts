// `runbooks serve` as `npm start` runs it: sandbox and server come up, the URL carries a 48-hex token,
// SIGTERM stops everything (no JVM left); and the refusals a user can meet at start-up.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, requireBuild, runCli, sandboxAwsEnv, startServe } from '../helpers/cli.js';
import { FIXTURES, testerRoleArn } from '../http/helpers.js';
import { eventually } from '../helpers/eventually.js';

const RUNBOOKS = fileURLToPath(new URL('../../runbooks', import.meta.url));

/** Every process descending from `pid`. */
function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of table) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runbooks serve', () => {
  let dataDir: string;
  beforeAll(async () => {
    requireBuild();
    dataDir = await mkdtemp(join(tmpdir(), 'rb-serve-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('brings up the sandbox and the server, prints the URL with its token, and stops cleanly on SIGTERM', async () => {
    const serve = await startServe([RUNBOOKS, '--port', '0', '--data', dataDir], cleanEnv(), 90_000);
    try {
      expect(serve.stdout()).toMatch(/^runbooks: serving \d+ runbooks from .*runbooks\n {2}http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}\n/);
      expect(serve.url.hostname).toBe('127.0.0.1');
      expect(serve.token).toMatch(/^[0-9a-f]{48}$/);
      const listed = Number(/serving (\d+) runbooks/.exec(serve.stdout())![1]);
      const base = `http://127.0.0.1:${serve.url.port}`;
      expect(await (await fetch(`${base}/api/health`)).json()).toEqual({ ok: true, sandbox: { dynamoLocal: 'up', restarts: 0 } });
      expect((await fetch(`${base}/api/runbooks`)).status).toBe(401);
      const res = await fetch(`${base}/api/runbooks`, { headers: { authorization: `Bearer ${serve.token}` } });
      const { runbooks } = (await res.json()) as { runbooks: Array<{ id: string }> };
      expect(runbooks).toHaveLength(listed);
      // A sample runbook's first step runs against the sandbox the command started, with its seed data.
      const auth = { authorization: `Bearer ${serve.token}`, 'content-type': 'application/json' };
      const started = await fetch(`${base}/api/runs`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ runbook: 'customers/lookup-customer', params: { customerId: 'C1001' } }),
      });
      expect(started.status).toBe(201);
      const run = ((await started.json()) as { run: { id: string } }).run;
      const view = (await (await fetch(`${base}/api/runbooks/customers/lookup-customer`, { headers: auth })).json()) as {
        runbook: { sections: Array<{ kind: string; step?: { name: string } }> };
      };
      const firstStep = view.runbook.sections.find((s) => s.kind === 'step')!.step!.name;
      const executed = await fetch(`${base}/api/runs/${run.id}/steps/${firstStep}/execute`, { method: 'POST', headers: auth, body: '{}' });
      const { execution } = (await executed.json()) as { execution: { status: string; items: Array<Record<string, unknown>> } };
      expect(execution.status).toBe('succeeded');
      expect(execution.items[0]).toMatchObject({ customerId: 'C1001' });
      // The token URL signs a browser in and leaves the address bar without the token.
      const login = await fetch(serve.url, { redirect: 'manual' });
      expect(login.status).toBe(302);
      expect(login.headers.get('location')).toBe('/');
      // The token appears nowhere but in the URL line.
      expect(serve.stderr()).not.toContain(serve.token);
      expect(serve.stdout().split(serve.token).length - 1).toBe(1);

      const family = descendants(serve.child.pid!);
      expect(family.length).toBeGreaterThan(0);
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      expect(serve.stderr()).toContain('runbooks: stopped');
      // DynamoDB Local and its helpers went with it.
      await eventually(() => family.filter(alive).length === 0, 10_000, 'DynamoDB Local and its helpers to exit');
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    }
  }, 120_000);

  it('says clearly when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const res = await runCli(['serve', FIXTURES, '--aws', '--role', testerRoleArn(), '--port', String(port), '--data', dataDir], sandboxAwsEnv());
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(`runbooks: 127.0.0.1:${port} is already in use`);
      expect(res.stderr).toContain('--port');
    } finally {
      blocker.close();
    }
  });

  it('refuses start-up mistakes with exit 2 and a message that says what to do', async () => {
    const refusals: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [
        ['serve', FIXTURES, '--trusted-proxy-header', 'X-Forwarded-User', '--host', '0.0.0.0', '--aws', '--role', testerRoleArn()],
        cleanEnv({ AWS_REGION: 'us-east-1' }),
        /--trusted-proxy-header needs --host on loopback/,
      ],
      [['serve', FIXTURES, '--token', 'short'], cleanEnv(), /--token: a token is 16-256 printable ASCII characters/],
      [['serve', join(FIXTURES, 'no-such-folder')], cleanEnv(), /is not a folder/],
      [['serve', FIXTURES], cleanEnv(), /No sandbox file .*sandbox\.yaml: add sandbox\.yaml to the runbooks folder, pass --sandbox-file PATH, or use --aws/],
      [['serve', FIXTURES, '--aws'], cleanEnv(), /With --aws, set the region/],
      [['serve', FIXTURES, '--aws'], cleanEnv({ AWS_REGION: 'us-east-1' }), /With --aws, name the role/],
      [['serve', FIXTURES, '--users', join(FIXTURES, 'missing-users.yaml')], cleanEnv(), /missing-users\.yaml: cannot read the users file/],
      [['serve', FIXTURES, '--idle-timeout', 'soon', '--aws'], cleanEnv(), /--idle-timeout "soon": a whole number of seconds/],
    ];
    for (const [args, env, message] of refusals) {
      const res = await runCli(args, env);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(message);
    }
  });
});
