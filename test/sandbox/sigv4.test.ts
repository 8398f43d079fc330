import { describe, expect, it } from 'vitest';
import { canonicalRequest, parseAuthorization, requestTime, signatureMatches, type ReceivedRequest } from '../../server/sandbox/gateway/sigv4.js';

// The worked example of AWS's Signature Version 4 documentation (IAM ListUsers, 2015-08-30).
const example: ReceivedRequest = {
  method: 'GET',
  path: '/',
  query: 'Version=2010-05-08&Action=ListUsers',
  rawHeaders: ['Host', 'iam.amazonaws.com', 'Content-Type', 'application/x-www-form-urlencoded;  charset=utf-8', 'X-Amz-Date', '20150830T123600Z'],
  body: Buffer.alloc(0),
};
const header =
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7';
const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

describe('SigV4 verification', () => {
  it("accepts the signature of AWS's documented example", () => {
    const auth = parseAuthorization(header)!;
    expect(auth).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', scopeDate: '20150830', region: 'us-east-1', service: 'iam', signedHeaders: ['content-type', 'host', 'x-amz-date'] });
    // query parameters sorted, header values trimmed with inner runs of spaces collapsed
    expect(canonicalRequest(example, auth.signedHeaders)).toBe(
      'GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(signatureMatches(example, auth, requestTime(example.rawHeaders)!.amzDate, secret)).toBe(true);
  });

  it('refuses any change to what was signed, and another secret', () => {
    const auth = parseAuthorization(header)!;
    const date = '20150830T123600Z';
    expect(signatureMatches({ ...example, query: 'Action=ListRoles&Version=2010-05-08' }, auth, date, secret)).toBe(false);
    expect(signatureMatches({ ...example, method: 'POST' }, auth, date, secret)).toBe(false);
    expect(signatureMatches({ ...example, rawHeaders: [...example.rawHeaders.slice(0, 4), 'X-Amz-Date', '20150830T123601Z'] }, auth, date, secret)).toBe(false);
    expect(signatureMatches({ ...example, body: Buffer.from('x') }, auth, date, secret)).toBe(false);
    expect(signatureMatches(example, auth, date, `${secret.slice(0, -1)}Z`)).toBe(false);
    // an unsigned header may change freely
    expect(signatureMatches({ ...example, rawHeaders: [...example.rawHeaders, 'User-Agent', 'anything'] }, auth, date, secret)).toBe(true);
  });

  it('rejects malformed Authorization headers', () => {
    expect(parseAuthorization('AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, Signature=00')).toBeUndefined();
    expect(parseAuthorization('Bearer abc')).toBeUndefined();
    expect(parseAuthorization(undefined)).toBeUndefined();
  });
});
