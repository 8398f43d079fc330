// The users file: a clear error with file, line and column for each mistake, and never a token in it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../server/http/auth.js';
import { loadUsersFile, parseUsersFile } from '../../server/http/users.js';
import { RbError } from '../../server/errors.js';

const TOKEN_A = 'tok-a-0123456789abcdef0123456789abcdef';
const TOKEN_B = 'tok-b-0123456789abcdef0123456789abcdef';

function problem(text: string): RbError {
  try {
    parseUsersFile(text, 'users.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(RbError);
    return err as RbError;
  }
  throw new Error('expected the users file to be refused');
}

describe('users file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rb-users-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads names, tokens and roles', async () => {
    const file = join(dir, 'users.yaml');
    await writeFile(file, `users:\n  - { name: alice, token: ${TOKEN_A}, roles: [runner] }\n  - name: bob\n    token: ${TOKEN_B}\n    roles: [approver, admin, approver]\n`);
    expect(await loadUsersFile(file)).toEqual([
      { name: 'alice', token: TOKEN_A, roles: ['runner'] },
      { name: 'bob', token: TOKEN_B, roles: ['approver', 'admin'] },
    ]);
  });

  it('says which file cannot be read', async () => {
    await expect(loadUsersFile(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml: cannot read the users file \(ENOENT\)/);
  });

  it.each([
    ['not a list', 'users: alice\n', /^users\.yaml: error: the users file must hold `users:`/],
    ['unknown top-level key', `users: []\nadmins: []\n`, /unknown key "admins"/],
    [
      'unknown user key',
      `users:\n  - name: alice\n    token: ${TOKEN_A}\n    roles: [runner]\n    email: a@example.com\n`,
      /^users\.yaml:2:5: error: users\[0\]: unknown key "email"/,
    ],
    ['bad name', `users:\n  - { name: "a b", token: ${TOKEN_A}, roles: [runner] }\n`, /^users\.yaml:2:5: error: users\[0\]\.name: a user name is 2-64 characters/],
    ['short token', `users:\n  - { name: alice, token: short, roles: [runner] }\n`, /^users\.yaml:2:5: error: users\[0\]\.token \(user alice\): a token is 16-256 printable/],
    ['unknown role', `users:\n  - { name: alice, token: ${TOKEN_A}, roles: [root] }\n`, /users\[0\]\.roles \(user alice\): a non-empty list of runner, approver, admin/],
    ['no roles', `users:\n  - { name: alice, token: ${TOKEN_A}, roles: [] }\n`, /users\[0\]\.roles/],
    [
      'duplicate name',
      `users:\n  - { name: alice, token: ${TOKEN_A}, roles: [runner] }\n  - { name: alice, token: ${TOKEN_B}, roles: [runner] }\n`,
      /^users\.yaml:3:5: error: users\[1\]: the user name alice appears twice/,
    ],
    [
      'names that differ only in case',
      `users:\n  - { name: alice, token: ${TOKEN_A}, roles: [runner] }\n  - { name: Alice, token: ${TOKEN_B}, roles: [approver] }\n`,
      /^users\.yaml:3:5: error: users\[1\]: the user names alice \(line 2\) and Alice are the same person/,
    ],
    [
      'shared token',
      `users:\n  - { name: alice, token: ${TOKEN_A}, roles: [runner] }\n  - { name: bob, token: ${TOKEN_A}, roles: [approver] }\n`,
      /users\[1\]: user bob has the same token as another user/,
    ],
    [
      'YAML alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nusers: [*d]\n`,
      /^users\.yaml:2:\d+: error: the users file expands YAML aliases too far/,
    ],
    ['YAML syntax', `users:\n  - { name: alice, token: ${TOKEN_A}\n`, /^users\.yaml:\d+:\d+: error: invalid YAML/],
  ])('refuses %s with its position, without echoing a token', (_label, text, message) => {
    const err = problem(text);
    expect(err.code).toBe('RB_ERR_CONFIG_INVALID');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain(TOKEN_A);
    expect(err.message).not.toContain(TOKEN_B);
  });

  it('refuses a users-file user that clashes with the default token or its user', () => {
    expect(() => createAuthenticator({ token: TOKEN_A, tokenUser: 'owner', users: [{ name: 'alice', token: TOKEN_A, roles: ['runner'] }] })).toThrow(/same token/);
    expect(() => createAuthenticator({ token: TOKEN_A, tokenUser: 'alice', users: [{ name: 'alice', token: TOKEN_B, roles: ['runner'] }] })).toThrow(/used twice/);
    expect(() => createAuthenticator({})).toThrow(/needs a token, a users file or a trusted proxy header/);
    expect(() => createAuthenticator({ token: 'short' })).toThrow(/not valid/);
    expect(() => createAuthenticator({ token: TOKEN_A, trustedProxy: { header: 'Authorization' } })).toThrow(/cannot be the trusted proxy header/);
  });
});
