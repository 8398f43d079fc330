/**
 * Authentication as Jupyter does it: a token in `Authorization: Bearer`, or a cookie obtained once
 * by opening `/?token=…`; named users with tokens of their own; optionally the user named by a
 * trusted reverse proxy's header. Tokens are compared in constant time and never stored in the
 * cookie: the cookie holds the user name and an HMAC keyed by that user's token, so it stops working
 * when the token changes and reveals nothing about it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RbError } from '../errors.js';
import { sameUser } from '../identity.js';
import { checkToken, checkUserName, defaultUserName, ROLES, type Role, type UserDecl } from './users.js';

export interface AuthConfig {
  /** the default token; its user has every role. Absent only when users or a trusted proxy are configured. */
  token?: string;
  /** the default token's user name (default: the OS user name, else `owner`) */
  tokenUser?: string;
  /** named users with their own tokens (from a users file: `loadUsersFile`) */
  users?: UserDecl[];
  /**
   * Take the user from this header, set by a reverse proxy that authenticated them. Only for a
   * server that nothing but the proxy can reach (see `serve`: loopback only). Users named in `users`
   * get their roles from there; anyone else gets `proxyRoles` (default: runner).
   */
  trustedProxy?: { header: string; proxyRoles?: Role[] };
  /** origins (`https://runbooks.example.com`) allowed besides the server's own host, e.g. behind a proxy */
  allowedOrigins?: string[];
  /** mark the cookie `Secure` (when the server is reached over HTTPS through a proxy) */
  secureCookie?: boolean;
}

export interface Principal {
  name: string;
  roles: Role[];
  /** how the request proved who it is */
  via: 'bearer' | 'cookie' | 'proxy';
}

export const COOKIE_NAME = 'rb_token';

interface Known {
  name: string;
  roles: Role[];
  token: string;
  digest: Buffer;
}

export interface Authenticator {
  /** the principal named by a token, or undefined; constant time over every known token */
  byToken(token: string): Principal | undefined;
  /** the cookie value that proves `name` holds its token */
  cookieFor(principal: Principal): string;
  byCookie(value: string): Principal | undefined;
  /** the proxy header's user, when a trusted proxy is configured and the header is present */
  byProxyHeader(headers: Record<string, string | string[] | undefined>): Principal | undefined;
  readonly config: AuthConfig;
}

/** Validates an AuthConfig and returns the functions the request hooks use. */
export function createAuthenticator(config: AuthConfig): Authenticator {
  const known: Known[] = [];
  const add = (name: string, roles: Role[], token: string) => {
    known.push({ name, roles, token, digest: sha256(token) });
  };
  if (config.token !== undefined) {
    const problem = checkToken(config.token);
    if (problem) throw new RbError('RB_ERR_CONFIG_INVALID', `The access token is not valid: ${problem}.`);
    const name = config.tokenUser ?? defaultUserName();
    const nameProblem = checkUserName(name);
    if (nameProblem) throw new RbError('RB_ERR_CONFIG_INVALID', `The default user name ${JSON.stringify(name)} is not valid: ${nameProblem}.`);
    add(name, [...ROLES], config.token);
  }
  for (const user of config.users ?? []) {
    if (known.some((k) => sameUser(k.name, user.name))) {
      throw new RbError('RB_ERR_CONFIG_INVALID', `The user name ${user.name} is used twice (the default token's user is ${known[0]?.name}); rename one.`);
    }
    if (known.some((k) => k.token === user.token)) {
      throw new RbError('RB_ERR_CONFIG_INVALID', `User ${user.name} has the same token as another user; give each user a token of their own.`);
    }
    add(user.name, [...user.roles], user.token);
  }
  let proxyHeader: string | undefined;
  if (config.trustedProxy) {
    proxyHeader = config.trustedProxy.header.trim().toLowerCase();
    if (!/^[a-z0-9-]{1,64}$/.test(proxyHeader) || ['authorization', 'cookie', 'host', 'origin'].includes(proxyHeader)) {
      throw new RbError('RB_ERR_CONFIG_INVALID', `${JSON.stringify(config.trustedProxy.header)} cannot be the trusted proxy header; use a header name such as X-Forwarded-User.`);
    }
  }
  if (known.length === 0 && !proxyHeader) {
    throw new RbError('RB_ERR_CONFIG_INVALID', 'Authentication needs a token, a users file or a trusted proxy header.');
  }

  // One person, one name: `Dave` from a proxy is the users file's `dave`, with dave's roles.
  const byName = (name: string) => known.find((k) => sameUser(k.name, name));
  const principal = (k: Known, via: Principal['via']): Principal => ({ name: k.name, roles: [...k.roles], via });

  return {
    config,
    byToken(token) {
      const digest = sha256(token);
      let match: Known | undefined;
      // Compare against every token without stopping early, so timing does not tell which one is near.
      for (const k of known) {
        if (timingSafeEqual(k.digest, digest)) match = k;
      }
      return match ? principal(match, 'bearer') : undefined;
    },
    cookieFor(p) {
      const k = byName(p.name);
      if (!k) throw new RbError('RB_ERR_INTERNAL', 'A cookie can only be issued to a user with a token.');
      return `v1.${Buffer.from(k.name).toString('base64url')}.${cookieMac(k).toString('base64url')}`;
    },
    byCookie(value) {
      const parts = value.split('.');
      if (parts.length !== 3 || parts[0] !== 'v1') return undefined;
      const name = Buffer.from(parts[1], 'base64url').toString('utf8');
      const mac = Buffer.from(parts[2], 'base64url');
      const k = byName(name);
      if (!k || mac.length !== 32) return undefined;
      return timingSafeEqual(cookieMac(k), mac) ? principal(k, 'cookie') : undefined;
    },
    byProxyHeader(headers) {
      if (!proxyHeader) return undefined;
      const raw = headers[proxyHeader];
      if (typeof raw !== 'string' || raw === '') return undefined;
      const name = raw.trim();
      if (checkUserName(name) !== undefined) return undefined;
      const k = byName(name);
      return { name: k ? k.name : name, roles: k ? [...k.roles] : [...(config.trustedProxy?.proxyRoles ?? ['runner'])], via: 'proxy' };
    },
  };
}

/** True when the principal holds one of the roles (admin holds them all). */
export function hasRole(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.includes('admin') || roles.some((r) => principal.roles.includes(r));
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header ? /^Bearer +(\S+) *$/i.exec(header) : null;
  return m ? m[1] : undefined;
}

/** A random token as Jupyter makes them: 48 hex characters (24 random bytes). */
export function randomToken(): string {
  return randomBytes(24).toString('hex');
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function cookieMac(k: Known): Buffer {
  return createHmac('sha256', k.token).update(`${COOKIE_NAME}:${k.name}`).digest();
}
