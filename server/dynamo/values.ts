/**
 * Results as plain JSON values. The Document Client unmarshals with `wrapNumbers`, so no number
 * loses precision on the way in; here each becomes a JS number when it is exactly one, else its
 * decimal string. Sets (SS, NS, BS) become arrays, binary values base64 strings, Dates ISO strings.
 */
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { RbError } from '../errors.js';
import type { RenderedRequest, ValuePath } from '../runbook/types.js';

/** A DynamoDB number string as a JS number when exact (safe integer, or a decimal that prints back the same), else the string. */
export function plainNumber(text: string): number | string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  if (Number.isInteger(n)) return Number.isSafeInteger(n) ? n : text;
  return String(n) === text ? n : text;
}

/** Converts a value from the Document Client (or an SDK output) to plain JSON data. */
export function plain(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (value instanceof NumberValue) return plainNumber(value.toString());
  if (typeof value === 'bigint') return plainNumber(value.toString());
  if (value instanceof Set) return [...value].map(plain);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = plain(v);
    return out;
  }
  return value;
}

/** Plain data of an item. */
export function plainItem(item: unknown): Record<string, unknown> {
  return plain(item) as Record<string, unknown>;
}

type AttributeValue = Record<string, unknown>;

/** Plain data of a raw (marshalled) DynamoDB item, as errors carry them (ReturnValuesOnConditionCheckFailure). */
export function plainFromAttributes(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = fromAttribute(v);
  return out;
}

function fromAttribute(av: AttributeValue): unknown {
  if ('S' in av) return av.S;
  if ('N' in av) return plainNumber(String(av.N));
  if ('BOOL' in av) return av.BOOL;
  if ('NULL' in av) return null;
  if ('B' in av) return plain(av.B);
  if ('SS' in av) return av.SS;
  if ('NS' in av) return (av.NS as string[]).map(plainNumber);
  if ('BS' in av) return (av.BS as unknown[]).map(plain);
  if ('L' in av) return (av.L as AttributeValue[]).map(fromAttribute);
  if ('M' in av) return plainFromAttributes(av.M as Record<string, AttributeValue>);
  return null;
}

/** A key as JSON-safe DynamoDB JSON (B as base64), so a cursor can be stored with the run. */
export type StoredKey = Record<string, { S: string } | { N: string } | { B: string }>;

/** Stores a LastEvaluatedKey from the Document Client; key attributes are S, N or B only. */
export function storeKey(key: Record<string, unknown>): StoredKey {
  const out: StoredKey = {};
  for (const [k, v] of Object.entries(key)) {
    if (typeof v === 'string') out[k] = { S: v };
    else if (v instanceof NumberValue || typeof v === 'number' || typeof v === 'bigint') out[k] = { N: v.toString() };
    else if (v instanceof Uint8Array) out[k] = { B: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    else throw new TypeError(`unexpected key attribute type for ${k}`);
  }
  return out;
}

/** The Document Client form of a stored key: numbers as NumberValue so none loses precision. */
export function loadKey(key: StoredKey): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(key)) {
    if ('S' in v) out[k] = v.S;
    else if ('N' in v) out[k] = NumberValue.from(v.N);
    else out[k] = new Uint8Array(Buffer.from(v.B, 'base64'));
  }
  return out;
}

/**
 * A request's input as the Document Client sends it. Rendering leaves typed values that plain JSON
 * cannot hold as descriptors, at the paths of `typedValues` (server/runbook/typed-values.ts); here
 * each becomes the SDK value that marshals back to that type: a Set for SS, NS and BS, bytes for
 * B, a NumberValue for N, so that no value is stored as a map.
 */
export function sendableInput(request: RenderedRequest): Record<string, unknown> {
  const input = request.input as Record<string, unknown>;
  const paths = request.operation === 'ExecuteStatement' ? undefined : request.typedValues;
  if (!paths || paths.length === 0) return input;
  let out: unknown = input;
  for (const path of paths) out = replaceAt(out, path, 0);
  return out as Record<string, unknown>;
}

function replaceAt(container: unknown, path: ValuePath, i: number): unknown {
  if (i === path.length) return sdkValue(container, path);
  const key = path[i];
  if (Array.isArray(container) && typeof key === 'number' && key >= 0 && key < container.length) {
    const copy = container.slice();
    copy[key] = replaceAt(container[key], path, i + 1);
    return copy;
  }
  if (container !== null && typeof container === 'object' && typeof key === 'string' && Object.prototype.hasOwnProperty.call(container, key)) {
    const copy = { ...(container as Record<string, unknown>) };
    // defineProperty: an attribute named `__proto__` must stay an attribute.
    Object.defineProperty(copy, key, { value: replaceAt((container as Record<string, unknown>)[key], path, i + 1), enumerable: true, writable: true, configurable: true });
    return copy;
  }
  throw new RbError('RB_ERR_INTERNAL', `the request has no typed value at ${path.join('.')}`);
}

function sdkValue(descriptor: unknown, path: ValuePath): unknown {
  const d = (descriptor ?? {}) as Record<string, unknown>;
  const bytes = (b: unknown) => new Uint8Array(Buffer.from(String(b), 'base64'));
  if (typeof d.N === 'string') return NumberValue.from(d.N);
  if (typeof d.B === 'string') return bytes(d.B);
  if (Array.isArray(d.SS)) return new Set(d.SS.map(String));
  if (Array.isArray(d.NS)) return new Set(d.NS.map((n) => NumberValue.from(String(n))));
  if (Array.isArray(d.BS)) return new Set(d.BS.map(bytes));
  throw new RbError('RB_ERR_INTERNAL', `the request's value at ${path.join('.')} is not a kept type descriptor`);
}
