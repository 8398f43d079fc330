/**
 * DynamoDB failures as step errors: a catalogue code, the AWS error code in `details.awsCode`, and
 * a plain message that says what happened and what to do. Messages pass through `scrub`, so that
 * no credential of the session can be echoed.
 */
import { RbError, type ErrorCode } from '../errors.js';
import { scrub } from '../aws/sdk.js';
import { plainFromAttributes } from './values.js';

interface AwsError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  Item?: Record<string, Record<string, unknown>>;
  CancellationReasons?: Array<{ Code?: string; Message?: string; Item?: Record<string, Record<string, unknown>> }>;
}

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'LimitExceededException']);
const SESSION_REFUSED = new Set([
  'UnrecognizedClientException',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
]);

/** Maps an error thrown by a DynamoDB call to a coded step error. */
export function dynamoError(err: unknown, secrets: readonly string[] = []): RbError {
  if (err instanceof RbError) return err;
  const e = (err ?? {}) as AwsError;
  const awsCode = e.name ?? 'Error';
  const awsMessage = scrub(String(e.message ?? err), secrets);
  const details: Record<string, unknown> = { awsCode, awsMessage };
  const fail = (code: ErrorCode, message: string) => new RbError(code, message, details);

  if (awsCode === 'ConditionalCheckFailedException') {
    if (e.Item) details.item = plainFromAttributes(e.Item);
    return fail(
      'RB_ERR_DYNAMO_CONDITION_FAILED',
      `The request's condition did not hold (${awsCode}: ${awsMessage}), so nothing was written: the item is not in the ` +
        'state the step expects, perhaps because it changed since it was read. Re-read the item and decide whether to run the step again.',
    );
  }
  if (awsCode === 'TransactionCanceledException') {
    const reasons = (e.CancellationReasons ?? []).map((r, i) => ({
      part: i + 1,
      code: r.Code ?? 'None',
      ...(r.Message ? { message: scrub(r.Message, secrets) } : {}),
      ...(r.Item ? { item: plainFromAttributes(r.Item) } : {}),
    }));
    details.reasons = reasons;
    const failed = reasons.filter((r) => r.code !== 'None');
    const why = failed.length ? failed.map((r) => `part ${r.part}: ${r.code}${r.message ? ` (${r.message})` : ''}`).join('; ') : awsMessage;
    const hint = failed.some((r) => r.code === 'ConditionalCheckFailed')
      ? ' A condition did not hold: re-read the items and decide whether to run the step again.'
      : failed.some((r) => r.code === 'TransactionConflict')
        ? ' Another request changed one of the items at the same time: run the step again.'
        : '';
    return fail('RB_ERR_DYNAMO_TRANSACTION_CANCELED', `DynamoDB cancelled the transaction, so nothing was written: ${why}.${hint}`);
  }
  if (awsCode === 'ValidationException') {
    return fail(
      'RB_ERR_DYNAMO_VALIDATION',
      `DynamoDB rejected the request as invalid (${awsCode}: ${awsMessage}). Fix the step's request: field names, expression syntax, attribute names and the key attributes of the table.`,
    );
  }
  if (awsCode === 'ResourceNotFoundException') {
    return fail('RB_ERR_DYNAMO_NOT_FOUND', `The table or index does not exist here (${awsCode}: ${awsMessage}). Check TableName and IndexName, and the region the server uses.`);
  }
  if (THROTTLING.has(awsCode)) {
    return fail('RB_ERR_DYNAMO_THROTTLED', `DynamoDB is throttling this request (${awsCode}: ${awsMessage}); wait a moment and run the step again.`);
  }
  if (awsCode === 'AccessDeniedException') {
    return fail(
      'RB_ERR_DYNAMO_ACCESS_DENIED',
      `The step's session may not do this (${awsCode}: ${awsMessage}). A session may do only what its step's request needs, ` +
        'and only what the role allows; a revoked run is denied everything.',
    );
  }
  if (SESSION_REFUSED.has(awsCode)) {
    return fail(
      'RB_ERR_DYNAMO',
      `DynamoDB no longer accepts the step's session (${awsCode}: ${awsMessage}): it has expired or was revoked. Execute the step again to get a new session.`,
    );
  }
  if (e.$metadata?.httpStatusCode === undefined) {
    return fail('RB_ERR_DYNAMO', `DynamoDB could not be reached (${awsCode}: ${awsMessage}); check the network and the endpoint.`);
  }
  return fail('RB_ERR_DYNAMO', `DynamoDB refused the request (${awsCode}: ${awsMessage}).`);
}
