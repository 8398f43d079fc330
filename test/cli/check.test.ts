/** `runbooks check` as a user runs it: the built command, spawned on files and folders. */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRunbooks } from '../../bench/generate-runbooks.js';
import { cleanEnv, requireBuild, runCli } from '../helpers/cli.js';

const project = join(import.meta.dirname, '../..');
const invalid = 'test/fixtures/runbooks/invalid';

/** `runbooks check …` from the project's folder, with how long it took. */
async function check(...args: string[]) {
  const started = performance.now();
  const r = await runCli(['check', ...args], cleanEnv(), { cwd: project, timeoutMs: 60_000 });
  return { ...r, ms: performance.now() - started };
}

let temp: string;

beforeAll(async () => {
  requireBuild();
  temp = await mkdtemp(join(tmpdir(), 'runbooks-check-'));
});

afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});

describe('runbooks check', () => {
  it('passes the sample runbooks and ignores sandbox.yaml', async () => {
    const samples = readdirSync(join(project, 'runbooks'), { recursive: true }).filter((f) => String(f).endsWith('.md'));
    const r = await check('runbooks');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`checked ${samples.length} runbooks: 0 errors\n`);
    expect(r.code).toBe(0);
  });

  it('prints each problem as file:line:col: error: message, then a summary, and exits 1', async () => {
    // Folders are listed in id order (the path without `.md`).
    const ids = readdirSync(join(project, invalid))
      .filter((f) => f.endsWith('.md'))
      .map((f) => f.slice(0, -3))
      .sort();
    const names = ids.map((id) => `${id}.md`);
    const expected = names.flatMap((name) =>
      readFileSync(join(project, invalid, name.replace(/\.md$/, '.errors')), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [, pos, message] = /^(\d+:\d+): (.*)$/.exec(line)!;
          return `${invalid}/${name}:${pos}: error: ${message}`;
        }),
    );
    const r = await check(invalid);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(0, -1)).toEqual(expected);
    expect(lines.at(-1)).toBe(`checked ${names.length} runbooks: ${expected.length} errors in ${names.length} files`);
  });

  it('reports files as given and counts each file once', async () => {
    const file = `${invalid}/operation-unknown.md`;
    const r = await check(file, `./${file}`, 'runbooks');
    expect(r.stdout).toBe(`${file}:4:12: error: unknown operation "Querry"; did you mean \`Query\`?\nchecked 8 runbooks: 1 error in 1 file\n`);
    expect(r.code).toBe(1);
  });

  it('prints JSON with --json', async () => {
    const r = await check('--json', 'runbooks/orders', `${invalid}/field-unknown.md`);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.errors).toBe(1);
    expect(out.files.map((f: { file: string; id?: string }) => [f.file, f.id])).toEqual([
      ['runbooks/orders/fix-stuck-order.md', 'fix-stuck-order'],
      ['runbooks/orders/orders-by-status.md', 'orders-by-status'],
      ['runbooks/orders/recent-orders.md', 'recent-orders'],
      ['runbooks/orders/stuck-pending-scan.md', 'stuck-pending-scan'],
      [`${invalid}/field-unknown.md`, undefined],
    ]);
    expect(out.files[4].problems).toEqual([{ file: `${invalid}/field-unknown.md`, line: 9, column: 1, message: 'unknown field `Limt` in the request; did you mean `Limit`?' }]);
  });

  it('exits 2 on a missing path or a file that is not Markdown, after checking the rest', async () => {
    const r = await check('runbooks/customers', 'no-such-folder', 'runbooks/sandbox.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('runbooks: no-such-folder: no such file or folder\nrunbooks: runbooks/sandbox.yaml: not a runbook: runbooks are Markdown files ending in .md\n');
    expect(r.stdout).toBe('checked 2 runbooks: 0 errors\n');
  });

  it('needs at least one path', async () => {
    const r = await check();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required argument 'path'");
  });

  it('checks a folder of 1,000 runbooks in a few seconds', async () => {
    const dir = join(temp, 'many');
    await generateRunbooks(dir, 1000);
    await writeFile(join(dir, 'orders', 'broken.md'), '# Broken\n\n```dynamodb\noperation: GetItem\n```\n');
    const r = await check(dir);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `${dir}/orders/broken.md:4:12: error: the request needs \`TableName\`: add it`,
      `${dir}/orders/broken.md:4:12: error: the request needs \`Key\`: add it`,
      'checked 1001 runbooks: 2 errors in 1 file',
    ]);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(10_000);
  });
});
