/**
 * Authenticates a request as AWS does before anything else: a well-formed SigV4 Authorization
 * header, a key the sandbox issued, the session token that belongs to it and is not expired, a
 * signing time within 15 minutes of the sandbox's clock, and a signature made with the key's secret.
 */
import type { Identities, Principal } from './identities.js';
import { header, parseAuthorization, requestTime, signatureMatches, toAmzDate, type ReceivedRequest } from './sigv4.js';

export type AuthFailure = 'missing' | 'incomplete' | 'unknown-key' | 'bad-token' | 'expired' | 'signature';

export type AuthResult = { ok: true; principal: Principal; service: string } | { ok: false; failure: AuthFailure; message: string };

const SKEW_MS = 15 * 60_000;

const MESSAGES: Record<'unknown-key' | 'bad-token' | 'expired' | 'signature', string> = {
  'unknown-key': 'The security token included in the request is invalid.',
  'bad-token': 'The security token included in the request is invalid.',
  expired: 'The security token included in the request is expired',
  signature:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
};

/**
 * @param services the credential-scope services this endpoint answers for (`dynamodb`; `sts`, `iam`)
 * @param regions regions a credential may be scoped to
 */
export function authenticate(req: ReceivedRequest, identities: Identities, now: number, services: readonly string[], regions: readonly string[]): AuthResult {
  const raw = header(req.rawHeaders, 'authorization');
  if (raw === undefined) return { ok: false, failure: 'missing', message: 'Request is missing Authentication Token' };
  const auth = parseAuthorization(raw);
  if (!auth) {
    return {
      ok: false,
      failure: 'incomplete',
      message:
        "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=…, Signature=…",
    };
  }
  const time = requestTime(req.rawHeaders);
  if (!time) return { ok: false, failure: 'incomplete', message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header." };
  if (!auth.signedHeaders.includes('host')) return { ok: false, failure: 'incomplete', message: "'Host' must be a 'SignedHeader' in the AWS Authorization." };

  const found = identities.lookup(auth.accessKeyId, header(req.rawHeaders, 'x-amz-security-token'));
  if (!found.ok) return { ok: false, failure: found.failure, message: MESSAGES[found.failure] };

  if (!services.includes(auth.service)) {
    return { ok: false, failure: 'signature', message: `Credential should be scoped to correct service: '${services[0]}'. ` };
  }
  if (!regions.includes(auth.region)) {
    return { ok: false, failure: 'signature', message: 'Credential should be scoped to a valid region. ' };
  }
  if (time.amzDate.slice(0, 8) !== auth.scopeDate) {
    return {
      ok: false,
      failure: 'signature',
      message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${time.amzDate.slice(0, 8)}', from '${time.amzDate}'.`,
    };
  }
  if (time.ms < now - SKEW_MS) {
    return {
      ok: false,
      failure: 'signature',
      message: `Signature expired: ${time.amzDate} is now earlier than ${toAmzDate(now - SKEW_MS)} (${toAmzDate(now)} - 15 min.)`,
    };
  }
  if (time.ms > now + SKEW_MS) {
    return {
      ok: false,
      failure: 'signature',
      message: `Signature not yet current: ${time.amzDate} is still later than ${toAmzDate(now + SKEW_MS)} (${toAmzDate(now)} + 15 min.)`,
    };
  }
  if (!signatureMatches(req, auth, time.amzDate, found.secretAccessKey)) {
    return { ok: false, failure: 'signature', message: MESSAGES.signature };
  }
  return { ok: true, principal: found.principal, service: auth.service };
}
