/**
 * `runbooks run --wait-approval`: a terminal user gets a write approved. The command requests the
 * approval, says where to decide it and waits; bob approves through a server on the same data
 * folder; the command then runs the write (with --yes) and exits 0. A denial makes it exit 1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuild, runCli, sandboxAwsEnv } from '../helpers/cli.js';
import { bearer, startTestServer, testerRoleArn, type TestServer } from '../http/helpers.js';
import { createTestTable, localDynamo, uniqueTableName } from '../helpers/sandbox.js';

const table = uniqueTableName('waitapproval');

describe('runbooks run --wait-approval', { timeout: 120_000 }, () => {
  let dir: string;
  let server: TestServer;
  let file: string;

  beforeAll(async () => {
    requireBuild();
    await createTestTable(table);
    dir = await mkdtemp(join(tmpdir(), 'rb-wait-'));
    file = join(dir, 'stamp.md');
    await writeFile(
      file,
      `---\ntitle: Stamp\nparams:\n  id: { type: string }\naccess:\n  approval: writes\n---\n# Stamp it\n\`\`\`dynamodb {"name":"stamp"}\noperation: PutItem\nTableName: ${table}\nItem: { id: "{{id}}", at: "{{now}}" }\n\`\`\`\n`,
    );
    server = await startTestServer({ dataDir: join(dir, 'data') });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (id: string) => {
    const env = sandboxAwsEnv();
    return runCli(
      [
        'run',
        file,
        '--aws',
        '--role',
        testerRoleArn(),
        '--data',
        join(dir, 'data'),
        '-p',
        `id=${id}`,
        '--yes',
        '--wait-approval',
        '60s',
        '--notebook-url',
        'http://127.0.0.1:4680',
        '--user',
        'alice',
      ],
      env,
    );
  };

  /** Decides the CLI's pending request as bob, once it shows up through the server. */
  async function decide(approve: boolean): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const runs = (await server.app.inject({ method: 'GET', url: '/api/runs', headers: bearer('bob') })).json().runs as Array<{
        id: string;
        approvals: Record<string, { status: string }>;
      }>;
      const waiting = runs.find((r) => r.approvals.stamp?.status === 'pending');
      if (waiting) {
        const res = await server.app.inject({
          method: 'POST',
          url: `/api/runs/${waiting.id}/steps/stamp/${approve ? 'approve' : 'deny'}`,
          headers: bearer('bob'),
          payload: { comment: 'checked' },
        });
        expect(res.statusCode, res.body).toBe(200);
        return waiting.id;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no pending approval appeared');
  }

  it('waits for the approval, then runs the write', async () => {
    const [result, runId] = await Promise.all([run('approved-1'), decide(true)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`http://127.0.0.1:4680/#/runs/${runId}`);
    expect(result.stderr).toContain('approved by bob (checked)');
    const doc = DynamoDBDocumentClient.from(localDynamo());
    expect((await doc.send(new GetCommand({ TableName: table, Key: { id: 'approved-1' } }))).Item).toMatchObject({ id: 'approved-1' });
    doc.destroy();
    const view = (await server.app.inject({ method: 'GET', url: `/api/runs/${runId}`, headers: bearer('bob') })).json().run;
    expect(view.approvals.stamp).toMatchObject({ status: 'used', requestedBy: 'alice', decidedBy: 'bob', usedBy: 'alice' });
    expect(view.status).toBe('completed');
  });

  it('stops with exit 1 when the approver denies', async () => {
    const [result] = await Promise.all([run('denied-1'), decide(false)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/its approval is denied \(by bob\)/);
  });
});
