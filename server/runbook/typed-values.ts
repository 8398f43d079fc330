/**
 * DynamoDB JSON as AWS writes it (docs/format.md, "Typed values"): a `dynamodb` block may write its
 * values as the API reference does, each a type descriptor (`{"S": "x"}`, `{"N": "1"}`, `{"M": …}`),
 * instead of plain JSON. The form is settled per request, from the values in its value fields (the
 * `item` and `values` shapes of operations.ts) or forced with the `values` attribute; a request that
 * mixes both forms is a problem, since one of its values would otherwise be stored as a map.
 *
 * Rendering turns typed values into the plain form every later stage reads (policies, images,
 * transcripts), so that there is one request shape. Values plain JSON cannot hold exactly (sets,
 * binary, numbers beyond a double) stay descriptors; their paths travel with the request in
 * `typedValues`, and the executor turns them into SDK values (server/dynamo/values.ts).
 */
import { isAlias, isMap, isScalar, isSeq, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { ValueForm } from './attributes.js';
import type { ValueType } from './template-helpers.js';
import { operations, type FieldShape, type FieldTable, type OperationName } from './operations.js';
import { quote } from './positions.js';
import type { ValuePath } from './types.js';
import { describeNode, keyOf } from './yaml-nodes.js';
import { isRecord } from '../is-record.js';

export const TYPE_NAMES = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'] as const;
export type TypeName = (typeof TYPE_NAMES)[number];

/** A DynamoDB number as text: digits with an optional fraction and exponent. */
const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isTypeName(key: string | undefined): key is TypeName {
  return key !== undefined && (TYPE_NAMES as readonly string[]).includes(key);
}

export function isNumberText(text: string): boolean {
  const m = NUMBER.exec(text);
  return m !== null && (m[2] !== '' || (m[3] ?? '') !== '');
}

export function isBase64(text: string): boolean {
  return BASE64.test(text);
}

/** A number's decimal value as `digits e exponent`, without redundant zeros, to compare two spellings. */
function canonical(text: string): string | undefined {
  const m = NUMBER.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const fraction = m[3] ?? '';
  let digits = (m[2] + fraction).replace(/^0+/, '');
  let exponent = Number(m[4] ?? 0) - fraction.length;
  if (digits === '') return '0';
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exponent++;
  }
  return `${m[1] === '-' ? '-' : ''}${digits}e${exponent}`;
}

/**
 * The JS number a DynamoDB number text stands for, when that number is exactly it (and the
 * Document Client accepts it: safe integers only); else undefined, and the text must be kept.
 */
export function exactNumber(text: string): number | undefined {
  const n = Number(text);
  if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n))) return undefined;
  const written = canonical(text);
  return written !== undefined && written === canonical(String(n)) ? n : undefined;
}

// ---- checking (YAML nodes, with positions)

/** What the typed checker needs from the request validator (server/runbook/request.ts). */
export interface ValueChecker {
  fail(node: unknown, message: string): void;
  /** checks a string's templates; the type of a lone expression, 'string' otherwise, undefined on problems */
  string(node: Scalar, value: string, path: string, literal: false): ValueType | undefined;
  /** checks a plain value */
  plain(node: unknown, path: string, depth: number): void;
}

/** One value of a value field, as found by the validator, before its form is known. */
export interface ValueNode {
  node: unknown;
  path: string;
  depth: number;
}

/** The type name a pair's key spells; YAML reads an unquoted `NULL` as a null, so that counts too. */
function typeKey(pair: Pair): TypeName | undefined {
  const key = keyOf(pair);
  if (isTypeName(key)) return key;
  return isScalar(pair.key) && pair.key.value === null && pair.key.source === 'NULL' ? 'NULL' : undefined;
}

/** True when a node has the shape of a type descriptor: a map of exactly one type name. */
export function looksTyped(node: unknown): boolean {
  return isMap(node) && node.items.length === 1 && typeKey(node.items[0]) !== undefined;
}

const EXAMPLE: Record<TypeName, string> = {
  S: '{"S": "text"}',
  N: '{"N": "42"}',
  B: '{"B": "aGVsbG8="}',
  BOOL: '{"BOOL": true}',
  NULL: '{"NULL": true}',
  M: '{"M": {"name": {"S": "x"}}}',
  L: '{"L": [{"S": "x"}]}',
  SS: '{"SS": ["a", "b"]}',
  NS: '{"NS": ["1", "2"]}',
  BS: '{"BS": ["aGVsbG8="]}',
};

/** A plain value written as the descriptor it most likely means, for messages. */
function typedHint(node: unknown): string {
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return `{"S": ${quote(v, 30)}}`;
    if (typeof v === 'number') return `{"N": "${node.source ?? v}"}`;
    if (typeof v === 'boolean') return `{"BOOL": ${v}}`;
    if (v === null) return '{"NULL": true}';
  }
  return isSeq(node) ? '{"L": […]}' : '{"M": {…}}';
}

/**
 * Settles the form of a request's values and checks each in it. Forced: every value must be in that
 * form. Detected: typed when every value is a type descriptor, plain when none is; with both, the
 * values in the minority form are the problems (the first value decides a tie).
 */
export function settleValues(values: readonly ValueNode[], forced: ValueForm | undefined, checker: ValueChecker, maxDepth: number): ValueForm {
  const typed = values.map((v) => looksTyped(v.node));
  let form: ValueForm;
  if (forced) {
    form = forced;
  } else {
    const count = typed.filter(Boolean).length;
    form = count * 2 > values.length || (count * 2 === values.length && count > 0 && typed[0]) ? 'typed' : 'plain';
    values.forEach((v, i) => {
      if (typed[i] === (form === 'typed')) return;
      checker.fail(
        v.node,
        form === 'typed'
          ? `\`${v.path}\` is a plain value, but the request's other values are typed (DynamoDB JSON): write it as ${typedHint(v.node)}, or write every value plain; \`values=typed\` or \`values=plain\` on the fence says which is meant`
          : `\`${v.path}\` is written typed (DynamoDB JSON), but the request's other values are plain: write it plain, or every value typed; if it is a map attribute that only looks typed, add \`values=plain\` to the fence`,
      );
    });
  }
  const check = new TypedChecker(checker, maxDepth);
  values.forEach((v, i) => {
    if (!forced && typed[i] !== (form === 'typed')) return;
    if (form === 'plain') checker.plain(v.node, v.path, v.depth);
    else check.value(v.node, v.path, v.depth);
  });
  return form;
}

class TypedChecker {
  constructor(
    private readonly v: ValueChecker,
    private readonly maxDepth: number,
  ) {}

  /** Aliases and tags are refused as in plain values. */
  private unsupported(node: unknown, path: string): boolean {
    if (isAlias(node)) {
      this.v.fail(node, `YAML aliases (\`*name\`) are not supported in \`${path}\`; write the value out`);
      return true;
    }
    const tag = (node as { tag?: string } | null)?.tag;
    if (tag) {
      this.v.fail(node, `YAML tags (\`${tag.replace('tag:yaml.org,2002:', '!!')}\`) are not supported in \`${path}\`; write a plain value`);
      return true;
    }
    return false;
  }

  value(node: unknown, path: string, depth: number): void {
    if (this.unsupported(node, path)) return;
    if (!looksTyped(node)) {
      const what = isMap(node) && node.items.length > 1 && node.items.every((p) => typeKey(p) !== undefined) ? 'a map of several types' : describeNode(node);
      return this.v.fail(node, `\`${path}\` must be a type descriptor of one type, like {"S": "text"} or {"N": "42"} (${TYPE_NAMES.join(', ')}), not ${what}`);
    }
    const pair = (node as YAMLMap).items[0];
    const type = typeKey(pair)!;
    const inner = pair.value;
    const at = `${path}.${type}`;
    if (keyOf(pair) !== type) return this.v.fail(pair.key, `\`${at}\`: write "NULL" in quotes; unquoted, YAML reads NULL as a null, not a name`);
    if (this.unsupported(inner, at)) return;
    switch (type) {
      case 'S':
      case 'N':
      case 'B':
        this.scalar(inner, type, at);
        return;
      case 'BOOL': {
        const v = isScalar(inner) ? inner.value : undefined;
        if (typeof v === 'boolean') return;
        if (typeof v === 'string' && v.includes('{{')) {
          const lone = this.v.string(inner as Scalar, v, at, false);
          if (lone === undefined || lone === 'boolean') return;
        }
        return this.v.fail(
          inner ?? node,
          `\`${at}\` must be true or false${typeof v === 'string' && v.includes('{{') ? ': use one template naming a boolean parameter' : `, not ${describeNode(inner)}`}`,
        );
      }
      case 'NULL':
        if (isScalar(inner) && inner.value === true) return;
        return this.v.fail(inner ?? node, `\`${at}\` must be true: DynamoDB writes a null as ${EXAMPLE.NULL}`);
      case 'M': {
        if (!isMap(inner)) return this.v.fail(inner ?? node, `\`${at}\` must be a map of attribute names to type descriptors, like ${EXAMPLE.M}, not ${describeNode(inner)}`);
        if (depth > this.maxDepth) return this.v.fail(node, `\`${path}\` is nested deeper than ${this.maxDepth} levels, DynamoDB's limit for documents`);
        for (const p of inner.items) {
          const key = keyOf(p);
          if (key === undefined) this.v.fail(p.key, `keys in \`${at}\` are attribute names: write a string, not ${describeNode(p.key)}`);
          else if (key.includes('{{')) this.v.fail(p.key, `\`${at}\`: attribute names cannot hold templates; parameters supply values only`);
          else this.value(p.value, `${at}.${key}`, depth + 1);
        }
        return;
      }
      case 'L': {
        if (!isSeq(inner)) return this.v.fail(inner ?? node, `\`${at}\` must be a list of type descriptors, like ${EXAMPLE.L}, not ${describeNode(inner)}`);
        if (depth > this.maxDepth) return this.v.fail(node, `\`${path}\` is nested deeper than ${this.maxDepth} levels, DynamoDB's limit for documents`);
        inner.items.forEach((item, i) => this.value(item, `${at}[${i}]`, depth + 1));
        return;
      }
      case 'SS':
      case 'NS':
      case 'BS': {
        if (!isSeq(inner)) return this.v.fail(inner ?? node, `\`${at}\` must be a list, like ${EXAMPLE[type]}, not ${describeNode(inner)}`);
        if (inner.items.length === 0) return this.v.fail(inner, `\`${at}\` needs at least one member: DynamoDB has no empty sets`);
        const member = type[0] as 'S' | 'N' | 'B';
        const seen = new Set<string>();
        inner.items.forEach((item, i) => {
          if (this.unsupported(item, `${at}[${i}]`)) return;
          if (!this.scalar(item, member, `${at}[${i}]`)) return;
          const v = (item as Scalar).value;
          if (typeof v === 'string' && v.includes('{{')) return;
          const key = member === 'N' ? (canonical(String((item as Scalar).source ?? v)) ?? String(v)) : String(v);
          if (seen.has(key)) this.v.fail(item, `\`${at}\` holds ${quote(String(v))} twice; a set holds each member once`);
          seen.add(key);
        });
        return;
      }
    }
  }

  /** The scalar of an S, N or B descriptor (or of a set's member); true when it is well formed. */
  private scalar(node: unknown, type: 'S' | 'N' | 'B', at: string): boolean {
    const v = isScalar(node) ? node.value : undefined;
    if (type === 'N' && typeof v === 'number') {
      const written = (node as Scalar).source ?? String(v);
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) {
        this.v.fail(node, `\`${at}\`: write ${written} as a string, "${written}", so that no digit is lost`);
        return false;
      }
      return true;
    }
    if (typeof v !== 'string') {
      const hint = type === 'S' && isScalar(node) && v !== null ? ` (quote it: "${node.source ?? JSON.stringify(v)}")` : '';
      this.v.fail(
        node ?? undefined,
        `\`${at}\` must be ${type === 'S' ? 'a string' : type === 'N' ? 'a number written as a string, like "42"' : 'base64 text, like "aGVsbG8="'}, not ${describeNode(node)}${hint}`,
      );
      return false;
    }
    if (v.includes('{{')) {
      const lone = this.v.string(node as Scalar, v, at, false);
      if (lone === undefined) return false;
      if (type === 'N' && lone === 'boolean') {
        this.v.fail(node, `\`${at}\` needs a number, but its template yields true or false`);
        return false;
      }
      return true;
    }
    if (type === 'N' && !isNumberText(v)) {
      this.v.fail(node, `\`${at}\` must be a number written as a string, like "42" or "-1.5", not ${quote(v)}`);
      return false;
    }
    if (type === 'B' && !isBase64(v)) {
      this.v.fail(node, `\`${at}\` must be base64 text (binary values are written base64-encoded), not ${quote(v)}`);
      return false;
    }
    return true;
  }
}

// ---- rendering (JS values, after templates)

function own(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty: an attribute or table named `__proto__` must stay one.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function where(path: ValuePath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

class Renderer {
  /** paths of the descriptors kept as written (sets, binary, inexact numbers) */
  readonly kept: ValuePath[] = [];

  /**
   * A rendered type descriptor as a plain value, or kept. `path` is where the value sits in the
   * plain request, `source` where it is written (with the type names, for messages). Throws an
   * Error naming a value of the wrong kind.
   */
  native(av: unknown, path: ValuePath, source: ValuePath = path): unknown {
    const keys = isRecord(av) ? Object.keys(av) : [];
    if (!isRecord(av) || keys.length !== 1 || !isTypeName(keys[0])) throw new Error(`\`${where(source)}\` is not a type descriptor`);
    const type = keys[0];
    const v = av[type];
    const at = [...source, type];
    switch (type) {
      case 'S':
        return this.text(v, at);
      case 'N': {
        const text = this.number(v, at);
        const n = exactNumber(text);
        if (n !== undefined) return n;
        this.kept.push(path);
        return { N: text };
      }
      case 'B':
        this.kept.push(path);
        return { B: this.binary(v, at) };
      case 'BOOL':
        if (typeof v !== 'boolean') throw new Error(`\`${where(at)}\` must be true or false, not ${quote(String(v))}`);
        return v;
      case 'NULL':
        return null;
      case 'M': {
        if (!isRecord(v)) throw new Error(`\`${where(at)}\` must be a map`);
        const out: Record<string, unknown> = {};
        for (const [key, child] of Object.entries(v)) own(out, key, this.native(child, [...path, key], [...at, key]));
        return out;
      }
      case 'L':
        if (!Array.isArray(v)) throw new Error(`\`${where(at)}\` must be a list`);
        return v.map((child, i) => this.native(child, [...path, i], [...at, i]));
      case 'SS':
      case 'NS':
      case 'BS': {
        if (!Array.isArray(v) || v.length === 0) throw new Error(`\`${where(at)}\` must be a list of at least one member`);
        const members = v.map((m, i) => (type === 'SS' ? this.text(m, [...at, i]) : type === 'NS' ? this.number(m, [...at, i]) : this.binary(m, [...at, i])));
        const seen = new Set<string>();
        members.forEach((m) => {
          // A JS Set would merge duplicates silently where DynamoDB refuses the request: say so instead.
          const key = type === 'NS' ? canonical(m)! : m;
          if (seen.has(key)) throw new Error(`\`${where(at)}\` holds ${quote(m)} twice; a set holds each member once`);
          seen.add(key);
        });
        this.kept.push(path);
        return { [type]: members };
      }
    }
  }

  /** S: text; a template's number or boolean becomes its text, anything else (a list, a map) is refused. */
  private text(v: unknown, at: ValuePath): string {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new Error(`\`${where(at)}\` must be text, but its template yields ${Array.isArray(v) ? 'a list' : v === null ? 'null' : 'a map'}`);
  }

  private number(v: unknown, at: ValuePath): string {
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v === 'string' && isNumberText(v)) return v;
    throw new Error(`\`${where(at)}\` must be a number, not ${typeof v === 'string' ? quote(v) : Array.isArray(v) ? 'a list' : String(v)}`);
  }

  private binary(v: unknown, at: ValuePath): string {
    if (typeof v === 'string' && isBase64(v)) return v;
    throw new Error(`\`${where(at)}\` must be base64 text, not ${typeof v === 'string' ? quote(v) : String(v)}`);
  }

  /** Walks a request by the shapes of operations.ts and turns the values of its value fields. */
  fields(obj: unknown, table: FieldTable, path: ValuePath): unknown {
    if (!isRecord(obj)) return obj;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(obj)) {
      own(out, key, Object.prototype.hasOwnProperty.call(table, key) ? this.shape(value, table[key].shape, [...path, key]) : value);
    }
    return out;
  }

  private shape(value: unknown, shape: FieldShape, path: ValuePath): unknown {
    if (shape === 'item' || shape === 'values') {
      if (!isRecord(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, av] of Object.entries(value)) own(out, key, this.native(av, [...path, key]));
      return out;
    }
    if (typeof shape === 'string' || 'enum' in shape) return value;
    if ('list' in shape) return Array.isArray(value) ? value.map((v, i) => this.shape(v, shape.list, [...path, i])) : value;
    if ('object' in shape) return this.fields(value, shape.object, path);
    if (!isRecord(value)) return value;
    const out: Record<string, unknown> = {};
    if ('map' in shape) {
      for (const [key, v] of Object.entries(value)) own(out, key, this.shape(v, shape.map, [...path, key]));
    } else {
      for (const [key, v] of Object.entries(value))
        own(out, key, Object.prototype.hasOwnProperty.call(shape.oneOf, key) ? this.shape(v, shape.oneOf[key].shape, [...path, key]) : v);
    }
    return out;
  }
}

/**
 * A rendered typed request in plain form: every value of its value fields a plain value, except
 * those plain JSON cannot hold exactly, which stay descriptors at the paths of `typedValues`.
 * Throws an Error naming a value that a template filled with the wrong kind of value.
 */
export function plainRequest(operation: OperationName, input: Record<string, unknown>): { input: Record<string, unknown>; typedValues: ValuePath[] } {
  const renderer = new Renderer();
  const out = renderer.fields(input, operations[operation].fields, []) as Record<string, unknown>;
  return { input: out, typedValues: renderer.kept };
}
