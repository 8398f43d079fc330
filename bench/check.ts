/**
 * `runbooks check` over a folder of 1,000 realistic runbooks: in process (the parse and validate
 * cost alone) and through the CLI (what a user or CI waits for, Node start-up included).
 * Run with `npm run bench:check` after `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPaths } from '../server/cli/check.js';
import { parseRunbook } from '../server/runbook/parse.js';
import { generateRunbooks } from './generate-runbooks.js';

const COUNT = 1000;
const RUNS = 5;
const project = join(import.meta.dirname, '..');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const dir = await mkdtemp(join(tmpdir(), 'runbooks-bench-'));
try {
  const files = await generateRunbooks(dir, COUNT);
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  console.log(`${COUNT} runbooks, ${(bytes / 1024).toFixed(0)} KiB, ${texts[0].split('\n').length} lines and 4 steps each`);

  const parse: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    for (let i = 0; i < texts.length; i++) {
      const { problems } = parseRunbook(texts[i], files[i]);
      if (problems.length > 0) throw new Error(`${files[i]} is invalid: ${problems[0].message}`);
    }
    parse.push(performance.now() - start);
  }
  console.log(`parse only (in memory):      first ${parse[0].toFixed(0)} ms, median ${median(parse).toFixed(0)} ms, ${(median(parse) / COUNT).toFixed(2)} ms per runbook`);

  const inProcess: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const report = await checkPaths([dir]);
    inProcess.push(performance.now() - start);
    if (report.files.length !== COUNT || report.errors !== 0) throw new Error('unexpected check report');
  }
  console.log(`checkPaths (read + parse):   first ${inProcess[0].toFixed(0)} ms, median ${median(inProcess).toFixed(0)} ms`);

  if (!existsSync(join(project, 'dist/server/cli/check.js'))) {
    console.log('CLI: skipped, dist/ is missing (run `npm run build`)');
  } else {
    const cli: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const start = performance.now();
      const r = spawnSync(process.execPath, [join(project, 'bin/runbooks.js'), 'check', dir], { encoding: 'utf8' });
      cli.push(performance.now() - start);
      if (r.status !== 0) throw new Error(`check exited ${r.status}: ${r.stdout}${r.stderr}`);
    }
    const empty: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const start = performance.now();
      spawnSync(process.execPath, [join(project, 'bin/runbooks.js'), 'check', join(project, 'runbooks/customers')], { encoding: 'utf8' });
      empty.push(performance.now() - start);
    }
    console.log(`runbooks check (CLI):        median ${median(cli).toFixed(0)} ms for ${COUNT} runbooks (min ${Math.min(...cli).toFixed(0)}, max ${Math.max(...cli).toFixed(0)})`);
    console.log(`runbooks check, 1 runbook:   median ${median(empty).toFixed(0)} ms (process start-up and module loading)`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
