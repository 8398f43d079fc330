/**
 * Reading YAML (front matter and `dynamodb` blocks) as a node tree with source ranges, so that
 * every problem points at the offending key or value. YAML 1.2 core schema: `yes` stays a string,
 * dates stay strings; JSON is read by the same parser, since JSON is YAML.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Pair } from 'yaml';
import type { LocalProblem } from './positions.js';

/** Parses one YAML document with source ranges; problems are in `errors` and `warnings`. */
export function parseYaml(text: string): Document.Parsed {
  return parseDocument(text, {
    prettyErrors: false,
    uniqueKeys: true,
    version: '1.2',
    schema: 'core',
    strict: true,
  });
}

/** Syntax errors and warnings (an unknown `!tag`) as problems with messages that say what to do. */
export function yamlProblems(doc: Document.Parsed, text: string): LocalProblem[] {
  // One syntax error usually causes more on the same line; the first one says what to fix.
  const lines = new Set<number>();
  const first = [...doc.errors, ...doc.warnings].filter((e) => {
    const line = text.slice(0, e.pos[0]).split('\n').length;
    if (lines.has(line)) return false;
    lines.add(line);
    return true;
  });
  return first.map((e) => {
    const offset = e.pos[0];
    switch (e.code) {
      case 'DUPLICATE_KEY':
        return { offset, message: `\`${keyText(text, offset)}\` appears twice in the same map; keep one` };
      case 'MULTIPLE_DOCS':
        return { offset, message: 'only one YAML document is allowed here; remove the extra `---` line' };
      case 'TAB_AS_INDENT':
        return { offset, message: 'YAML cannot be indented with tabs; indent with spaces' };
      case 'TAG_RESOLVE_FAILED':
        return { offset, message: `YAML tags like \`${text.slice(e.pos[0], e.pos[1])}\` are not supported; write a plain value` };
      case 'RESOURCE_EXHAUSTION':
        return { offset, message: 'the YAML is nested too deeply to read' };
      default:
        return { offset, message: `YAML syntax error: ${e.message.replace(/\s+/g, ' ').replace(/\.?$/, '')}` };
    }
  });
}

function keyText(text: string, offset: number): string {
  return /^[^:\n]*/
    .exec(text.slice(offset))![0]
    .trim()
    .replace(/^["']|["']$/g, '');
}

/** Where a node starts (its first character), or where its pair's key starts when it is empty. */
export function start(node: unknown, fallback = 0): number {
  const range = (node as Node | null)?.range;
  return range ? range[0] : fallback;
}

/** The key of a pair as text, or undefined when it is not a plain scalar. */
export function keyOf(pair: Pair): string | undefined {
  const key = pair.key;
  if (!isScalar(key)) return undefined;
  return typeof key.value === 'string' ? key.value : undefined;
}

/** A node in words, for "must be a string, not …" messages. */
export function describeNode(node: unknown): string {
  if (node === null || node === undefined) return 'empty';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isAlias(node)) return 'an alias';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'empty (null)';
    if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    if (typeof v === 'number') return `the number ${v}`;
    if (typeof v === 'boolean') return `\`${v}\``;
  }
  return 'an unsupported value';
}

/** The value of a scalar node, or undefined for anything else. */
export function scalarValue(node: unknown): unknown {
  return isScalar(node) ? node.value : undefined;
}
