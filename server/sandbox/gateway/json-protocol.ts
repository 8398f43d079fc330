/** DynamoDB's JSON 1.0 protocol errors: `{"__type":"com.amazon.coral.service#Name","message":"…"}`, status 400. */
import type { Reply } from './query-protocol.js';

/** A DynamoDB error reply; authentication and authorisation errors come from the coral service namespace. */
export function jsonError(name: string, message: string, requestId: string, status = 400): Reply {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId },
    body: JSON.stringify({ __type: `com.amazon.coral.service#${name}`, message }),
  };
}
