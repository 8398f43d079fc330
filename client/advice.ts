/**
 * What to do next after an error, in words a person on call understands. The server's coded
 * messages already say what to do; this adds the advice for AWS's own error codes and for failures
 * the server cannot report (the connection, the token).
 */
import { NETWORK_ERROR } from './api.js';

const aws: Record<string, string> = {
  AccessDeniedException:
    "The step's session was not allowed to do this. The role may lack the permission, or the session was revoked: check `runbooks policy` for what the step needs and ask the role's owner.",
  ConditionalCheckFailedException: 'The condition in the request did not hold, so nothing was written. Run the read steps again to see the item as it is now.',
  TransactionCanceledException: 'The transaction was cancelled and nothing was written: a condition failed or another write got there first. Run the read steps again, then retry.',
  ExpiredTokenException: "The step's session expired. Run the step again: each run gets a fresh session.",
  UnrecognizedClientException: "The session's credentials are no longer recognised. Run the step again to get a fresh session.",
  ResourceNotFoundException: 'The table or index does not exist in this account and region. Check the table name in the step.',
  ValidationException: 'DynamoDB rejected the request as malformed. Check the parameter values and the rendered request below.',
  ProvisionedThroughputExceededException: 'The table is throttling reads or writes. Wait a few seconds and run the step again.',
  ThrottlingException: 'AWS is throttling requests. Wait a few seconds and run the step again.',
  RequestLimitExceeded: 'The account is over its request limit. Wait a few seconds and run the step again.',
  ItemCollectionSizeLimitExceededException: "The item collection is over 10 GB, DynamoDB's limit for a partition key with a local index.",
};

const codes: Record<string, string> = {
  [NETWORK_ERROR]: 'Check that the server (`runbooks serve`) is still running and reachable, then try again. Nothing you entered is lost.',
  RB_ERR_AUTH_REQUIRED: 'Your access token is missing or no longer valid (the server may have restarted with a new one). Open the URL printed by `runbooks serve` again.',
  RB_ERR_AUTH_FORBIDDEN: 'Your user does not have the role this action needs. Ask someone who has it.',
  RB_ERR_RUN_NOT_ACTIVE: 'This run has ended and its sessions are revoked. Start a new run from the runbook.',
};

/** Advice for an error, or undefined when its message says it all. */
export function adviceFor(error: { code: string; awsCode?: string }): string | undefined {
  return (error.awsCode ? aws[error.awsCode] : undefined) ?? codes[error.code];
}
