/**
 * Redaction (docs/format.md, "Redaction"; docs/security.md): attribute names and dotted paths into
 * maps whose values are masked where DynamoDB's answer enters the engine, before anything is
 * recorded, stored, sent or printed. A mask keeps the value's type and length class, never its
 * content, and is a string that cannot be mistaken for data:
 *
 * - string: `•••[redacted: 11–20 chars]` (classes: empty, 1–10, 11–20, 21–50, 51–100, 101–1000, over 1000)
 * - number: `•••[redacted number]`; boolean: `•••[redacted boolean]`; null: `•••[redacted null]`
 * - map: `•••[redacted map: 3 keys]` (its keys can be data too, so none is kept)
 * - list or set: the list of its elements, each masked
 *
 * A path's segment that meets a list applies to each element of the list (`addresses.city`
 * masks the city of every address). Binary values and numbers beyond JavaScript's precision are
 * strings in results (../dynamo/values.ts) and are masked as strings.
 */

/** Every mask starts so: what `isMasked` recognises. */
export const MASK_PREFIX = '•••[redacted';

const MAX_PATHS = 100;
const MAX_SEGMENT = 255;

const LENGTH_CLASSES: Array<[number, string]> = [
  [10, '1–10'],
  [20, '11–20'],
  [50, '21–50'],
  [100, '51–100'],
  [1000, '101–1000'],
];

/** The length class of a string, in characters. */
function lengthClass(text: string): string {
  const n = [...text].length;
  if (n === 0) return 'empty';
  for (const [max, label] of LENGTH_CLASSES) if (n <= max) return `${label} chars`;
  return 'over 1000 chars';
}

/** The mask of a whole value. */
export function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return `${MASK_PREFIX}: ${lengthClass(value)}]`;
  if (typeof value === 'number' || typeof value === 'bigint') return `${MASK_PREFIX} number]`;
  if (typeof value === 'boolean') return `${MASK_PREFIX} boolean]`;
  if (value === null || value === undefined) return `${MASK_PREFIX} null]`;
  if (Array.isArray(value)) return value.map(maskValue);
  const keys = Object.keys(value).length;
  return `${MASK_PREFIX} map: ${keys} key${keys === 1 ? '' : 's'}]`;
}

/** True for a mask, or a list or map holding one. */
export function holdsMask(value: unknown): boolean {
  if (typeof value === 'string') return value.startsWith(MASK_PREFIX);
  if (Array.isArray(value)) return value.some(holdsMask);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsMask);
  return false;
}

/** What is wrong with one entry of a redaction list, or undefined. */
export function redactPathProblem(path: string): string | undefined {
  if (path.trim() === '') return 'an entry is empty: give an attribute name, or a dotted path into a map such as `card.number`';
  if (path !== path.trim()) return `\`${path}\` has spaces around it: write the attribute name alone`;
  const segments = path.split('.');
  if (segments.some((s) => s === '')) return `\`${path}\` has an empty segment: write names joined by single dots, like \`card.number\``;
  const long = segments.find((s) => new TextEncoder().encode(s).length > MAX_SEGMENT);
  if (long) return `\`${long.slice(0, 20)}…\` is longer than DynamoDB's ${MAX_SEGMENT} bytes for an attribute name`;
  return undefined;
}

/**
 * Checks a redaction list: each entry a path (see redactPathProblem), no duplicates, at most
 * MAX_PATHS. `problems` are sentences; `paths` are the good entries, once each.
 */
export function checkRedactList(entries: readonly string[]): { paths: string[]; problems: Array<{ index: number; message: string }> } {
  const paths: string[] = [];
  const problems: Array<{ index: number; message: string }> = [];
  if (entries.length > MAX_PATHS) problems.push({ index: MAX_PATHS, message: `at most ${MAX_PATHS} entries: redact the map that holds them instead` });
  entries.slice(0, MAX_PATHS).forEach((entry, index) => {
    const problem = redactPathProblem(entry);
    if (problem) problems.push({ index, message: problem });
    else if (paths.includes(entry)) problems.push({ index, message: `\`${entry}\` is listed twice` });
    else paths.push(entry);
  });
  return { paths, problems };
}

/** `--redact a,b --redact c` (and RUNBOOKS_REDACT) as one list of entries. */
export function splitRedactFlags(flags: readonly string[]): string[] {
  return flags
    .flatMap((f) => f.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The redacted entry a step output reference reaches, if any: the reference names a redacted value,
 * or a map or list that holds one (`card` when `card.number` is redacted).
 */
export function redactedBy(path: readonly string[], redact: readonly string[]): string | undefined {
  const dotted = path.join('.');
  for (const entry of redact) {
    const segments = entry.split('.');
    const n = Math.min(segments.length, path.length);
    if (segments.slice(0, n).every((s, i) => s === path[i]) || entry === path[0] || entry === dotted) return entry;
  }
  return undefined;
}

export interface Redactor {
  /** the entries, as given */
  readonly paths: readonly string[];
  /** a copy of `item` with every redacted value masked, and the entries that masked something */
  item(item: Record<string, unknown>): { item: Record<string, unknown>; masked: string[] };
}

/** A redactor for `paths`; undefined when there is nothing to redact. */
export function createRedactor(paths: readonly string[]): Redactor | undefined {
  const unique = [...new Set(paths)];
  if (unique.length === 0) return undefined;
  const split = unique.map((p) => ({ text: p, segments: p.split('.') }));
  return {
    paths: unique,
    item(item) {
      let out = item;
      const masked: string[] = [];
      for (const { text, segments } of split) {
        let hit = false;
        const next = apply(out, segments, () => (hit = true));
        // An attribute whose name holds the dots is the same entry, taken literally.
        let literal = next as Record<string, unknown>;
        if (segments.length > 1 && Object.prototype.hasOwnProperty.call(literal, text)) {
          literal = { ...literal, [text]: maskValue(literal[text]) };
          hit = true;
        }
        out = literal;
        if (hit) masked.push(text);
      }
      return { item: out, masked };
    },
  };
}

/** `node` with the value at `segments` masked (through lists: each element); unchanged where absent. */
function apply(node: unknown, segments: readonly string[], onHit: () => void): unknown {
  if (segments.length === 0) {
    onHit();
    return maskValue(node);
  }
  if (Array.isArray(node)) return node.map((element) => apply(element, segments, onHit));
  if (node === null || typeof node !== 'object') return node;
  const [first, ...rest] = segments;
  if (!Object.prototype.hasOwnProperty.call(node, first)) return node;
  const map = node as Record<string, unknown>;
  return { ...map, [first]: apply(map[first], rest, onHit) };
}
