// `runbooks audit verify` and `runbooks audit key`: OK on a real audit log (signed with the suite's
// key, under the temporary XDG_CONFIG_HOME of test/global-setup.ts), the first problem and its kind
// named when the log is edited, cut, torn, forged or checked against another key, transcripts
// checked against the log, and a clear refusal without a log.
import { cp, mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRecord, type AuditRecord } from '../../server/runs/audit.js';
import { cleanEnv, requireBuild, runCli } from '../helpers/cli.js';
import { bearer, startTestServer } from '../http/helpers.js';

describe('runbooks audit verify', () => {
  let dataDir: string;
  let work: string;
  let lines: string[];
  let runId: string;
  let fingerprint: string;

  beforeAll(async () => {
    requireBuild();
    dataDir = await mkdtemp(join(tmpdir(), 'rb-audit-'));
    work = await mkdtemp(join(tmpdir(), 'rb-audit-work-'));
    // A real log: a run with an execution and its completion, through the server.
    const server = await startTestServer({ dataDir });
    const run = (
      await server.app.inject({ method: 'POST', url: '/api/runs', headers: bearer('alice'), payload: { runbook: 'shop/customer', params: { customerId: 'C1003' } } })
    ).json().run;
    runId = run.id;
    await server.app.inject({ method: 'POST', url: `/api/runs/${run.id}/steps/read-customer/execute`, headers: bearer('alice') });
    await server.app.inject({ method: 'POST', url: `/api/runs/${run.id}/complete`, headers: bearer('alice') });
    for (const format of ['md', 'json', 'html']) {
      const res = await server.app.inject({ method: 'GET', url: `/api/runs/${run.id}/transcript?format=${format}`, headers: bearer('alice') });
      expect(res.statusCode).toBe(200);
      await writeFile(join(work, `transcript.${format}`), res.body);
    }
    await server.close();
    lines = (await readFile(join(dataDir, 'audit.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');
    const key = await runCli(['audit', 'key']);
    expect(key.code, key.stderr).toBe(0);
    fingerprint = /^fingerprint ([0-9a-f]{64})$/m.exec(key.stdout)![1];
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  /** A copy of the log with `edit` applied to its lines (and, with `runs`, the run files), verified by the command. */
  async function verifyEdited(edit: (lines: string[]) => string[], json = false, options: { runs?: boolean; args?: string[] } = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'rb-audit-edit-'));
    try {
      await writeFile(join(dir, 'audit.jsonl'), `${edit([...lines]).join('\n')}\n`);
      if (options.runs) await cp(join(dataDir, 'runs'), join(dir, 'runs'), { recursive: true });
      return await runCli(['audit', 'verify', '--data', dir, ...(json ? ['--json'] : []), ...(options.args ?? [])]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('reports an intact log as OK with its record and digest counts and its key (exit 0)', async () => {
    expect(lines.length).toBeGreaterThanOrEqual(5);
    // The server signs after run.completed; closing found nothing left to sign.
    expect(lines.slice(-2).map((l) => JSON.parse(l).type)).toEqual(['run.completed', 'audit.digest']);
    const res = await runCli(['audit', 'verify', '--data', dataDir]);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`audit log OK: ${lines.length} records, 1 digest, signed by ${fingerprint}\n`);
    const json = await runCli(['audit', 'verify', '--data', dataDir, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, file: join(dataDir, 'audit.jsonl'), records: lines.length, digests: 1, fingerprint });
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
    expect(res.stdout).toMatch(/^audit log broken at record 3 \(line 3\): edited: its content does not match its hash \(the record was edited\)\n/);
  });

  it('names a removed record and a torn last line', async () => {
    const removed = await verifyEdited((l) => [...l.slice(0, 1), ...l.slice(2)]);
    expect(removed.code).toBe(1);
    expect(removed.stdout).toMatch(/^audit log broken at record 3 \(line 2\): removed: sequence number 3 where 2 was expected/);
    const torn = await verifyEdited((l) => [...l.slice(0, -1), l[l.length - 1].slice(0, 40)], true);
    expect(torn.code).toBe(1);
    expect(JSON.parse(torn.stdout)).toMatchObject({
      ok: false,
      records: lines.length - 1,
      firstBad: { record: lines.length, line: lines.length, kind: 'torn', reason: expect.stringContaining('not valid JSON') },
    });
  });

  it('names records appended after the last digest as unsigned, even with a correct chain', async () => {
    const res = await verifyEdited((l) => {
      const last = JSON.parse(l[l.length - 1]) as AuditRecord;
      const body = { seq: last.seq + 1, at: new Date().toISOString(), type: 'step.executed', runId, user: 'mallory', prev: last.hash };
      return [...l, JSON.stringify({ ...body, hash: hashRecord(body) })];
    });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(
      new RegExp(`^audit log broken at record ${lines.length + 1} \\(line ${lines.length + 1}\\): unsigned: record ${lines.length + 1} follows the last digest`),
    );
  });

  it('finds a cut end through the run files', async () => {
    const res = await verifyEdited((l) => l.slice(0, -2), true, { runs: true });
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).firstBad).toMatchObject({ record: lines.length - 1, kind: 'run-cut', reason: expect.stringContaining(`run ${runId}'s last record`) });
  });

  it("checks that a transcript's audit hash is in the log, in each format", async () => {
    for (const format of ['md', 'json', 'html']) {
      const file = join(work, `transcript.${format}`);
      const ok = await runCli(['audit', 'verify', '--data', dataDir, '--transcript', file]);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`  transcript ${file}: its audit hash is record ${lines.length - 1}\n`);
    }
    const cut = await verifyEdited((l) => l.slice(0, -2), false, { args: ['--transcript', join(work, 'transcript.md')] });
    expect(cut.code).toBe(1);
    expect(cut.stdout).toMatch(/: transcript: the transcript's audit hash [0-9a-f]{64} is not in the log/);
    const none = join(work, 'not-a-transcript.md');
    await writeFile(none, '# notes\n');
    const refused = await runCli(['audit', 'verify', '--data', dataDir, '--transcript', none]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('shows no audit hash');
  });

  it('prints the key, creates one where there is none, and reports digests signed by another key as forged', async () => {
    const again = await runCli(['audit', 'key']);
    expect(again.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\nfingerprint [0-9a-f]{64}\n$/);
    expect(again.stdout).toContain(fingerprint);
    expect(again.stderr).toBe('');

    const otherKey = join(work, 'other', 'audit-key.pem');
    const created = await runCli(['audit', 'key', '--audit-key', otherKey, '--json']);
    expect(created.code).toBe(0);
    expect(created.stderr).toContain(`created the audit signing key ${otherKey}`);
    const other = JSON.parse(created.stdout) as { fingerprint: string; publicKey: string; path: string };
    expect(other.fingerprint).not.toBe(fingerprint);
    expect((await stat(otherKey)).mode & 0o777).toBe(0o600);
    expect((await stat(join(work, 'other'))).mode & 0o777).toBe(0o700);

    const pub = join(work, 'other.pub.pem');
    await writeFile(pub, other.publicKey);
    const forged = await runCli(['audit', 'verify', '--data', dataDir, '--key', pub]);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(
      new RegExp(
        `^audit log broken at record ${lines.length} \\(line ${lines.length}\\): forged-digest: the digest is signed by key ${fingerprint}, not by the audit key ${other.fingerprint}`,
      ),
    );
    // The environment variable names the key as the flag does.
    const byEnv = await runCli(['audit', 'verify', '--data', dataDir], cleanEnv({ RUNBOOKS_AUDIT_KEY: otherKey }));
    expect(byEnv.code).toBe(1);
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
