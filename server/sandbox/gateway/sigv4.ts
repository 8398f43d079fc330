/**
 * Verification of AWS Signature Version 4, recomputed from the request as received: method, path,
 * query, the headers the client listed in SignedHeaders and the payload hash
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
 * The JavaScript SDK and the AWS CLI sign different header sets; both list what they signed.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface Authorization {
  accessKeyId: string;
  /** YYYYMMDD of the credential scope */
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** What of the request the signature covers. */
export interface ReceivedRequest {
  method: string;
  /** the path as sent, without the query */
  path: string;
  /** the query as sent, without `?` */
  query: string;
  /** Node's rawHeaders: name, value, name, value… */
  rawHeaders: readonly string[];
  body: Buffer;
}

const AUTH = /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request\s*,\s*SignedHeaders=([a-z0-9;_.-]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/i;

/** Parses an `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header; undefined if malformed. */
export function parseAuthorization(header: string | undefined): Authorization | undefined {
  const m = header ? AUTH.exec(header.trim()) : null;
  if (!m) return undefined;
  return {
    accessKeyId: m[1],
    scopeDate: m[2],
    region: m[3],
    service: m[4],
    signedHeaders: m[5].toLowerCase().split(';'),
    signature: m[6].toLowerCase(),
  };
}

/** The request's signing time: `x-amz-date` (or `date`), as epoch milliseconds and as sent. */
export function requestTime(rawHeaders: readonly string[]): { ms: number; amzDate: string } | undefined {
  const amzDate = header(rawHeaders, 'x-amz-date');
  if (amzDate) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!m) return undefined;
    return { ms: Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]), amzDate };
  }
  const date = header(rawHeaders, 'date');
  const ms = date ? Date.parse(date) : NaN;
  return Number.isNaN(ms) ? undefined : { ms, amzDate: toAmzDate(ms) };
}

/** Formats epoch milliseconds as SigV4's basic ISO 8601 (20240101T000000Z). */
export function toAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** true when the signature matches the one computed with `secret`; compared in constant time. */
export function signatureMatches(req: ReceivedRequest, auth: Authorization, amzDate: string, secret: string): boolean {
  const canonical = canonicalRequest(req, auth.signedHeaders);
  if (canonical === undefined) return false;
  const scope = `${auth.scopeDate}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
  const expected = createHmac('sha256', signingKey(secret, auth.scopeDate, auth.region, auth.service))
    .update(stringToSign)
    .digest();
  const given = Buffer.from(auth.signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The canonical request; undefined when a claimed payload hash does not match the body. */
export function canonicalRequest(req: ReceivedRequest, signedHeaders: readonly string[]): string | undefined {
  const declared = header(req.rawHeaders, 'x-amz-content-sha256');
  const actual = sha256Hex(req.body);
  let payloadHash = actual;
  if (declared !== undefined && declared !== 'UNSIGNED-PAYLOAD') {
    if (declared.toLowerCase() !== actual) return undefined;
  } else if (declared === 'UNSIGNED-PAYLOAD') {
    payloadHash = declared;
  }
  const headers = signedHeaders.map((name) => `${name}:${canonicalHeaderValue(req.rawHeaders, name)}\n`).join('');
  return [req.method.toUpperCase(), canonicalPath(req.path), canonicalQuery(req.query), headers, signedHeaders.join(';'), payloadHash].join('\n');
}

// Services other than S3 encode each path segment once more over the path as sent.
function canonicalPath(path: string): string {
  if (path === '' || path === '/') return '/';
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  const joined = segments.map(escape).join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const k = eq === -1 ? pair : pair.slice(0, eq);
      const v = eq === -1 ? '' : pair.slice(eq + 1);
      return [escape(safeDecode(k)), escape(safeDecode(v))] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function canonicalHeaderValue(rawHeaders: readonly string[], name: string): string {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === name) values.push(rawHeaders[i + 1].trim().replace(/\s+/g, ' '));
  }
  return values.join(',');
}

/** The first value of a header (case-insensitive name) in Node's rawHeaders. */
export function header(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name) return rawHeaders[i + 1];
  return undefined;
}

// RFC 3986 unreserved characters stay; everything else is %XX (upper case), as SigV4 requires.
function escape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// The signing key only changes per secret, day, region and service: keep a few.
const keys = new Map<string, Buffer>();

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\0${date}\0${region}\0${service}`;
  let key = keys.get(id);
  if (!key) {
    const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
    const kRegion = createHmac('sha256', kDate).update(region).digest();
    const kService = createHmac('sha256', kRegion).update(service).digest();
    key = createHmac('sha256', kService).update('aws4_request').digest();
    if (keys.size > 1000) keys.clear();
    keys.set(id, key);
  }
  return key;
}
