/**
 * `dynamodb` blocks: the YAML (or JSON) request is checked against the per-operation facts in
 * operations.ts, with the position of every offending key or value. Templates may appear in string
 * values only, never in keys, table or index names, expressions or attribute names: a parameter
 * can supply a value, never change which table, attribute or condition a request touches.
 */
import { isAlias, isMap, isScalar, isSeq, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { isOperationName, operationNames, operations, type FieldShape, type FieldTable, type OperationName } from './operations.js';
import type { LocalProblem } from './positions.js';
import { didYouMean } from './suggest.js';
import { checkTemplate, type StepScope } from './templates.js';
import type { ValueType } from './template-helpers.js';
import type { ParamDecl } from './types.js';
import { describeNode, keyOf, parseYaml, start, yamlProblems } from './yaml-nodes.js';
import type { ValueForm } from './attributes.js';
import { settleValues, type ValueNode } from './typed-values.js';

/** DynamoDB nests documents (maps and lists) at most 32 levels deep. */
export const MAX_DEPTH = 32;

const EXPRESSION_FIELDS = ['KeyConditionExpression', 'FilterExpression', 'ConditionExpression', 'UpdateExpression', 'ProjectionExpression'];
const NAME_FIELDS = ['TableName', 'IndexName'];
const VALUE_KEY = /^:[A-Za-z0-9_]+$/;
const NAME_KEY = /^#[A-Za-z0-9_]+$/;

export interface RequestResult {
  operation?: OperationName;
  /** the request without `operation`, templates unrendered; absent when the block has problems */
  request?: Record<string, unknown>;
  /** 'typed' when the request writes its values as DynamoDB JSON (./typed-values.ts) */
  values?: 'typed';
  problems: LocalProblem[];
}

/** A path for a message, cut short when deeply nested. */
function shortPath(path: string): string {
  return path.length > 48 ? `${path.slice(0, 40)}…` : path;
}

type Literal = false | 'expression' | 'name' | 'attribute-name';

class Validator {
  readonly problems: LocalProblem[] = [];
  /** the values of the value fields, checked once their form (plain or typed) is settled */
  readonly values: ValueNode[] = [];

  constructor(
    private readonly text: string,
    private readonly params: ReadonlyMap<string, ParamDecl>,
    private readonly steps?: StepScope,
  ) {}

  fail(node: unknown, message: string, fallback = 0): void {
    this.problems.push({ offset: start(node, fallback), message });
  }

  /** Checks a string's templates; returns the type of a lone expression, 'string' otherwise. */
  string(node: Scalar, value: string, path: string, literal: Literal): ValueType | undefined {
    const info = checkTemplate(value, this.params, this.steps);
    if (!info.templated) return 'string';
    if (literal) {
      const why = {
        expression: `\`${path}\` cannot hold a template: put the value in ExpressionAttributeValues and write its \`:placeholder\` in the expression`,
        name: `\`${path}\` cannot hold a template: table and index names are written out, so the runbook shows what it touches`,
        'attribute-name': `\`${path}\` cannot hold a template: attribute names are written out; parameters supply values only`,
      }[literal];
      this.fail(node, why);
      return undefined;
    }
    for (const p of info.problems) this.problems.push({ offset: this.sourceOffset(node, value, p.offset), message: p.message });
    if (info.problems.length > 0) return undefined;
    return info.lone ?? 'string';
  }

  /** The offset in the block of a position inside a scalar's value (quotes and escapes shift it). */
  private sourceOffset(node: Scalar, value: string, offset: number): number {
    const [from, to] = node.range ?? [0, 0];
    const source = this.text.slice(from, to);
    const close = value.indexOf('}}', offset);
    const fragment = value.slice(offset, close === -1 ? offset + 2 : close + 2);
    const at = source.indexOf(fragment, Math.min(offset, source.length));
    const found = at !== -1 ? at : source.indexOf(fragment);
    return from + (found === -1 ? 0 : found);
  }

  /** A plain value (an attribute value): any scalar, list or map, nested at most 32 levels. */
  /** Aliases and explicit tags (`!!binary`) are refused: values are plain YAML or JSON. */
  private unsupported(node: unknown, path: string): boolean {
    if (isAlias(node)) {
      this.fail(node, `YAML aliases (\`*name\`) are not supported in \`${path}\`; write the value out`);
      return true;
    }
    const tag = (node as { tag?: string } | null)?.tag;
    if (tag) {
      this.fail(node, `YAML tags (\`${tag.replace('tag:yaml.org,2002:', '!!')}\`) are not supported in \`${path}\`; write a plain value`);
      return true;
    }
    return false;
  }

  plain(node: unknown, path: string, depth: number): void {
    if (this.unsupported(node, path)) return;
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'string') this.string(node, v, path, false);
      else if (typeof v === 'number') this.number(node, v, path);
      return;
    }
    if (depth > MAX_DEPTH) return this.fail(node, `\`${shortPath(path)}\` is nested deeper than ${MAX_DEPTH} levels, DynamoDB's limit for documents`);
    if (isSeq(node)) {
      node.items.forEach((item, i) => this.plain(item, `${path}[${i}]`, depth + 1));
    } else if (isMap(node)) {
      for (const pair of node.items) {
        const key = this.attributeKey(pair, path);
        if (key !== undefined) this.plain(pair.value, `${path}.${key}`, depth + 1);
      }
    } else {
      this.fail(node, `\`${path}\` holds an unsupported value`);
    }
  }

  private number(node: Scalar, v: number, path: string): void {
    const written = node.source ?? String(v);
    if (!Number.isFinite(v)) this.fail(node, `\`${path}\` must be a finite number, not ${written}`);
    else if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
      this.fail(node, `\`${path}\`: ${written} is too large to be held exactly as a number; quote it to store a string`);
    }
  }

  /** A map key naming an attribute: a plain string without templates. */
  private attributeKey(pair: Pair, path: string): string | undefined {
    const key = keyOf(pair);
    if (key === undefined) {
      this.fail(pair.key, `keys in \`${path}\` are attribute names: write a string (quote \`${String((pair.key as Scalar | null)?.value)}\`), not ${describeNode(pair.key)}`);
      return undefined;
    }
    if (key.includes('{{')) {
      this.fail(pair.key, `\`${path}\`: attribute names cannot hold templates; parameters supply values only`);
      return undefined;
    }
    return key;
  }

  /** Checks a node against a field shape from operations.ts. */
  field(node: unknown, shape: FieldShape, path: string, literal: Literal): void {
    if (this.unsupported(node, path)) return;
    if (typeof shape === 'string') return this.simple(node, shape, path, literal);
    if ('enum' in shape) {
      const v = isScalar(node) ? node.value : undefined;
      if (typeof v === 'string' && v.includes('{{')) return this.fail(node, `\`${path}\` cannot hold a template: write one of ${shape.enum.join(', ')}`);
      if (typeof v !== 'string' || !shape.enum.includes(v)) {
        return this.fail(node, `\`${path}\` must be one of ${shape.enum.join(', ')}, not ${describeNode(node)}`);
      }
      return;
    }
    if ('list' in shape) {
      if (!isSeq(node)) return this.fail(node, `\`${path}\` must be a list, not ${describeNode(node)}`);
      const n = node.items.length;
      if (shape.minItems !== undefined && n < shape.minItems) return this.fail(node, `\`${path}\` needs at least ${shape.minItems} entr${shape.minItems === 1 ? 'y' : 'ies'}`);
      if (shape.maxItems !== undefined && n > shape.maxItems) return this.fail(node, `\`${path}\` holds ${n} entries; DynamoDB accepts at most ${shape.maxItems}`);
      node.items.forEach((item, i) => this.field(item, shape.list, `${path}[${i}]`, literal));
      return;
    }
    if (!isMap(node)) return this.fail(node, `\`${path}\` must be a map, not ${describeNode(node)}`);
    if ('map' in shape) {
      if (node.items.length === 0) return this.fail(node, `\`${path}\` needs at least one entry`);
      for (const pair of node.items) {
        const key = keyOf(pair);
        if (key === undefined || key.includes('{{')) this.fail(pair.key, `keys of \`${path}\` are table names, written out as plain strings`);
        else this.field(pair.value, shape.map, `${path}.${key}`, false);
      }
      return;
    }
    if ('object' in shape) return this.object(node, shape.object, path);
    // oneOf: exactly one member (TransactItems entries, WriteRequest).
    const members = Object.keys(shape.oneOf);
    if (node.items.length !== 1) {
      return this.fail(node, `each entry of \`${path.replace(/\[\d+\]$/, '')}\` holds exactly one of ${members.join(', ')}`);
    }
    const pair = node.items[0];
    const key = keyOf(pair);
    if (key === undefined || !Object.prototype.hasOwnProperty.call(shape.oneOf, key)) {
      return this.fail(pair.key, `\`${path}\` must be one of ${members.join(', ')}, not \`${key ?? describeNode(pair.key)}\`${key ? didYouMean(key, members) : ''}`);
    }
    this.field(pair.value, shape.oneOf[key].shape, `${path}.${key}`, false);
  }

  private simple(node: unknown, shape: 'string' | 'integer' | 'boolean' | 'item' | 'values' | 'names', path: string, literal: Literal): void {
    switch (shape) {
      case 'string': {
        const v = isScalar(node) ? node.value : undefined;
        if (typeof v !== 'string') return this.fail(node, `\`${path}\` must be a string, not ${describeNode(node)}`);
        if (v.trim() === '') return this.fail(node, `\`${path}\` must not be empty`);
        const type = this.string(node as Scalar, v, path, literal);
        if (type !== undefined && type !== 'string')
          this.fail(node, `\`${path}\` must be a string, but its template yields ${type === 'integer' ? 'a whole number' : `a ${type}`}`);
        return;
      }
      case 'integer':
      case 'boolean': {
        const v = isScalar(node) ? node.value : undefined;
        const ok = shape === 'integer' ? typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 : typeof v === 'boolean';
        if (ok) return;
        if (typeof v === 'string' && v.includes('{{')) {
          // A lone expression keeps its parameter's type: `Limit: "{{limit}}"` with an integer parameter.
          const type = this.string(node as Scalar, v, path, false);
          if (type === undefined || type === shape) return;
          return this.fail(
            node,
            `\`${path}\` needs ${shape === 'integer' ? 'a whole number' : 'true or false'}: use exactly one template naming ${shape === 'integer' ? 'an integer' : 'a boolean'} parameter, like "{{limit}}"`,
          );
        }
        const unquote = typeof v === 'string' && (shape === 'integer' ? /^\d+$/.test(v) : v === 'true' || v === 'false') ? ` (write ${v} without quotes)` : '';
        return this.fail(node, `\`${path}\` must be ${shape === 'integer' ? 'a whole number, at least 0' : 'true or false'}, not ${describeNode(node)}${unquote}`);
      }
      case 'item':
        if (!isMap(node)) return this.fail(node, `\`${path}\` must be a map of attribute names to values, not ${describeNode(node)}`);
        if (node.items.length === 0) return this.fail(node, `\`${path}\` needs at least one attribute`);
        for (const pair of node.items) {
          const key = this.attributeKey(pair, path);
          if (key !== undefined) this.values.push({ node: pair.value, path: `${path}.${key}`, depth: 2 });
        }
        return;
      case 'values':
      case 'names': {
        if (!isMap(node)) return this.fail(node, `\`${path}\` must be a map, not ${describeNode(node)}`);
        const [pattern, example] = shape === 'values' ? [VALUE_KEY, '":pk"'] : [NAME_KEY, '"#status"'];
        for (const pair of node.items) {
          const key = keyOf(pair);
          if (key === undefined || !pattern.test(key)) {
            this.fail(pair.key, `keys of \`${path}\` are placeholders like ${example} (quoted in YAML), not ${key === undefined ? describeNode(pair.key) : JSON.stringify(key)}`);
          } else if (shape === 'values') {
            this.values.push({ node: pair.value, path: `${path}.${key}`, depth: 1 });
          } else {
            this.field(pair.value, 'string', `${path}.${key}`, 'attribute-name');
          }
        }
        return;
      }
    }
  }

  /** A map of named fields: unknown and missing required fields, then placeholder consistency. */
  object(map: YAMLMap, table: FieldTable, path: string, skip?: string, missingAt?: unknown): void {
    const present = new Map<string, Pair>();
    const names = Object.keys(table);
    for (const pair of map.items) {
      const key = keyOf(pair);
      if (key === skip && key !== undefined) continue;
      const where = path ? `\`${path}\`` : 'the request';
      if (key === undefined) {
        this.fail(pair.key, `field names in ${where} are plain names, not ${describeNode(pair.key)}`);
        continue;
      }
      if (!Object.prototype.hasOwnProperty.call(table, key)) {
        this.fail(pair.key, `unknown field \`${key}\` in ${where}${didYouMean(key, names) || `; fields: ${names.join(', ')}`}`);
        continue;
      }
      present.set(key, pair);
      const literal: Literal = EXPRESSION_FIELDS.includes(key) ? 'expression' : NAME_FIELDS.includes(key) ? 'name' : false;
      this.field(pair.value, table[key].shape, path ? `${path}.${key}` : key, literal);
    }
    let complete = true;
    for (const [key, fact] of Object.entries(table)) {
      if (fact.required && !present.has(key)) {
        this.fail(missingAt ?? map, `${path ? `\`${path}\`` : 'the request'} needs \`${key}\`: add it`);
        complete = false;
      }
    }
    // With a required expression missing, "unused placeholder" reports would only repeat that.
    if (complete) this.placeholders(present);
  }

  /** DynamoDB rejects placeholders used but not defined, and definitions no expression uses. */
  private placeholders(fields: Map<string, Pair>): void {
    const used = { values: new Set<string>(), names: new Set<string>() };
    for (const name of EXPRESSION_FIELDS) {
      const node = fields.get(name)?.value;
      const text = isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
      if (text === undefined || text.includes('{{')) continue;
      const unknown = { values: [] as string[], names: [] as string[] };
      for (const m of text.matchAll(/[:#][A-Za-z0-9_]+/g)) {
        const kind = m[0][0] === ':' ? 'values' : 'names';
        used[kind].add(m[0]);
        if (!this.defined(fields, kind, m[0])) unknown[kind].push(m[0]);
      }
      for (const [kind, list] of Object.entries(unknown)) {
        for (const p of new Set(list)) {
          const where = kind === 'values' ? 'ExpressionAttributeValues' : 'ExpressionAttributeNames';
          this.fail(node, `\`${p}\` is used in ${name} but not defined: add it under ${where}`);
        }
      }
    }
    for (const kind of ['values', 'names'] as const) {
      const field = kind === 'values' ? 'ExpressionAttributeValues' : 'ExpressionAttributeNames';
      const map = fields.get(field)?.value;
      if (!isMap(map)) continue;
      for (const pair of map.items) {
        const key = keyOf(pair);
        if (key !== undefined && (kind === 'values' ? VALUE_KEY : NAME_KEY).test(key) && !used[kind].has(key)) {
          this.fail(pair.key, `\`${key}\` is not used by any expression, and DynamoDB rejects unused ${field}: remove it`);
        }
      }
    }
  }

  private defined(fields: Map<string, Pair>, kind: 'values' | 'names', placeholder: string): boolean {
    const map = fields.get(kind === 'values' ? 'ExpressionAttributeValues' : 'ExpressionAttributeNames')?.value;
    return isMap(map) && map.items.some((pair) => keyOf(pair) === placeholder);
  }
}

/**
 * Reads and checks a `dynamodb` block's body. Offsets in problems are inside `body`. `form` is the
 * block's `values` attribute: the form of its values when given, else detected.
 */
export function readRequest(body: string, params: ReadonlyMap<string, ParamDecl>, steps?: StepScope, form?: ValueForm): RequestResult {
  if (body.trim() === '') {
    return { problems: [{ offset: 0, message: `empty dynamodb block: write \`operation:\` (one of ${operationNames.join(', ')}) and the request fields` }] };
  }
  // JSON indented with tabs is valid JSON but not valid YAML; a space keeps every offset in place.
  const text = /^\s*\{/.test(body) ? body.replace(/\t/g, ' ') : body;
  const doc = parseYaml(text);
  const syntax = yamlProblems(doc, text);
  if (syntax.length > 0) return { problems: syntax };
  const v = new Validator(text, params, steps);
  const root = doc.contents;
  if (!isMap(root)) {
    v.fail(root, `a dynamodb block holds one request: a map with \`operation\` and the request fields, not ${describeNode(root)}`);
    return { problems: v.problems };
  }
  const opPair = root.items.find((pair) => keyOf(pair) === 'operation');
  const opName = isScalar(opPair?.value) ? opPair.value.value : undefined;
  let operation: OperationName | undefined;
  if (!opPair) {
    v.fail(root, `the request needs \`operation\`: one of ${operationNames.join(', ')}`);
  } else if (typeof opName !== 'string' || !isOperationName(opName)) {
    const hint = typeof opName === 'string' ? didYouMean(opName, operationNames) : '';
    v.fail(opPair.value, `unknown operation ${describeNode(opPair.value).replace(/^the string /, '')}${hint || `; operations: ${operationNames.join(', ')}`}`, start(opPair.key));
  } else {
    operation = opName;
    v.object(root, operations[opName].fields, '', 'operation', opPair.value);
  }
  const values = operation ? settleValues(v.values, form, v, MAX_DEPTH) : undefined;
  if (!operation || v.problems.length > 0) return { operation, problems: v.problems };
  const request = doc.toJS({ maxAliasCount: 0 }) as Record<string, unknown>;
  delete request.operation;
  return { operation, request, ...(values === 'typed' ? { values } : {}), problems: [] };
}
