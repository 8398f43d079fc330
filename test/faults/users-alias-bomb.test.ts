/**
 * A users file holding a YAML alias bomb stops `runbooks serve` with the file, line and column of
 * the problem and exit 2 (a start-up mistake), not a bare "Excessive alias count" and exit 1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, requireBuild, runCli } from '../helpers/cli.js';
import { FIXTURES } from '../http/helpers.js';

const BOMB = [
  'a: &a [x, x, x, x, x, x, x, x, x, x]',
  'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
  'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
  'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
  'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
  'users: [*e]',
  '',
].join('\n');

describe('a users file with a YAML alias bomb', () => {
  let dir: string;
  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(join(tmpdir(), 'rb-bomb-'));
    await writeFile(join(dir, 'users.yaml'), BOMB);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused at its position with exit 2', async () => {
    const res = await runCli(['serve', FIXTURES, '--users', join(dir, 'users.yaml')], cleanEnv());
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/users\.yaml:2:\d+: error: the users file expands YAML aliases too far/);
    expect(res.stderr).not.toContain('Excessive alias count');
  });
});
