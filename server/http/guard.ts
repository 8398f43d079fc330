/**
 * The request hooks that decide who is asking and whether they may: authentication of every `/api`
 * route (except health) and of the WebSocket upgrade, the failed-authentication limit, the Origin
 * rule for browsers, and role checks per route.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, COOKIE_NAME, hasRole, readCookie, type Authenticator, type Principal } from './auth.js';
import { sendError } from './error-handler.js';
import type { FailureLimiter } from './rate-limit.js';
import type { Role } from './users.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the authenticated user (null only on public routes) */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** true on the few routes anyone may reach: health, the notebook's page and assets */
    public?: boolean;
  }
}

/** Route options of a route anyone may reach without a token. */
export const PUBLIC_ROUTE = { config: { public: true } } as const;

export interface Gate {
  auth: Authenticator;
  limiter: FailureLimiter;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True when the request is a WebSocket upgrade. */
export function isUpgrade(request: FastifyRequest): boolean {
  return (request.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/**
 * True when the Origin names this server as the client reached it (same host and port as the Host
 * header) or one of the configured extra origins.
 */
export function originAllowed(request: FastifyRequest, allowedOrigins: readonly string[] = []): boolean {
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (allowedOrigins.includes(url.origin)) return true;
  const host = (request.headers.host ?? '').toLowerCase();
  // Same scheme, host and port: http://host is not the origin of a page served as https://host.
  return url.protocol === `${request.protocol}:` && host !== '' && url.host.toLowerCase() === host;
}

/** The cookie header that makes the browser drop a stale or refused cookie. */
export function clearCookieHeader(): string {
  return `${COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** The cookie header that keeps the user signed in for the life of the token. */
export function setCookieHeader(value: string, secure: boolean): string {
  return `${COOKIE_NAME}=${value}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/**
 * onRequest hook: authenticates every request but those of routes marked public. Deciding by the
 * matched route, not by the URL's text, means no spelling of a path (`/%61pi/runs`) gets around it;
 * requests that match no route need a token too, so a 404 reveals nothing to a stranger.
 */
export function authenticateHook(gate: Gate) {
  const { auth, limiter } = gate;
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (request.routeOptions.config.public === true) return undefined;

    // Credentials are checked before any limit: the limit answers wrong ones only, so no failure of
    // anyone else's can refuse a valid token (see rate-limit.ts).
    let principal: Principal | undefined;
    const authorization = request.headers.authorization;
    const cookie = readCookie(request.headers.cookie, COOKIE_NAME);
    if (authorization !== undefined) {
      const token = bearerToken(authorization);
      principal = token ? auth.byToken(token) : undefined;
      if (!principal) {
        if (limiter.fail({ ip: request.ip, token: token ?? authorization })) return sendError(reply, 'RB_ERR_AUTH_RATE_LIMITED');
        return sendError(reply, 'RB_ERR_AUTH_REQUIRED', 'The token is not valid: use the token printed by `runbooks serve`, as `Authorization: Bearer <token>`.');
      }
    } else if (cookie !== undefined) {
      principal = auth.byCookie(cookie);
      if (!principal) {
        // Not counted: a cookie's HMAC cannot be guessed, and any page on this host (another port)
        // can plant cookies that the browser then sends here. Dropping it stops the polls that send it.
        reply.header('set-cookie', clearCookieHeader());
        return sendError(reply, 'RB_ERR_AUTH_REQUIRED', "Your sign-in is no longer valid (the server's token changed): open the URL printed by `runbooks serve` again.");
      }
    } else {
      principal = auth.byProxyHeader(request.headers);
    }
    if (!principal) {
      return sendError(reply, 'RB_ERR_AUTH_REQUIRED');
    }

    // Browsers send cookies (and pass through the proxy) with requests from other local pages too
    // (another port on localhost is the same site): such requests must come from this server's page.
    const origin = request.headers.origin;
    const allowed = auth.config.allowedOrigins ?? [];
    const upgrade = isUpgrade(request);
    if (origin !== undefined && (upgrade || (principal.via !== 'bearer' && !SAFE_METHODS.has(request.method)))) {
      if (!originAllowed(request, allowed)) {
        return sendError(reply, 'RB_ERR_AUTH_ORIGIN', `Requests from ${JSON.stringify(origin)} are refused: use the notebook served by this server.`);
      }
    }
    if (upgrade && origin === undefined && principal.via !== 'bearer') {
      return sendError(reply, 'RB_ERR_AUTH_ORIGIN', 'A WebSocket without an Origin must authenticate with `Authorization: Bearer <token>`.');
    }
    request.principal = principal;
    return undefined;
  };
}

/** preHandler: refuses (403) a user who holds none of the roles; admin holds every role. */
export function requireRole(...roles: Role[]) {
  return async function checkRole(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const p = request.principal;
    if (!p || !hasRole(p, roles)) {
      const has = p ? p.roles.join(', ') : 'none';
      return sendError(reply, 'RB_ERR_AUTH_FORBIDDEN', `This action needs the ${roles.join(' or ')} role; ${p?.name ?? 'you'} holds: ${has}.`);
    }
    return undefined;
  };
}

/** The authenticated user of a route behind the guard. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route reached without authentication');
  return request.principal;
}
