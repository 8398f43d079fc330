/**
 * The runbook cache: a runbook is parsed once per version of its file, changes are seen at once
 * (including a same-size rewrite within the file system's clock tick), and it answers as
 * loadRunbook does, errors included.
 */
import { mkdtemp, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunbookCache } from '../../server/runbook/cache.js';

const text = (title: string) => `---\ntitle: ${title}\n---\n# Describe\n\n\`\`\`dynamodb\noperation: DescribeTable\nTableName: Orders\n\`\`\`\n`;

describe('the runbook cache', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rb-cache-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('parses a file once while it is unchanged, and again once it changes', async () => {
    const file = join(root, 'one.md');
    await writeFile(file, text('First'));
    // Changed long enough ago that its times can be trusted.
    const past = new Date(Date.now() - 60_000);
    await utimes(file, past, past);
    const cache = createRunbookCache(root);
    const a = await cache.load('one');
    expect(a.runbook?.title).toBe('First');
    expect(a.text).toBe(text('First'));
    expect(await cache.load('one')).toBe(a);

    await writeFile(file, text('Second, longer'));
    const b = await cache.load('one');
    expect(b.runbook?.title).toBe('Second, longer');
    expect(b.text).toBe(text('Second, longer'));
  });

  it('sees a same-size rewrite made within a file system clock tick of the one it read', async () => {
    const file = join(root, 'racy.md');
    const cache = createRunbookCache(root);
    await writeFile(file, text('AAAA'));
    const when = new Date();
    await utimes(file, when, when);
    expect((await cache.load('racy')).runbook?.title).toBe('AAAA');
    // Same size, and the same times as before: only its content tells.
    await writeFile(file, text('BBBB'));
    await utimes(file, when, when);
    expect((await cache.load('racy')).runbook?.title).toBe('BBBB');
  });

  it('answers as loadRunbook does for missing files and ids outside the folder', async () => {
    const cache = createRunbookCache(root);
    await expect(cache.load('missing')).rejects.toMatchObject({ code: 'RB_ERR_RUNBOOK_NOT_FOUND' });
    await expect(cache.load('../etc/passwd')).rejects.toMatchObject({ code: 'RB_ERR_RUNBOOK_BAD_ID' });
    const outside = await mkdtemp(join(tmpdir(), 'rb-cache-outside-'));
    try {
      await writeFile(join(outside, 'secret.md'), text('Outside'));
      await symlink(join(outside, 'secret.md'), join(root, 'link.md'));
      await expect(cache.load('link')).rejects.toMatchObject({ code: 'RB_ERR_RUNBOOK_BAD_ID' });
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
    const file = join(root, 'gone.md');
    await writeFile(file, text('Gone'));
    expect((await cache.load('gone')).runbook?.title).toBe('Gone');
    await unlink(file);
    await expect(cache.load('gone')).rejects.toMatchObject({ code: 'RB_ERR_RUNBOOK_NOT_FOUND' });
  });
});
