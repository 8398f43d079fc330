/**
 * The catalogue of coded errors: `RB_ERR_<AREA>_<CONDITION>`, each with its HTTP status and what a
 * user should do next. docs/errors.md documents every code (a test checks both lists agree).
 */

export interface ErrorFact {
  status: number;
  /** the default message; the thrower may give a more precise one */
  message: string;
}

export const errorCatalogue = {
  // runbooks
  RB_ERR_RUNBOOK_INVALID: { status: 422, message: 'The runbook has errors; run `runbooks check` on it and fix each one.' },
  RB_ERR_RUNBOOK_NOT_FOUND: { status: 404, message: 'No runbook with that id exists in the runbooks folder.' },
  RB_ERR_RUNBOOK_BAD_ID: { status: 404, message: 'Runbook ids are paths inside the runbooks folder, without `..`, backslashes or NUL.' },
  RB_ERR_STEP_NOT_FOUND: { status: 404, message: 'The runbook has no step with that name.' },
  // parameters
  RB_ERR_PARAM_INVALID: { status: 400, message: 'One or more parameter values are invalid; see details for each.' },
  RB_ERR_TEMPLATE_RENDER: { status: 400, message: 'A template could not be rendered with the given parameters.' },
  // sandbox
  RB_ERR_SANDBOX_JAVA_MISSING: { status: 500, message: 'DynamoDB Local needs Java 17 or newer: install it (Debian: `apt-get install openjdk-17-jdk-headless`).' },
  RB_ERR_SANDBOX_START: { status: 500, message: 'The local sandbox could not start; see the message for the cause.' },
  RB_ERR_SANDBOX_FILE_INVALID: { status: 400, message: 'The sandbox file is invalid; fix the line it names.' },
  // access
  RB_ERR_ACCESS_ASSUME_ROLE: { status: 502, message: 'STS refused to issue a session for this step; check that the server may assume the role.' },
  RB_ERR_ACCESS_POLICY_TOO_LARGE: { status: 422, message: 'The derived session policy is too large for STS (PackedPolicyTooLarge); split the step into smaller requests.' },
  RB_ERR_ACCESS_THROTTLED: { status: 503, message: 'STS is throttling requests; wait a moment and run the step again.' },
  RB_ERR_ACCESS_REVOKE: { status: 502, message: "Revoking the run's sessions through IAM failed; the credentials are forgotten, retry completion to put the deny policy." },
  RB_ERR_ACCESS_POLICY_DERIVE: {
    status: 422,
    message: 'No session policy can be derived from this request (a table, index or PartiQL target is missing or invalid); fix the step.',
  },
  RB_ERR_ACCESS_SESSION_REVOKED: { status: 409, message: "The step's session has been revoked (its run completed) and its credentials forgotten; run the step in a new run." },
  // dynamodb
  RB_ERR_DYNAMO: { status: 502, message: 'DynamoDB refused the request; see the AWS code.' },
  RB_ERR_DYNAMO_CONDITION_FAILED: {
    status: 409,
    message: "The request's condition did not hold: the item is not in the state the step expects (it may have changed since it was read); re-read it and decide.",
  },
  RB_ERR_DYNAMO_TRANSACTION_CANCELED: { status: 409, message: 'DynamoDB cancelled the transaction; see the reason of each part.' },
  RB_ERR_DYNAMO_VALIDATION: { status: 422, message: "DynamoDB rejected the request as invalid (ValidationException); fix the step's request." },
  RB_ERR_DYNAMO_NOT_FOUND: { status: 422, message: 'The table or index does not exist in this account and region (ResourceNotFoundException); check TableName and IndexName.' },
  RB_ERR_DYNAMO_THROTTLED: { status: 503, message: 'DynamoDB is throttling requests to this table; wait a moment and run the step again.' },
  RB_ERR_DYNAMO_ACCESS_DENIED: {
    status: 403,
    message: "The step's session may not do this (AccessDeniedException); the session policy allows only what the step's request needs.",
  },
  // runs
  RB_ERR_RUN_NOT_FOUND: { status: 404, message: 'No run with that id.' },
  RB_ERR_RUN_NOT_ACTIVE: { status: 409, message: 'The run is no longer active; start a new run.' },
  RB_ERR_RUN_CONFIRM_REQUIRED: { status: 409, message: 'This step writes data: confirm the execution (`confirm: true`, or `--yes`).' },
  RB_ERR_RUN_APPROVAL_REQUIRED: { status: 409, message: "This step needs a second person's approval before it can run." },
  RB_ERR_RUN_NO_MORE_PAGES: { status: 409, message: "The step's last execution has no further page." },
  RB_ERR_REVERT_UNAVAILABLE: {
    status: 409,
    message:
      'This execution cannot be reverted: it did not succeed, recorded no before-image, was reverted already, or its images are redacted (a revert needs the real values, never kept).',
  },
  RB_ERR_REVERT_CONFLICT: { status: 409, message: 'The item changed since the write, so nothing was reverted; read it again and decide by hand.' },
  RB_ERR_RUN_ELSEWHERE: { status: 409, message: 'Another process on this data folder runs this run; continue it there.' },
  RB_ERR_STEP_INPUT_MISSING: { status: 409, message: 'The step uses the output of an earlier step that has not run (or found nothing): run that step first.' },
  RB_ERR_STEP_INPUT_REDACTED: {
    status: 422,
    message: "The step uses an earlier step's output that is redacted: its value is never kept, so it cannot be passed on; use an attribute that is not redacted.",
  },
  RB_ERR_RUN_BUSY: { status: 503, message: 'Another replica is changing this run; try again in a moment.' },
  RB_ERR_RUN_NO_EXECUTION: { status: 404, message: 'The step has not been executed in this run yet; execute it first.' },
  RB_ERR_APPROVAL_SELF: { status: 403, message: 'Nobody can approve their own step; ask another approver.' },
  RB_ERR_APPROVAL_NOT_PENDING: { status: 409, message: 'There is no pending approval request for this step.' },
  RB_ERR_APPROVAL_EXPIRED: { status: 409, message: 'The approval request or approval has expired; run the step again to request a new one.' },
  // http
  RB_ERR_AUTH_REQUIRED: { status: 401, message: 'Authentication required: open the URL with its token, or send `Authorization: Bearer <token>`.' },
  RB_ERR_AUTH_FORBIDDEN: { status: 403, message: 'Your role does not allow this action.' },
  RB_ERR_AUTH_RATE_LIMITED: { status: 429, message: 'Too many failed authentication attempts; wait a minute.' },
  RB_ERR_AUTH_ORIGIN: { status: 403, message: 'Cross-origin request refused: use the notebook served by this server, or a Bearer token from a non-browser client.' },
  RB_ERR_HTTP_BAD_REQUEST: { status: 400, message: 'The request body or query is invalid.' },
  RB_ERR_HTTP_NOT_FOUND: { status: 404, message: 'No such route.' },
  RB_ERR_HTTP_BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  RB_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send request bodies as JSON (`Content-Type: application/json`).' },
  RB_ERR_INTERNAL: { status: 500, message: 'An internal error occurred; the server log has the details (without secrets).' },
  // cli and configuration
  RB_ERR_CLI_USAGE: { status: 400, message: 'Invalid command-line arguments; see `runbooks --help`.' },
  RB_ERR_CONFIG_INVALID: { status: 400, message: 'The configuration is invalid.' },
  RB_ERR_STORE_WRITE: {
    status: 503,
    message:
      "The run store is not writable, so the change was not recorded; free disk space on the data folder's file system (or fix its permissions), or for a DynamoDB store act on the AWS error code, and try again.",
  },
  RB_ERR_STORE_CONFLICT: { status: 409, message: 'Another process changed this run at the same moment; reload the run and try again.' },
  RB_ERR_RUN_HELD: { status: 503, message: 'A write in this run was performed but could not be recorded; the run is held until the audit log and run store are writable again.' },
  RB_ERR_AUDIT_BROKEN: { status: 500, message: "The audit log's hash chain is broken." },
  RB_ERR_AUDIT_WRITE: {
    status: 503,
    message:
      "The audit log is not writable, so nothing was recorded or done; free disk space on the data folder's file system (or fix its permissions), or for a DynamoDB store act on the AWS error code, and try again.",
  },
  RB_ERR_AUDIT_KEY: {
    status: 500,
    message: 'The audit signing key cannot be read or created; point --audit-key (or RUNBOOKS_AUDIT_KEY) at a key file this user can read, or at a path where one can be created.',
  },
} as const satisfies Record<string, ErrorFact>;

export type ErrorCode = keyof typeof errorCatalogue;

/** An error a user can act on: a stable code, an HTTP status and a message that says what to do. */
export class RbError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? errorCatalogue[code].message);
    this.name = 'RbError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.details = details;
  }
}

export function isRbError(err: unknown): err is RbError {
  return err instanceof RbError;
}
