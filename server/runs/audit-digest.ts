/**
 * Signed digests of the audit log, after AWS CloudTrail's digest files: a digest names the records
 * it covers (everything since the previous digest), the hash of the last of them — which, through
 * the chain, stands for every record before it — and the previous digest, and signs all of that with
 * the audit key (Ed25519). Digests are themselves chained records of the log.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, DIGEST_TYPE, isHash } from './audit-record.js';
import type { AuditKey } from './audit-key.js';

export interface DigestPointer {
  seq: number;
  hash: string;
}

export interface DigestData {
  /** the previous digest record, null for the log's first digest */
  previous: DigestPointer | null;
  /** the first and last sequence numbers covered */
  first: number;
  last: number;
  /** the hash of record `last`: the chain head when the digest was signed */
  head: string;
  /** sha256 of the signing key's SPKI DER, hex */
  fingerprint: string;
  /** base64 Ed25519 signature over the canonical JSON of the fields above and the record type */
  signature: string;
}

type Signed = Omit<DigestData, 'signature'>;

function signedBytes(fields: Signed): Buffer {
  const { previous, first, last, head, fingerprint } = fields;
  return Buffer.from(canonicalJson({ type: DIGEST_TYPE, previous, first, last, head, fingerprint }));
}

export function signDigest(fields: Omit<Signed, 'fingerprint'>, key: AuditKey): DigestData {
  const body: Signed = { ...fields, fingerprint: key.fingerprint };
  return { ...body, signature: sign(null, signedBytes(body), key.privateKey).toString('base64') };
}

export function digestSignatureHolds(data: DigestData, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedBytes(data), publicKey, Buffer.from(data.signature, 'base64'));
  } catch {
    return false;
  }
}

/** A digest record's data when it has the form of one; undefined otherwise. */
export function parseDigestData(data: unknown): DigestData | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const d = data as DigestData;
  const previousOk = d.previous === null || (typeof d.previous === 'object' && Number.isSafeInteger(d.previous.seq) && isHash(d.previous.hash));
  const ok = previousOk && Number.isSafeInteger(d.first) && Number.isSafeInteger(d.last) && isHash(d.head) && isHash(d.fingerprint) && typeof d.signature === 'string';
  return ok ? d : undefined;
}
