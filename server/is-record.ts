/**
 * True for a plain object value: a JSON object, a map, a parsed YAML mapping. Not null, not an array,
 * and not binary (a DynamoDB B value, or YAML's `!!binary`), which is an object to JavaScript alone.
 */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
