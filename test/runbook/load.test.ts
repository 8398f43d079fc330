/** Loading runbooks from a folder: ids, the folder boundary, listing. */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RbError } from '../../server/errors.js';
import { listRunbooks, loadRunbook, loadRunbookFile, resolveRunbookPath } from '../../server/runbook/load.js';

let root: string;
let outside: string;

const VALID = '# Describe\n\n```dynamodb\noperation: DescribeTable\nTableName: Orders\n```\n';

beforeAll(async () => {
  const base = await mkdtemp(join(tmpdir(), 'runbooks-load-'));
  root = join(base, 'runbooks');
  outside = join(base, 'outside');
  await mkdir(join(root, 'orders/deep'), { recursive: true });
  await mkdir(join(root, '.git'), { recursive: true });
  await mkdir(join(root, 'node_modules/pkg'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(root, 'top.md'), VALID);
  await writeFile(join(root, 'orders/recent.md'), VALID);
  await writeFile(join(root, 'orders/deep/broken.md'), '# Broken\n\n```dynamodb\noperation: Nope\n```\n');
  await writeFile(join(root, 'sandbox.yaml'), 'tables: []\n');
  await writeFile(join(root, 'notes.txt'), 'not a runbook');
  await writeFile(join(root, '.git/HEAD.md'), VALID);
  await writeFile(join(root, 'node_modules/pkg/README.md'), VALID);
  await writeFile(join(outside, 'secret.md'), VALID);
  await symlink(join(outside, 'secret.md'), join(root, 'escape.md'));
  await symlink(outside, join(root, 'linked-dir'));
});

afterAll(async () => {
  await rm(resolve(root, '..'), { recursive: true, force: true });
});

describe('resolveRunbookPath', () => {
  it('maps an id to <root>/<id>.md', () => {
    expect(resolveRunbookPath(root, 'orders/recent')).toBe(join(root, 'orders/recent.md'));
  });

  it.each(['', '../outside/secret', 'orders/../../outside/secret', '/etc/passwd', 'orders\\recent', 'orders/\0x', './top', 'orders//recent', '.git/HEAD', 'orders/'])(
    'refuses %j',
    (id) => {
      expect(() => resolveRunbookPath(root, id)).toThrow(RbError);
      try {
        resolveRunbookPath(root, id);
      } catch (err) {
        expect((err as RbError).code).toBe('RB_ERR_RUNBOOK_BAD_ID');
      }
    },
  );
});

describe('loadRunbook', () => {
  it('loads a runbook with its id', async () => {
    const { runbook, problems } = await loadRunbook(root, 'orders/recent');
    expect(problems).toEqual([]);
    expect(runbook?.id).toBe('orders/recent');
    expect(runbook?.file).toBe(join(root, 'orders/recent.md'));
    expect(runbook?.steps.map((s) => s.operation)).toEqual(['DescribeTable']);
  });

  it('reports a missing runbook as not found', async () => {
    await expect(loadRunbook(root, 'orders/missing')).rejects.toMatchObject({ code: 'RB_ERR_RUNBOOK_NOT_FOUND' });
    await expect(loadRunbook(root, 'orders')).rejects.toMatchObject({ code: 'RB_ERR_RUNBOOK_NOT_FOUND' });
  });

  it('refuses a symbolic link that leads outside the folder', async () => {
    await expect(loadRunbook(root, 'escape')).rejects.toMatchObject({ code: 'RB_ERR_RUNBOOK_BAD_ID' });
    await expect(loadRunbook(root, 'linked-dir/secret')).rejects.toMatchObject({ code: 'RB_ERR_RUNBOOK_BAD_ID' });
  });

  it('returns the problems of an invalid runbook', async () => {
    const { runbook, problems } = await loadRunbook(root, 'orders/deep/broken');
    expect(runbook?.steps).toEqual([]);
    expect(problems).toEqual([{ file: join(root, 'orders/deep/broken.md'), line: 4, column: 12, message: expect.stringContaining('unknown operation "Nope"') }]);
  });
});

describe('listRunbooks', () => {
  it('lists the .md files recursively, sorted by id, skipping hidden folders, node_modules and links', async () => {
    const list = await listRunbooks(root);
    expect(list.map((r) => r.id)).toEqual(['orders/deep/broken', 'orders/recent', 'top']);
    expect(list.map((r) => r.problems.length)).toEqual([1, 0, 0]);
    expect(list[1].file).toBe(join(root, 'orders/recent.md'));
  });
});

describe('loadRunbookFile', () => {
  it('loads a lone file without an id', async () => {
    const { runbook } = await loadRunbookFile(join(root, 'top.md'));
    expect(runbook?.id).toBeUndefined();
    expect(runbook?.title).toBe('Describe');
  });
});
