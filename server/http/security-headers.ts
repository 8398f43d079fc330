/**
 * Security headers on every response (no helmet: a few fixed headers do not need a dependency).
 * The notebook loads /app.js and /styles.css and nothing inline, so the policy allows only 'self'.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const FIXED: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** onSend hook: sets the headers a route has not set itself (a transcript brings its own CSP). */
export async function securityHeaders(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  for (const [name, value] of Object.entries(FIXED)) reply.header(name, value);
  // API answers hold run data: never kept by a browser or an intermediate cache.
  if (request.url.startsWith('/api/') || request.url === '/api') reply.header('cache-control', 'no-store');
  return payload;
}
