/** True for a plain object value (not null, not an array): a JSON object, a map, a parsed YAML mapping. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
