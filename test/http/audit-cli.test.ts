// `runbooks audit verify`: OK on a real audit log, the first broken record named when it is edited,
// truncated or missing a record, and a clear refusal without a log.
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, requireBuild, runCli } from './cli.js';
import { bearer, startTestServer } from './helpers.js';

describe('runbooks audit verify', () => {
  let dataDir: string;
  let lines: string[];

  beforeAll(async () => {
    requireBuild();
    dataDir = await mkdtemp(join(tmpdir(), 'rb-audit-'));
    // A real log: a run with an execution and its completion, through the server.
    const server = await startTestServer({ dataDir });
    const run = (await server.app.inject({ method: 'POST', url: '/api/runs', headers: bearer('alice'), payload: { runbook: 'shop/customer', params: { customerId: 'C1003' } } })).json().run;
    await server.app.inject({ method: 'POST', url: `/api/runs/${run.id}/steps/read-customer/execute`, headers: bearer('alice') });
    await server.app.inject({ method: 'POST', url: `/api/runs/${run.id}/complete`, headers: bearer('alice') });
    await server.close();
    lines = (await readFile(join(dataDir, 'audit.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A copy of the log with `edit` applied to its lines, verified by the command. */
  async function verifyEdited(edit: (lines: string[]) => string[], json = false) {
    const dir = await mkdtemp(join(tmpdir(), 'rb-audit-edit-'));
    try {
      await writeFile(join(dir, 'audit.jsonl'), `${edit([...lines]).join('\n')}\n`);
      return await runCli(['audit', 'verify', '--data', dir, ...(json ? ['--json'] : [])]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('reports an intact log as OK with its record count (exit 0)', async () => {
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const res = await runCli(['audit', 'verify', '--data', dataDir]);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`audit log OK: ${lines.length} records\n`);
    const json = await runCli(['audit', 'verify', '--data', dataDir, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, file: join(dataDir, 'audit.jsonl'), records: lines.length });
    // The environment variable works as the flag does.
    const env = await runCli(['audit', 'verify'], cleanEnv({ RUNBOOKS_DATA: dataDir }));
    expect(env.code).toBe(0);
  });

  it('names the first edited record (exit 1)', async () => {
    const res = await verifyEdited((l) => {
      const rec = JSON.parse(l[2]);
      rec.user = 'mallory';
      l[2] = JSON.stringify(rec);
      return l;
    });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^audit log broken at record 3 \(line 3\): its content does not match its hash \(the record was edited\)\n/);
  });

  it('names a removed record and a torn last line', async () => {
    const removed = await verifyEdited((l) => [...l.slice(0, 1), ...l.slice(2)]);
    expect(removed.code).toBe(1);
    expect(removed.stdout).toMatch(/^audit log broken at record 3 \(line 2\): sequence number 3 where 2 was expected/);
    const torn = await verifyEdited((l) => [...l.slice(0, -1), l[l.length - 1].slice(0, 40)], true);
    expect(torn.code).toBe(1);
    expect(JSON.parse(torn.stdout)).toMatchObject({ ok: false, records: lines.length - 1, firstBad: { record: lines.length, line: lines.length, reason: expect.stringContaining('not valid JSON') } });
  });

  it('refuses a folder without an audit log (exit 2)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'rb-audit-none-'));
    await mkdir(join(empty, 'runs'));
    const res = await runCli(['audit', 'verify', '--data', empty]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`no audit log at ${join(empty, 'audit.jsonl')}`);
    await rm(empty, { recursive: true, force: true });
  });
});
