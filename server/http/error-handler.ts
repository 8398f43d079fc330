/**
 * Every error leaves the server as `{ error: { code, message, details? } }` with the catalogue's
 * status: coded errors as thrown, schema violations as RB_ERR_HTTP_BAD_REQUEST naming each
 * offending field, Fastify's body errors by kind, and anything else as RB_ERR_INTERNAL with a
 * generic message (the server log has the cause; the response never carries a stack).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorCatalogue, isRbError, type ErrorCode } from '../errors.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** Sends a coded error with its catalogue status. */
export function sendError(reply: FastifyReply, code: ErrorCode, message?: string, details?: unknown): FastifyReply {
  const body: ErrorBody = { error: { code, message: message ?? errorCatalogue[code].message } };
  if (details !== undefined) body.error.details = details;
  return reply.code(errorCatalogue[code].status).type('application/json; charset=utf-8').send(body);
}

// Fastify's own request errors, by code, as catalogue codes.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'RB_ERR_HTTP_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'RB_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
};

const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty but its Content-Type says JSON.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than the server accepts (64 KiB).',
};

/** The app's error handler (setErrorHandler). */
export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isRbError(err)) {
    if (err.status >= 500) request.log.error({ code: err.code, msg: err.message }, 'request failed');
    return sendError(reply, err.code, err.message, err.details);
  }
  if (err.validation) {
    const where = err.validationContext ?? 'request';
    const errors = err.validation.map((v) => ({
      in: where,
      path: v.instancePath || '/',
      message: describeViolation(v as { instancePath: string; message?: string; keyword?: string; params?: Record<string, unknown> }),
    }));
    const first = errors[0];
    return sendError(reply, 'RB_ERR_HTTP_BAD_REQUEST', `Invalid ${where}: ${first.path} ${first.message}.`, { errors });
  }
  const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (mapped) return sendError(reply, mapped, FASTIFY_MESSAGES[err.code]);
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return sendError(reply, 'RB_ERR_HTTP_BAD_REQUEST', FASTIFY_MESSAGES[err.code] ?? 'The request is malformed.');
  }
  // Unexpected: log the error (its message and stack stay in the server log), answer generically.
  request.log.error({ err }, 'unexpected error');
  return sendError(reply, 'RB_ERR_INTERNAL');
}

/** The 404 of unknown routes. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, 'RB_ERR_HTTP_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`);
}

function describeViolation(v: { message?: string; keyword?: string; params?: Record<string, unknown> }): string {
  if (v.keyword === 'additionalProperties' && v.params?.additionalProperty !== undefined) {
    return `has an unknown property ${JSON.stringify(v.params.additionalProperty)}`;
  }
  return v.message ?? 'is invalid';
}
