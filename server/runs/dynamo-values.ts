/**
 * How the DynamoDB run store lays its values out in attributes, under DynamoDB's 400 KB item limit:
 *
 * - a header or a journal record is its JSON text in a string attribute `json` (schemaless, so a new
 *   record field needs no table change, and JSON.parse gives back exactly what was written);
 * - result items go in chunks of up to ITEMS_PER_CHUNK items and CHUNK_BYTES of JSON, gzipped into
 *   a binary attribute `gz` (capacity is billed per KB, and item JSON shrinks several times);
 * - a value too large for one item even gzipped (a runbook of megabytes in a header, the before-
 *   images of a large batch in a record) is gzipped and split into parts, stored as items of the
 *   items table under a key of their own (`<run>/<random>`), which the value's item names.
 */
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** An attribute value this large leaves room for the keys and names in a 400 KB item. */
export const INLINE_BYTES = 350_000;
export const PART_BYTES = 350_000;
export const ITEMS_PER_CHUNK = 100;
/** JSON bytes a chunk gathers before gzip (a single larger item gets a chunk of its own). */
export const CHUNK_BYTES = 300_000;

export type Item = Record<string, AttributeValue>;

export interface Encoded {
  /** `json`, `gz`, or `blob` and `parts`: to merge into the value's item */
  attributes: Item;
  /** the parts to store first, under `blob`, when the value does not fit its item */
  parts?: { blob: string; data: Buffer[] };
}

/** Encodes JSON text: as a string when `plain` and it fits, else gzipped, else gzipped in parts. */
export async function encodeValue(text: string, runId: string, plain: boolean): Promise<Encoded> {
  if (plain && Buffer.byteLength(text) <= INLINE_BYTES) return { attributes: { json: { S: text } } };
  const gz = await gzipAsync(text);
  if (gz.length <= INLINE_BYTES) return { attributes: { gz: { B: gz } } };
  // A random key: a writer that loses a conditional put must not have overwritten the winner's parts.
  const blob = `${runId}/${randomBytes(12).toString('hex')}`;
  const data: Buffer[] = [];
  for (let i = 0; i < gz.length; i += PART_BYTES) data.push(gz.subarray(i, i + PART_BYTES));
  return { attributes: { blob: { S: blob }, parts: { N: String(data.length) } }, parts: { blob, data } };
}

/** The blob an item's value is split into, if it is. */
export function blobOf(item: Item): { blob: string; parts: number } | undefined {
  return item.blob?.S ? { blob: item.blob.S, parts: Number(item.parts?.N ?? 0) } : undefined;
}

/** The JSON text of an item's value; `readParts` fetches a split value's parts, in order. */
export async function decodeValue(item: Item, readParts: (blob: string, parts: number) => Promise<Uint8Array[]>): Promise<string> {
  if (item.json?.S !== undefined) return item.json.S;
  if (item.gz?.B) return (await gunzipAsync(item.gz.B)).toString('utf8');
  const split = blobOf(item);
  if (!split) throw new Error('the item holds no value (json, gz or blob)');
  const parts = await readParts(split.blob, split.parts);
  if (parts.length !== split.parts) throw new Error(`value ${split.blob} has ${parts.length} of its ${split.parts} parts`);
  return (await gunzipAsync(Buffer.concat(parts))).toString('utf8');
}

/** Items split into chunks from position `offset`: each chunk's first position and its items' JSON. */
export function chunkItems(items: readonly Record<string, unknown>[], offset: number): Array<{ first: number; texts: string[] }> {
  const chunks: Array<{ first: number; texts: string[] }> = [];
  let current: { first: number; texts: string[] } | undefined;
  let bytes = 0;
  items.forEach((item, i) => {
    const text = JSON.stringify(item);
    const size = Buffer.byteLength(text) + 1;
    if (!current || current.texts.length >= ITEMS_PER_CHUNK || bytes + size > CHUNK_BYTES) {
      current = { first: offset + i, texts: [] };
      chunks.push(current);
      bytes = 0;
    }
    current.texts.push(text);
    bytes += size;
  });
  return chunks;
}
