/**
 * Several writers on one data folder: a server executing steps for 5 concurrent clients while
 * `runbooks run` runs 20 times as separate processes, all appending to the same audit log and run
 * store. Afterwards the audit chain verifies (no fork, no interleaving) and every execution of
 * either writer is in the log exactly once, and in its run's journal.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogPath, verifyAuditLog, type AuditRecord } from '../../server/runs/audit.js';
import { requireBuild, runCli, sandboxAwsEnv } from '../helpers/cli.js';
import { bearer, ensureItemsTable, putItem, startTestServer, testerRoleArn, unique, type TestServer } from '../http/helpers.js';

const CLI_RUNS = 20;
const CLIENTS = 5;
const STEPS_PER_CLIENT = 8;

describe('several writers on one data folder', { timeout: 240_000 }, () => {
  let dataDir: string;
  let server: TestServer;
  let runbookFile: string;
  const itemId = unique('writers');

  beforeAll(async () => {
    requireBuild();
    await ensureItemsTable();
    await putItem({ id: itemId, state: 'OK' });
    dataDir = await mkdtemp(join(tmpdir(), 'rb-writers-'));
    runbookFile = join(dataDir, '..', `${itemId}.md`);
    await writeFile(
      runbookFile,
      `---\ntitle: Read one item\nparams:\n  id: { type: string }\n---\n# Read it\n\`\`\`dynamodb {"name":"read"}\noperation: GetItem\nTableName: RbHttpItems\nKey: { id: "{{id}}" }\n\`\`\`\n`,
    );
    server = await startTestServer({ dataDir });
  });

  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(runbookFile, { force: true });
  });

  it('keeps one chain and every execution of both, once', async () => {
    const env = sandboxAwsEnv();
    const cliRuns = (async () => {
      const outcomes: Array<{ code: number | null; runId?: string }> = [];
      for (let i = 0; i < CLI_RUNS; i++) {
        const res = await runCli(['run', runbookFile, '--aws', '--role', testerRoleArn(), '--data', dataDir, '-p', `id=${itemId}`, '--json'], env);
        outcomes.push({ code: res.code, runId: res.code === 0 ? (JSON.parse(res.stdout) as { run: { id: string } }).run.id : res.stderr });
      }
      return outcomes;
    })();
    const clients = Array.from({ length: CLIENTS }, async () => {
      const started = await server.app.inject({
        method: 'POST',
        url: '/api/runs',
        headers: bearer('alice'),
        payload: { runbook: 'shop/fix-item', params: { id: itemId, to: 'FIXED' } },
      });
      const runId = started.json().run.id as string;
      for (let i = 0; i < STEPS_PER_CLIENT; i++) {
        const res = await server.app.inject({ method: 'POST', url: `/api/runs/${runId}/steps/read-item/execute`, headers: bearer('alice'), payload: {} });
        expect(res.json().execution.status).toBe('succeeded');
      }
      await server.app.inject({ method: 'POST', url: `/api/runs/${runId}/complete`, headers: bearer('alice'), payload: {} });
      return runId;
    });
    const [outcomes, serverRuns] = await Promise.all([cliRuns, Promise.all(clients)]);
    expect(outcomes.map((o) => o.code)).toEqual(Array(CLI_RUNS).fill(0));

    await server.close();
    const verdict = await verifyAuditLog(dataDir);
    expect(verdict.ok, JSON.stringify(verdict.firstBad)).toBe(true);

    const records = (await readFile(auditLogPath(dataDir), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    const executed = records.filter((r) => r.type === 'step.executed').map((r) => `${r.runId}/${String(r.data?.step)}#${String(r.data?.n)}`);
    expect(new Set(executed).size).toBe(executed.length);
    for (const o of outcomes) expect(executed).toContain(`${o.runId}/read#1`);
    for (const runId of serverRuns) {
      for (let n = 1; n <= STEPS_PER_CLIENT; n++) expect(executed).toContain(`${runId}/read-item#${n}`);
      const journal = (await readFile(join(dataDir, 'runs', runId, 'journal.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { seq: number; type: string });
      expect(journal.map((r) => r.seq)).toEqual(journal.map((_, i) => i + 1));
      expect(journal.filter((r) => r.type === 'execution')).toHaveLength(STEPS_PER_CLIENT);
    }
    expect(executed).toHaveLength(CLI_RUNS + CLIENTS * STEPS_PER_CLIENT);
  });
});
