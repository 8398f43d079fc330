/**
 * Logger options that keep tokens out of the log: the `Authorization` and `Cookie` headers are
 * redacted wherever they appear, and the `token` query parameter of `/?token=…` is masked in every
 * logged URL.
 */
import type { FastifyRequest } from 'fastify';

/** A URL with the value of its `token` query parameter replaced. */
export function maskTokenInUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

const redact = {
  paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie'],
  censor: '[redacted]',
};

const serializers = {
  req(request: FastifyRequest) {
    return {
      method: request.method,
      url: maskTokenInUrl(request.url),
      host: request.host,
      remoteAddress: request.ip,
    };
  },
};

/** Fastify's `logger` option from the app's: false, true (info level) or pino options to extend. */
export function loggerOptions(logger: boolean | object | undefined): false | Record<string, unknown> {
  if (!logger) return false;
  const base = logger === true ? { level: 'info' } : (logger as Record<string, unknown>);
  return {
    ...base,
    redact,
    serializers: { ...(base.serializers ?? {}), ...serializers },
  };
}
