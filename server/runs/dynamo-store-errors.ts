/**
 * What a failed DynamoDB call of the run store tells the person running the server: RB_ERR_STORE_WRITE
 * naming the table, the operation, the AWS error code and what to do. Only the code is quoted, never
 * the service's message or the request, so no key, token or run data can reach a log or a response.
 */
import { isRbError, RbError } from '../errors.js';

const CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'CredentialsProviderError',
]);
const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'LimitExceededException']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'TimeoutError', 'RequestTimeout', 'InternalServerError', 'ServiceUnavailable']);

/** The AWS error code of an SDK error (its name), or the system error code of a network failure. */
export function awsCode(err: unknown): string {
  const e = err as { name?: string; code?: string } | undefined;
  if (e?.name && e.name !== 'Error') return e.name;
  return e?.code ?? 'UnknownError';
}

function advice(code: string, prefix: string): string {
  if (code === 'ResourceNotFoundException') return `Create the store's tables first: runbooks store init --store-prefix ${prefix} (docs/deploy.md).`;
  if (code === 'AccessDeniedException') return `Give the server's AWS identity the run store policy of docs/deploy.md on table/${prefix}*.`;
  if (CREDENTIALS.has(code)) return "DynamoDB refused the server's AWS credentials: renew them or check the region and endpoint, then try again.";
  if (THROTTLED.has(code)) return 'DynamoDB is throttling the store: wait a moment and try again (on-demand capacity, PAY_PER_REQUEST, avoids most of this).';
  if (code === 'ValidationException') return `DynamoDB refused the request as invalid: check that the tables are the ones runbooks store init creates (keys as in docs/deploy.md).`;
  if (UNREACHABLE.has(code)) return 'DynamoDB could not be reached or failed: check the endpoint and the network, then try again.';
  return 'See the AWS error code; try again, and check the store tables if it persists.';
}

/** RB_ERR_STORE_WRITE for a failed DynamoDB call (an RbError passes through unchanged). */
export function storeError(what: string, table: string, prefix: string, err: unknown): RbError {
  if (isRbError(err)) return err;
  const code = awsCode(err);
  return new RbError('RB_ERR_STORE_WRITE', `The run store is not available: ${what} on DynamoDB table ${table} failed (${code}). ${advice(code, prefix)}`, { awsCode: code });
}

/**
 * RB_ERR_AUDIT_WRITE for a failed DynamoDB call of the audit chain (./dynamo-audit.ts): nothing was
 * recorded, so the action it would have recorded is not done either.
 */
export function auditStoreError(what: string, table: string, prefix: string, err: unknown): RbError {
  if (isRbError(err)) return err;
  const code = awsCode(err);
  return new RbError('RB_ERR_AUDIT_WRITE', `The audit log is not writable: ${what} on DynamoDB table ${table} failed (${code}), so nothing was recorded. ${advice(code, prefix)}`, {
    awsCode: code,
  });
}
