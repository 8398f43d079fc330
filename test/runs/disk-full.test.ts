/**
 * A full disk under the data folder (a 600 KB tmpfs, as root; where mounting is not allowed the
 * test says so, and CI — root — runs it): a write DynamoDB performed is reported as performed, with
 * its result, and the run is held; nothing is appended onto a torn line, no temporary file stays,
 * the in-memory run never runs ahead of its records; once space is back the pending records are
 * written in order, the run continues, and the audit log verifies.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { open, readFile, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRbError } from '../../server/errors.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import { verifyAuditLog } from '../../server/runs/audit.js';
import type { RunEngine } from '../../server/runs/engine.js';
import { testEngine } from '../helpers/engine.js';
import { assumeRole, createTestTable, documentClient, uniqueTableName } from '../helpers/sandbox.js';

const table = uniqueTableName('diskfull');
const mountPoint = mkdtempSync(join(tmpdir(), 'rb-diskfull-'));

function tryMount(): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `a tmpfs could not be mounted (${String((err as Error).message).split('\n')[0]}): the disk-full test needs root`;
  }
}
const problem = tryMount();
const required = process.env.CI === 'true' || process.env.RUNBOOKS_REQUIRE_BROWSER === '1';
if (problem && !required) process.stderr.write(`\ndisk-full: not run: ${problem}\n\n`);

// Longer than a page: a full disk refuses the write's records even where a file's last page has room
// for a short one (taking a lock needs no space at all: it is a hard link).
const NOTE = `written while the disk was full ${'.'.repeat(5000)}`;

const RUNBOOK = `---
title: Write then read
params:
  id: { type: string }
---
# Write
\`\`\`dynamodb {"name":"put"}
operation: PutItem
TableName: ${table}
Item: { id: "{{id}}", note: "${NOTE}" }
\`\`\`
# Read
\`\`\`dynamodb {"name":"get"}
operation: GetItem
TableName: ${table}
Key: { id: "{{id}}" }
\`\`\`
`;

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile())
    .map((f) => join(f.parentPath, f.name));
}

async function fillDisk(path: string): Promise<void> {
  const fh = await open(path, 'w');
  const block = Buffer.alloc(4096, 0x61);
  try {
    for (;;) await fh.write(block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await fh.close();
  }
}

describe.runIf(!problem || required)('a full disk under the data folder', { timeout: 60_000 }, () => {
  let engine: RunEngine;
  const dataDir = join(mountPoint, 'data');

  beforeAll(async () => {
    if (problem) throw new Error(problem);
    await createTestTable(table);
    engine = await testEngine({ dataDir });
  });

  afterAll(async () => {
    await engine?.close().catch(() => undefined);
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe' });
    } catch {
      // not mounted
    }
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('reports a performed write as performed, holds the run, and continues once space is back', async () => {
    const { runbook } = parseRunbook(RUNBOOK, 'write-then-read.md');
    const run = await engine.startRun({ runbook: runbook!, source: RUNBOOK, runbookId: 'write-then-read', params: { id: 'full-1' }, user: 'alice' });
    expect((await engine.executeStep(run.id, 'get', { user: 'alice' })).status).toBe('succeeded');
    const filler = join(mountPoint, 'filler');
    await fillDisk(filler);

    const execution = await engine.executeStep(run.id, 'put', { user: 'alice', confirm: true });
    // Performed, and said so: the write's result, and that it is not recorded yet.
    expect(execution.status).toBe('succeeded');
    expect(execution.unrecorded?.code).toBe('RB_ERR_RUN_HELD');
    expect(execution.unrecorded?.message).toMatch(/performed.*not writable|performed.*could not be recorded/i);
    const item = await documentClient(await assumeRole('runbook-tester')).send(new GetCommand({ TableName: table, Key: { id: 'full-1' } }));
    expect(item.Item).toEqual({ id: 'full-1', note: NOTE });
    // The run's state holds only what is recorded.
    expect(engine.getRun(run.id)!.executions.map((e) => e.step)).toEqual(['get']);

    // Held: nothing more runs until the record is written.
    const held = await engine.executeStep(run.id, 'get', { user: 'alice' }).catch((err: unknown) => err);
    expect(isRbError(held) && held.code).toBe('RB_ERR_RUN_HELD');

    // Nothing torn, nothing temporary.
    const audit = await readFile(join(dataDir, 'audit.jsonl'), 'utf8');
    expect(audit.endsWith('\n')).toBe(true);
    for (const line of audit.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    const journal = await readFile(join(dataDir, 'runs', run.id, 'journal.jsonl'), 'utf8').catch(() => '');
    expect(journal === '' || journal.endsWith('\n')).toBe(true);
    expect(filesUnder(dataDir).filter((f) => /\.tmp$|\.lock$/.test(f))).toEqual([]);

    // Space is back: the pending write is recorded first, then the read runs.
    await unlink(filler);
    const read = await engine.executeStep(run.id, 'get', { user: 'alice' });
    expect(read.status).toBe('succeeded');
    const executions = engine.getRun(run.id)!.executions;
    expect(executions.map((e) => `${e.step}#${e.n}:${e.status}`)).toEqual(['get#1:succeeded', 'put#1:succeeded', 'get#2:succeeded']);
    await engine.complete(run.id, { user: 'alice' });
    const verdict = await verifyAuditLog(dataDir);
    // Records since the last digest are signed when the engine closes; the chain itself holds now.
    expect(verdict.firstBad?.kind ?? 'ok').toMatch(/^(ok|unsigned)$/);
    await engine.close();
    const closed = await verifyAuditLog(dataDir);
    expect(closed.ok, JSON.stringify(closed.firstBad)).toBe(true);
    expect((await readdir(dataDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
