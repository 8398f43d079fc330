/**
 * Results of any size: a server (`runbooks serve`, its own process) runs five executions of a read
 * returning 1,000 items of 8 KB each. Its memory does not grow with the items (RSS grows by less
 * than 50 MB over the five; the earlier design held every item of every execution and grew by
 * 320 MB), `GET /api/runs/:run` stays under 100 KB (a first page of the last execution only), and
 * every item comes back in order through the items route and the CSV export.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTable, localDynamo, uniqueTableName } from '../helpers/sandbox.js';
import { requireBuild, sandboxAwsEnv, startServe, type ServeProcess } from '../helpers/cli.js';
import { testerRoleArn } from '../http/helpers.js';

const ITEMS = 1000;
const table = uniqueTableName('large');
const token = 'large-results-token-0123456789abcdef01';

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

describe('results of any size', { timeout: 180_000 }, () => {
  let work: string;
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    requireBuild();
    await createTestTable(table);
    const doc = DynamoDBDocumentClient.from(localDynamo());
    const filler = 'x'.repeat(8 * 1024 - 64);
    for (let i = 0; i < ITEMS; i += 25) {
      const batch = Array.from({ length: 25 }, (_, j) => ({ PutRequest: { Item: { id: `item-${String(i + j).padStart(5, '0')}`, n: i + j, body: filler } } }));
      await doc.send(new BatchWriteCommand({ RequestItems: { [table]: batch } }));
    }
    doc.destroy();
    work = await mkdtemp(join(tmpdir(), 'rb-large-'));
    await mkdir(join(work, 'runbooks'));
    await writeFile(
      join(work, 'runbooks', 'scan-all.md'),
      `---\ntitle: Every item\n---\n# All of them\n\`\`\`dynamodb {"name":"all", "maxItems": ${ITEMS}}\noperation: Scan\nTableName: ${table}\n\`\`\`\n`,
    );
    serve = await startServe([join(work, 'runbooks'), '--aws', '--role', testerRoleArn(), '--port', '0', '--data', join(work, 'data'), '--token', token], sandboxAwsEnv());
  }, 120_000);

  afterAll(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.exited;
    await rm(work, { recursive: true, force: true });
  });

  async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    return fetch(new URL(path, serve!.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  it('keeps memory and the run view small, and every item readable', async () => {
    const runId = ((await (await api('POST', '/api/runs', { runbook: 'scan-all', params: {} })).json()) as { run: { id: string } }).run.id;
    // One execution first, so that what the process loads once (SDK, schemas) is not counted.
    const warm = (await (await api('POST', `/api/runs/${runId}/steps/all/execute`, {})).json()) as { execution: { itemCount: number } };
    expect(warm.execution.itemCount, JSON.stringify(warm).slice(0, 600)).toBe(ITEMS);
    const before = await rssOf(serve!.child.pid!);
    for (let i = 0; i < 5; i++) {
      const res = (await (await api('POST', `/api/runs/${runId}/steps/all/execute`, {})).json()) as { execution: { status: string; itemCount: number; items: unknown[] } };
      expect(res.execution).toMatchObject({ status: 'succeeded', itemCount: ITEMS });
      expect(res.execution.items.length).toBeLessThan(ITEMS);
    }
    const after = await rssOf(serve!.child.pid!);
    process.stderr.write(`large-results: RSS ${Math.round(before / 1e6)} → ${Math.round(after / 1e6)} MB over five executions\n`);
    expect(after - before, `RSS ${Math.round(before / 1e6)} → ${Math.round(after / 1e6)} MB`).toBeLessThan(50 * 1024 * 1024);

    const view = await api('GET', `/api/runs/${runId}`);
    const body = await view.text();
    expect(body.length).toBeLessThan(100 * 1024);
    const run = JSON.parse(body) as { run: { executions: Array<{ n: number; items: unknown[]; itemCount: number }> } };
    expect(run.run.executions).toHaveLength(6);
    expect(run.run.executions.slice(0, 5).every((e) => e.items.length === 0 && e.itemCount === ITEMS)).toBe(true);

    // Every item of an earlier execution, in pages through the items route.
    const seen: string[] = [];
    for (let offset = 0; offset < ITEMS; offset += 400) {
      const page = (await (await api('GET', `/api/runs/${runId}/steps/all/items?n=2&offset=${offset}&limit=400`)).json()) as { total: number; items: Array<{ id: string }> };
      expect(page.total, JSON.stringify(page).slice(0, 300)).toBe(ITEMS);
      seen.push(...page.items.map((i) => i.id));
    }
    expect(seen).toHaveLength(ITEMS);
    expect(new Set(seen).size).toBe(ITEMS);

    // The CSV holds every item of the last execution.
    const csv = await (await api('GET', `/api/runs/${runId}/steps/all/result.csv`)).text();
    expect(csv.trimEnd().split('\r\n')).toHaveLength(ITEMS + 1);
  });
});
