/**
 * Front matter: the YAML between `---` lines at the top of a runbook. Every key is checked, since
 * a misspelt key must not silently change what a runbook may do.
 */
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { isHelperName } from './template-helpers.js';
import { coerceValue } from './params.js';
import { patternProblem } from './pattern.js';
import { checkRedactList } from './redact.js';
import { SourceMap, type LocalProblem } from './positions.js';
import { didYouMean } from './suggest.js';
import { isRoleArn } from '../aws/arn.js';
import { isPrototypeName } from './templates.js';
import type { AccessDecl, ApprovalPolicy, ParamDecl, ParamType, RunbookProblem } from './types.js';
import { describeNode, keyOf, parseYaml, scalarValue, start, yamlProblems } from './yaml-nodes.js';

export const frontMatterKeys = ['title', 'description', 'tags', 'params', 'access', 'redact'] as const;
export const paramKeys = ['type', 'description', 'pattern', 'required', 'default', 'min', 'max', 'values'] as const;
export const paramTypes: readonly ParamType[] = ['string', 'number', 'integer', 'boolean', 'enum', 'date', 'datetime'];
export const accessKeys = ['role', 'duration', 'approval', 'approvalTtl'] as const;
export const approvalPolicies: readonly ApprovalPolicy[] = ['none', 'writes', 'all'];

/** STS AssumeRole accepts DurationSeconds from 900 to 43200. */
export const MIN_DURATION = 900;
export const MAX_DURATION = 43_200;
export const MIN_APPROVAL_TTL = 60;
export const MAX_APPROVAL_TTL = 604_800;
export const DEFAULT_DURATION = 900;

/** The access of a runbook whose front matter says nothing of it: 15-minute sessions, no approval. */
export function defaultAccess(): AccessDecl {
  return { duration: DEFAULT_DURATION, approval: 'none' };
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// `steps` names the outputs of earlier steps in templates (docs/format.md, "Step outputs").
const RESERVED = new Set(['this', 'true', 'false', 'null', 'undefined', 'else', 'steps']);

export interface FrontMatter {
  title?: string;
  description?: string;
  tags: string[];
  params: ParamDecl[];
  access: AccessDecl;
  /** attribute names and dotted paths whose values are masked (docs/format.md, "Redaction") */
  redact?: string[];
}

export interface SplitFrontMatter {
  /** the YAML text, when the file opens with front matter */
  yaml?: string;
  /** index of the first line after the front matter (0 when there is none) */
  bodyStart: number;
  problems: RunbookProblem[];
}

const OPEN = /^---[ \t]*$/;
const CLOSE = /^(?:---|\.\.\.)[ \t]*$/;

/** Separates the front matter (which must begin on line 1) from the Markdown body. */
export function splitFrontMatter(lines: string[], file: string): SplitFrontMatter {
  if (!OPEN.test(lines[0] ?? '')) return { bodyStart: 0, problems: [] };
  for (let i = 1; i < lines.length; i++) {
    if (CLOSE.test(lines[i])) return { yaml: lines.slice(1, i).join('\n'), bodyStart: i + 1, problems: [] };
  }
  return {
    bodyStart: 0,
    problems: [{ file, line: 1, column: 1, message: 'the front matter opened on line 1 is not closed: end it with a `---` line' }],
  };
}

class Reader {
  readonly problems: LocalProblem[] = [];

  fail(node: unknown, message: string, fallback = 0): undefined {
    this.problems.push({ offset: start(node, fallback), message });
    return undefined;
  }

  /**
   * The pairs of a map with plain string keys, reporting the others and unknown keys. `where`
   * names the kind of key ("front-matter key"), `context` where the map is (" in parameter `x`").
   */
  pairs(map: YAMLMap, allowed: readonly string[] | undefined, where: string, context = ''): Array<[string, Pair]> {
    const out: Array<[string, Pair]> = [];
    for (const pair of map.items) {
      const key = keyOf(pair);
      if (key === undefined) {
        this.fail(pair.key, `each ${where}${context} must be a plain name, not ${describeNode(pair.key)}`);
      } else if (allowed && !allowed.includes(key)) {
        this.fail(pair.key, `unknown ${where} \`${key}\`${context}${didYouMean(key, allowed) || `; allowed: ${allowed.join(', ')}`}`);
      } else {
        out.push([key, pair]);
      }
    }
    return out;
  }

  string(node: unknown, what: string, fallback: number): string | undefined {
    const value = scalarValue(node);
    if (typeof value === 'string' && value.trim() !== '') return value;
    return this.fail(node, `${what} must be a non-empty string, not ${describeNode(node)}`, fallback);
  }

  number(node: unknown, what: string, fallback: number): number | undefined {
    const value = scalarValue(node);
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    return this.fail(node, `${what} must be a number, not ${describeNode(node)}`, fallback);
  }

  boolean(node: unknown, what: string, fallback: number): boolean | undefined {
    const value = scalarValue(node);
    if (typeof value === 'boolean') return value;
    return this.fail(node, `${what} must be true or false, not ${describeNode(node)}`, fallback);
  }

  stringList(node: unknown, what: string, fallback: number): string[] | undefined {
    if (!isSeq(node)) return this.fail(node, `${what} must be a list, like \`${what}: [a, b]\`, not ${describeNode(node)}`, fallback);
    const out: string[] = [];
    for (const item of node.items) {
      const value = this.string(item, `each entry of ${what}`, start(node));
      if (value !== undefined) out.push(value);
    }
    return out;
  }
}

/**
 * One parameter declaration. A declaration with problems is still returned (when its name is
 * usable), so that templates naming it are not reported a second time.
 */
function readParam(r: Reader, name: string, pair: Pair, lineOf: (offset: number) => number): ParamDecl | undefined {
  const keyOffset = start(pair.key);
  if (!PARAM_NAME.test(name) || name.startsWith('__') || RESERVED.has(name) || isPrototypeName(name)) {
    return r.fail(
      pair.key,
      `parameter name \`${name}\` is not allowed: use letters, digits and \`_\` (not starting with a digit or \`__\`, at most 64 characters, not a JavaScript or Handlebars keyword, not \`steps\`)`,
    );
  }
  if (isHelperName(name)) return r.fail(pair.key, `parameter name \`${name}\` is the name of a helper; choose another name`);
  if (!isMap(pair.value)) {
    return r.fail(pair.value, `parameter \`${name}\` needs a declaration map, like \`${name}: { type: string }\`, not ${describeNode(pair.value)}`, keyOffset);
  }
  const fields = new Map(r.pairs(pair.value, paramKeys, 'key', ` in parameter \`${name}\``));
  const node = (key: string) => fields.get(key)?.value as Node | null | undefined;
  const at = (key: string) => start(fields.get(key)?.key);

  const typeValue = scalarValue(node('type'));
  if (!fields.has('type')) {
    r.fail(pair.key, `parameter \`${name}\` needs a \`type\`: one of ${paramTypes.join(', ')}`);
    return { name, type: 'string', required: true, line: lineOf(keyOffset) };
  }
  let type: ParamType;
  let ok = true;
  if (typeof typeValue === 'string' && paramTypes.includes(typeValue as ParamType)) {
    type = typeValue as ParamType;
  } else {
    const hint = typeof typeValue === 'string' ? didYouMean(typeValue, paramTypes) : '';
    const shown = typeof typeValue === 'string' ? `\`${typeValue}\`` : describeNode(node('type'));
    r.fail(node('type'), `unknown type ${shown} for parameter \`${name}\`${hint || `; use one of ${paramTypes.join(', ')}`}`, at('type'));
    // Still declared, so that templates naming it are not reported as well; the runbook is invalid.
    type = 'string';
    ok = false;
  }
  const decl: ParamDecl = { name, type, required: true, line: lineOf(keyOffset) };
  const bad = (key: string, message: string) => {
    r.fail(fields.get(key)!.key, message);
    ok = false;
  };

  if (fields.has('description')) {
    const d = r.string(node('description'), 'description', at('description'));
    if (d === undefined) ok = false;
    else decl.description = d;
  }
  if (fields.has('pattern')) {
    if (type !== 'string') bad('pattern', `\`pattern\` applies to string parameters only; \`${name}\` is ${type}`);
    else {
      const p = r.string(node('pattern'), 'pattern', at('pattern'));
      if (p === undefined) ok = false;
      else {
        const problem = patternProblem(p);
        if (problem === undefined) decl.pattern = p;
        else {
          r.fail(node('pattern'), problem);
          ok = false;
        }
      }
    }
  }
  if (fields.has('values')) {
    if (type !== 'enum') bad('values', `\`values\` applies to enum parameters only; \`${name}\` is ${type}`);
    else {
      const values = r.stringList(node('values'), 'values', at('values'));
      if (values === undefined) ok = false;
      else if (values.length === 0) bad('values', `enum parameter \`${name}\` needs at least one value`);
      else if (new Set(values).size !== values.length) bad('values', `the values of \`${name}\` must be unique`);
      else decl.values = values;
    }
  } else if (type === 'enum') {
    r.fail(pair.key, `enum parameter \`${name}\` needs \`values\`, like \`values: [PENDING, SHIPPED]\``);
    ok = false;
  }
  for (const bound of ['min', 'max'] as const) {
    if (!fields.has(bound)) continue;
    if (type !== 'number' && type !== 'integer' && type !== 'string') {
      bad(bound, `\`${bound}\` applies to number, integer and string (length) parameters only; \`${name}\` is ${type}`);
      continue;
    }
    const n = r.number(node(bound), bound, at(bound));
    if (n === undefined) ok = false;
    else if (type === 'string' && (!Number.isSafeInteger(n) || n < 0)) bad(bound, `\`${bound}\` of a string parameter is a length: a whole number of characters, at least 0`);
    else decl[bound] = n;
  }
  if (decl.min !== undefined && decl.max !== undefined && decl.min > decl.max) {
    bad('min', `\`min\` (${decl.min}) is greater than \`max\` (${decl.max})`);
  }
  if (fields.has('required')) {
    const req = r.boolean(node('required'), 'required', at('required'));
    if (req === undefined) ok = false;
    else decl.required = req;
  }
  if (fields.has('default') && ok) {
    const raw = node('default');
    const value = isScalar(raw) ? raw.value : undefined;
    const result = value === undefined || value === null ? { error: `must be a value, not ${describeNode(raw)}` } : coerceValue(decl, value);
    if ('error' in result) {
      const quoteHint = typeof value === 'number' && type !== 'number' && type !== 'integer' ? ` (quote it: \`default: "${value}"\`)` : '';
      r.fail(raw, `the default of \`${name}\` ${result.error}${quoteHint}`, at('default'));
    } else if (fields.has('required') && decl.required) {
      bad('required', `parameter \`${name}\` has a default, so it is never missing: remove \`required: true\``);
    } else {
      decl.default = result.value;
      decl.required = false;
    }
  }
  return decl;
}

function readAccess(r: Reader, node: unknown, fallback: number): AccessDecl {
  const access = defaultAccess();
  if (!isMap(node)) {
    r.fail(node, `access must be a map, like \`access: { approval: writes }\`, not ${describeNode(node)}`, fallback);
    return access;
  }
  for (const [key, pair] of r.pairs(node, accessKeys, 'access key')) {
    const at = start(pair.key);
    if (key === 'role') {
      const role = r.string(pair.value, 'access.role', at);
      if (role !== undefined && !isRoleArn(role)) r.fail(pair.value, `access.role must be an IAM role ARN, like arn:aws:iam::123456789012:role/runbook-runner`);
      else if (role !== undefined) access.role = role;
    } else if (key === 'duration') {
      const d = r.number(pair.value, 'access.duration', at);
      if (d !== undefined && (!Number.isInteger(d) || d < MIN_DURATION || d > MAX_DURATION)) {
        r.fail(pair.value, `access.duration must be a whole number of seconds from ${MIN_DURATION} to ${MAX_DURATION} (STS AssumeRole limits)`);
      } else if (d !== undefined) access.duration = d;
    } else if (key === 'approvalTtl') {
      const ttl = r.number(pair.value, 'access.approvalTtl', at);
      if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < MIN_APPROVAL_TTL || ttl > MAX_APPROVAL_TTL)) {
        r.fail(pair.value, `access.approvalTtl must be a whole number of seconds from ${MIN_APPROVAL_TTL} to ${MAX_APPROVAL_TTL} (one minute to one week)`);
      } else if (ttl !== undefined) access.approvalTtl = ttl;
    } else {
      const value = scalarValue(pair.value);
      if (typeof value === 'string' && approvalPolicies.includes(value as ApprovalPolicy)) access.approval = value as ApprovalPolicy;
      else r.fail(pair.value, `access.approval must be one of ${approvalPolicies.join(', ')}, not ${describeNode(pair.value)}`, at);
    }
  }
  return access;
}

/** `redact: [email, "card.number"]`: each entry placed where it is written. */
function readRedact(r: Reader, node: unknown, fallback: number): string[] | undefined {
  if (!isSeq(node)) return r.fail(node, `redact must be a list of attribute names or dotted paths, like \`redact: [email, "card.number"]\`, not ${describeNode(node)}`, fallback);
  const entries: Array<{ text: string; node: unknown }> = [];
  for (const item of node.items) {
    const value = scalarValue(item);
    // A name YAML reads as a number (`redact: [2024]`) is still a name.
    if (typeof value === 'string' || typeof value === 'number') entries.push({ text: String(value), node: item });
    else r.fail(item, `each entry of redact must be an attribute name or a dotted path, not ${describeNode(item)}`, start(node));
  }
  const { paths, problems } = checkRedactList(entries.map((e) => e.text));
  for (const p of problems) r.fail(entries[Math.min(p.index, entries.length - 1)]?.node ?? node, `redact: ${p.message}`, start(node));
  return paths;
}

/** Reads and checks the front matter. `firstLine` is the file line of the YAML's first line. */
export function readFrontMatter(yaml: string, file: string, firstLine: number): { meta: FrontMatter; problems: RunbookProblem[] } {
  const map = new SourceMap(yaml, firstLine);
  const meta: FrontMatter = { tags: [], params: [], access: defaultAccess() };
  const doc = parseYaml(yaml);
  const syntax = yamlProblems(doc, yaml);
  if (syntax.length > 0) return { meta, problems: syntax.map((p) => map.problem(file, p.offset, p.message)) };
  const r = new Reader();
  const root = doc.contents;
  if (root !== null && !isMap(root)) {
    r.fail(root, `the front matter must be a map of keys (${frontMatterKeys.join(', ')}), not ${describeNode(root)}`);
  } else if (root) {
    for (const [key, pair] of r.pairs(root, frontMatterKeys, 'front-matter key')) {
      const at = start(pair.key);
      switch (key) {
        case 'title':
          meta.title = r.string(pair.value, 'title', at);
          break;
        case 'description':
          meta.description = r.string(pair.value, 'description', at);
          break;
        case 'tags':
          meta.tags = r.stringList(pair.value, 'tags', at) ?? [];
          break;
        case 'params':
          if (!isMap(pair.value)) {
            r.fail(pair.value, `params must map each parameter name to its declaration, like \`params: { customerId: { type: string } }\`, not ${describeNode(pair.value)}`, at);
            break;
          }
          for (const [name, param] of r.pairs(pair.value, undefined, 'parameter name')) {
            const decl = readParam(r, name, param, (offset) => map.at(offset).line);
            if (decl) meta.params.push(decl);
          }
          break;
        case 'access':
          meta.access = readAccess(r, pair.value, at);
          break;
        case 'redact':
          meta.redact = readRedact(r, pair.value, at);
          break;
      }
    }
  }
  return { meta, problems: r.problems.map((p) => map.problem(file, p.offset, p.message)) };
}
