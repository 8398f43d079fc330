/**
 * STS's two size limits for a session policy. The plaintext limit is AWS's documented 2,048
 * characters. The packed limit is not published: AWS compresses the policy and the session tags
 * into a binary format and reports the share used as PackedPolicySize. The sandbox approximates it
 * as the raw-deflate size of the minified policy plus the bytes of the tag keys and values, against
 * a budget of 800 bytes: small step policies use well under half, while a policy of many distinct,
 * long, random table names stays under 2,048 characters yet overflows, so callers can exercise
 * their handling of PackedPolicyTooLarge.
 */
import { deflateRawSync } from 'node:zlib';

export const POLICY_PLAINTEXT_LIMIT = 2048;
export const PACKED_BUDGET_BYTES = 800;

/** Percentage of the packed budget a session policy and tags use (may exceed 100). */
export function packedPolicyPercent(policy: unknown, tags: ReadonlyArray<{ key: string; value: string }>): number {
  let bytes = 0;
  if (policy !== undefined) bytes += deflateRawSync(Buffer.from(JSON.stringify(policy))).length;
  for (const t of tags) bytes += Buffer.byteLength(t.key) + Buffer.byteLength(t.value);
  return Math.ceil((bytes * 100) / PACKED_BUDGET_BYTES);
}
