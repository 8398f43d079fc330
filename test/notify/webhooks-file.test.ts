// The webhooks file: what it accepts, and a clear error with file, line and column for each mistake,
// never echoing a secret or a URL (which may hold a secret of its own).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serveCommand } from '../../server/cli/serve.js';
import { RbError } from '../../server/errors.js';
import { loadWebhooksFile, parseWebhooksFile } from '../../server/notify/webhooks-file.js';

const SECRET = 'whsec-0123456789abcdef0123456789abcdef';
const SLACK_URL = 'https://hooks.slack.com/services/T000/B000/sl4ckp4thsecret';

function problem(text: string): RbError {
  try {
    parseWebhooksFile(text, 'webhooks.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(RbError);
    return err as RbError;
  }
  throw new Error('expected the webhooks file to be refused');
}

describe('webhooks file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rb-webhooks-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads url, events, secret and format (json by default)', async () => {
    const file = join(dir, 'webhooks.yaml');
    await writeFile(
      file,
      [
        'webhooks:',
        `  - url: https://ops.example.com/hooks/runbooks?team=db`,
        `    events: [approval.requested, approval.decided, run.completed, step.failed, approval.updated, run.completed]`,
        `    secret: ${SECRET}`,
        `  - { url: "${SLACK_URL}", events: [approval.requested], secret: "${SECRET}", format: slack }`,
        '',
      ].join('\n'),
    );
    expect(await loadWebhooksFile(file)).toEqual([
      {
        url: 'https://ops.example.com/hooks/runbooks?team=db',
        events: ['approval.requested', 'approval.decided', 'run.completed', 'step.failed', 'approval.updated'],
        secret: SECRET,
        format: 'json',
      },
      { url: SLACK_URL, events: ['approval.requested'], secret: SECRET, format: 'slack' },
    ]);
    expect(parseWebhooksFile('webhooks: []\n', 'w.yaml')).toEqual([]);
  });

  it('says which file cannot be read', async () => {
    await expect(loadWebhooksFile(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml: cannot read the webhooks file \(ENOENT\)/);
  });

  const entry = (lines: string[]) => ['webhooks:', ...lines, ''].join('\n');
  it.each([
    [
      'a bad URL scheme',
      entry(['  - url: ftp://files.example.com/drop', '    events: [run.completed]', `    secret: ${SECRET}`]),
      /^webhooks\.yaml:2:10: error: webhooks\[0\]\.url: must be an http:\/\/ or https:\/\/ URL, not ftp:$/,
    ],
    [
      'a URL that is not one',
      entry(['  - url: "hooks.example.com/x"', '    events: [run.completed]', `    secret: ${SECRET}`]),
      /^webhooks\.yaml:2:10: error: webhooks\[0\]\.url: not a valid URL/,
    ],
    ['a missing URL', entry(['  - events: [run.completed]', `    secret: ${SECRET}`]), /^webhooks\.yaml:2:5: error: webhooks\[0\]\.url: required/],
    [
      'an unknown key',
      entry(['  - url: https://ops.example.com/h', '    events: [run.completed]', `    secret: ${SECRET}`, '    headers: { x: y }']),
      /^webhooks\.yaml:5:5: error: webhooks\[0\]: unknown key "headers" \(allowed: url, events, secret, format\)$/,
    ],
    ['an unknown top-level key', `webhooks: []\nhooks: []\n`, /^webhooks\.yaml:2:1: error: unknown key "hooks"/],
    [
      'a short secret',
      entry(['  - url: https://ops.example.com/h', '    events: [run.completed]', '    secret: tooshort-123']),
      /^webhooks\.yaml:4:13: error: webhooks\[0\]\.secret: required, a string of 16-1024 characters/,
    ],
    ['a missing secret', entry(['  - url: https://ops.example.com/h', '    events: [run.completed]']), /^webhooks\.yaml:2:5: error: webhooks\[0\]\.secret: required/],
    [
      'an unknown event',
      entry(['  - url: https://ops.example.com/h', '    events: [run.completed, run.exploded]', `    secret: ${SECRET}`]),
      /^webhooks\.yaml:3:29: error: webhooks\[0\]\.events: unknown event "run\.exploded"; a non-empty list of approval\.requested, approval\.decided, approval\.updated, step\.failed, run\.completed$/,
    ],
    [
      'no events',
      entry(['  - url: https://ops.example.com/h', '    events: []', `    secret: ${SECRET}`]),
      /^webhooks\.yaml:3:13: error: webhooks\[0\]\.events: required, a non-empty list/,
    ],
    [
      'an unknown format',
      entry(['  - url: https://ops.example.com/h', '    events: [run.completed]', `    secret: ${SECRET}`, '    format: teams']),
      /^webhooks\.yaml:5:13: error: webhooks\[0\]\.format: json or slack$/,
    ],
    ['not a list', 'webhooks: https://ops.example.com/h\n', /^webhooks\.yaml:1:11: error: the webhooks file must hold `webhooks:`/],
    ['an entry that is not a map', entry(['  - https://ops.example.com/h']), /^webhooks\.yaml:2:5: error: webhooks\[0\] must be a map/],
    [
      'a duplicate key',
      entry(['  - url: https://ops.example.com/h', `    secret: ${SECRET}`, `    secret: ${SECRET}x`, '    events: [run.completed]']),
      /^webhooks\.yaml:\d+:\d+: error: invalid YAML \(DUPLICATE_KEY\)$/,
    ],
    ['YAML syntax', `webhooks:\n  - { url: https://ops.example.com/h, secret: ${SECRET}\n`, /^webhooks\.yaml:\d+:\d+: error: invalid YAML/],
  ])('refuses %s with its position, echoing neither secret nor URL', (_label, text, message) => {
    const err = problem(text);
    expect(err.code).toBe('RB_ERR_CONFIG_INVALID');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain(SECRET.slice(6));
    expect(err.message).not.toContain('tooshort');
    expect(err.message).not.toContain('ops.example.com');
    expect(err.message).not.toContain('files.example.com');
  });

  it('stops `runbooks serve` with exit 2 and the position before anything starts', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, entry(['  - url: https://ops.example.com/h', '    events: [run.completed]', '    secret: short']));
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const code = await serveCommand(dir, { port: 0, host: '127.0.0.1', data: join(dir, 'data'), webhooks: file });
      expect(code).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toMatch(/bad\.yaml:4:13: error: webhooks\[0\]\.secret: required/);
    expect(written.join('')).not.toContain('sandbox');
  });
});
