/**
 * Who may use the server: the default token's user (every role), named users with their own tokens
 * from a users file, and the rules names and tokens must follow.
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { parseDocument, LineCounter } from 'yaml';
import { RbError } from '../errors.js';
import { canonicalUser } from '../identity.js';
import { isRecord } from '../is-record.js';

export type Role = 'runner' | 'approver' | 'admin';
export const ROLES: readonly Role[] = ['runner', 'approver', 'admin'];

export interface UserDecl {
  name: string;
  token: string;
  roles: Role[];
}

// A user name becomes the STS SourceIdentity of the sessions it starts: 2-64 of [\w+=,.@-].
const USER_NAME = /^[\w+=,.@-]{2,64}$/;
// Long enough that guessing is hopeless even without the rate limit; no spaces or control characters.
const TOKEN = /^[\x21-\x7e]{16,256}$/;

/** A message saying what is wrong with a user name, or undefined when it is valid. */
export function checkUserName(name: unknown): string | undefined {
  if (typeof name !== 'string' || !USER_NAME.test(name)) {
    return 'a user name is 2-64 characters of letters, digits and _ + = , . @ - (it becomes the STS SourceIdentity)';
  }
  return undefined;
}

/** A message saying what is wrong with a token, or undefined when it is valid. */
export function checkToken(token: unknown): string | undefined {
  if (typeof token !== 'string' || !TOKEN.test(token)) {
    return 'a token is 16-256 printable ASCII characters without spaces (`openssl rand -hex 24` makes a good one)';
  }
  return undefined;
}

/** The default token's user: the OS user name where it is a valid name, else `owner`. */
export function defaultUserName(): string {
  try {
    const name = userInfo().username;
    if (checkUserName(name) === undefined) return name;
  } catch {
    // No passwd entry (containers running as an arbitrary uid).
  }
  return 'owner';
}

/**
 * Reads a users file: `users: [{ name, token, roles: [runner|approver|admin] }]`. Throws RbError
 * RB_ERR_CONFIG_INVALID naming the file, line and what to fix; tokens are never echoed.
 */
export async function loadUsersFile(path: string): Promise<UserDecl[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RbError('RB_ERR_CONFIG_INVALID', `${path}: cannot read the users file (${code ?? 'unreadable'}).`);
  }
  return parseUsersFile(text, path);
}

/** Parses the text of a users file; see `loadUsersFile`. */
export function parseUsersFile(text: string, path: string): UserDecl[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const fail = (message: string, node?: { range?: [number, number, number] | null }): never => {
    const pos = node?.range ? lineCounter.linePos(node.range[0]) : undefined;
    const where = pos ? `${path}:${pos.line}:${pos.col}` : path;
    throw new RbError('RB_ERR_CONFIG_INVALID', `${where}: error: ${message}`);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    // The YAML message may quote the line, and so a token: name the position only.
    const pos = e.linePos?.[0];
    throw new RbError('RB_ERR_CONFIG_INVALID', `${path}${pos ? `:${pos.line}:${pos.col}` : ''}: error: invalid YAML (${e.code})`);
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch {
    // An alias bomb (aliases of aliases, expanding exponentially): name where the aliases start.
    const at = /(^|[\s,[{:-])\*[^\s,\]}]+/m.exec(text);
    const pos = at ? lineCounter.linePos(at.index + at[1].length) : { line: 1, col: 1 };
    throw new RbError('RB_ERR_CONFIG_INVALID', `${path}:${pos.line}:${pos.col}: error: the users file expands YAML aliases too far; write each user out in full`);
  }
  if (!isRecord(root) || !Array.isArray(root.users)) fail('the users file must hold `users:`, a list of { name, token, roles }');
  const extra = Object.keys(root as object).filter((k) => k !== 'users');
  if (extra.length > 0) fail(`unknown key ${JSON.stringify(extra[0])}: the users file holds only \`users:\``);

  const list = (root as { users: unknown[] }).users;
  const seq = doc.get('users', true) as { items?: Array<{ range?: [number, number, number] | null }> } | undefined;
  const users: UserDecl[] = [];
  // canonical name → where it was first declared, so a collision names both lines
  const names = new Map<string, { name: string; line?: number }>();
  const tokens = new Set<string>();
  list.forEach((entry, i) => {
    const node = seq?.items?.[i];
    const label = `users[${i}]`;
    if (!isRecord(entry)) fail(`${label} must be a map with name, token and roles`, node);
    const u = entry as Record<string, unknown>;
    for (const key of Object.keys(u)) {
      if (!['name', 'token', 'roles'].includes(key)) fail(`${label}: unknown key ${JSON.stringify(key)} (allowed: name, token, roles)`, node);
    }
    const nameProblem = checkUserName(u.name);
    if (nameProblem) fail(`${label}.name: ${nameProblem}`, node);
    const name = u.name as string;
    const tokenProblem = checkToken(u.token);
    if (tokenProblem) fail(`${label}.token (user ${name}): ${tokenProblem}`, node);
    const roles = u.roles;
    if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => ROLES.includes(r as Role))) {
      fail(`${label}.roles (user ${name}): a non-empty list of ${ROLES.join(', ')}`, node);
    }
    const first = names.get(canonicalUser(name));
    if (first) {
      const where = first.line !== undefined ? ` (line ${first.line})` : '';
      const same =
        first.name === name ? `the user name ${name} appears twice` : `the user names ${first.name}${where} and ${name} are the same person (names are compared without case)`;
      fail(`${label}: ${first.name === name ? `${same}${where}` : same}; keep one`, node);
    }
    if (tokens.has(u.token as string)) fail(`${label}: user ${name} has the same token as another user; give each user a token of their own`, node);
    names.set(canonicalUser(name), { name, line: node?.range ? lineCounter.linePos(node.range[0]).line : undefined });
    tokens.add(u.token as string);
    users.push({ name, token: u.token as string, roles: [...new Set(roles as Role[])] });
  });
  return users;
}
