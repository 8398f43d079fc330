/**
 * Templates: Handlebars expressions inside string values and PartiQL statements. The checker walks
 * Handlebars' own AST, so it sees exactly what the renderer will run: every name must be a declared
 * parameter, one of the helpers in template-helpers.ts (with arguments of the right type), or an earlier
 * step's output (`{{steps.<step>.first.<attribute>}}`, `{{steps.<step>.all.<attribute>}}`: see
 * docs/format.md, "Step outputs"). The renderer is a private Handlebars instance in strict mode,
 * without escaping (values go to DynamoDB, not HTML), with only our helpers known.
 */
import Handlebars from 'handlebars';
import { helpers, helperNames, isHelperName, type HelperFact, type ValueType } from './template-helpers.js';
import { redactedBy } from './redact.js';
import type { LocalProblem } from './positions.js';
import { didYouMean } from './suggest.js';
import type { ParamDecl, ParamType, ParamValues } from './types.js';

type Node = hbs.AST.Node;
type Expression = hbs.AST.Expression;

/** The steps a template may take outputs from: those above it; the others only for messages. */
export interface StepScope {
  earlier: ReadonlySet<string>;
  all: ReadonlySet<string>;
  /** the runbook's `redact` list: outputs it masks cannot be used */
  redacted?: readonly string[];
}

/** A reference to an earlier step's output: the first item's attribute, or the attribute over all items. */
export interface OutputRef {
  step: string;
  kind: 'first' | 'all';
  /** the attribute, then keys into nested maps */
  path: string[];
}

/** Why a step output that redaction masks cannot be used (check and run say the same). */
export function redactedOutputMessage(ref: string, entry: string): string {
  return `\`${ref}\` is redacted (\`${entry}\`): its value is never kept, so no step can use it; take an attribute that is not redacted, such as the item's key`;
}

/** `steps.<step>.<first|all>.<attribute>…` as written. */
export function outputRefText(ref: OutputRef): string {
  return `steps.${ref.step}.${ref.kind}.${ref.path.join('.')}`;
}

/** The name under which step outputs are given to templates: a parameter cannot be called so. */
export const OUTPUTS = 'steps';

const NO_STEPS: StepScope = { earlier: new Set(), all: new Set() };

export interface TemplateInfo {
  /** true when the text holds at least one expression */
  templated: boolean;
  /** when the text is exactly one expression: the type of the value it yields */
  lone?: ValueType;
  /** offsets are inside the text */
  problems: LocalProblem[];
}

/** The template value type of a parameter: dates, datetimes and enums are strings. */
export function paramValueType(type: ParamType): ValueType {
  return type === 'number' || type === 'integer' || type === 'boolean' ? type : 'string';
}

const NO_TEMPLATE: TemplateInfo = { templated: false, problems: [] };
const CACHE_LIMIT = 10_000;
const parsed = new Map<string, hbs.AST.Program | Error>();

function parse(text: string): hbs.AST.Program | Error {
  let ast = parsed.get(text);
  if (ast === undefined) {
    try {
      ast = Handlebars.parse(text);
    } catch (err) {
      ast = err instanceof Error ? err : new Error(String(err));
    }
    if (parsed.size >= CACHE_LIMIT) parsed.clear();
    parsed.set(text, ast);
  }
  return ast;
}

/** Handlebars' parser slows down sharply with nesting; no useful template nests this deep. */
const MAX_NESTING = 8;

/** The offset of the first `(` nested deeper than MAX_NESTING inside a mustache, if any. */
function tooDeep(text: string): number | undefined {
  let inside = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (!inside && text.startsWith('{{', i)) {
      inside = true;
      depth = 0;
    } else if (inside && text.startsWith('}}', i)) {
      inside = false;
    } else if (inside && text[i] === '(' && ++depth > MAX_NESTING) {
      return i;
    } else if (inside && text[i] === ')') {
      depth--;
    }
  }
  return undefined;
}

/** Names that would reach Object.prototype through a lookup. */
export function isPrototypeName(name: string): boolean {
  return name in Object.prototype || name === 'prototype' || name === '__proto__';
}

class Checker {
  readonly problems: LocalProblem[] = [];
  private readonly lineStarts: number[] = [0];

  constructor(
    private readonly text: string,
    private readonly params: ReadonlyMap<string, ParamDecl>,
    private readonly steps: StepScope,
  ) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  private offset(node: Node): number {
    const start = node.loc?.start;
    return start ? (this.lineStarts[start.line - 1] ?? 0) + start.column : 0;
  }

  private fail(node: Node, message: string): undefined {
    this.problems.push({ offset: this.offset(node), message });
    return undefined;
  }

  statement(node: Node): ValueType | undefined {
    switch (node.type) {
      case 'ContentStatement':
        return undefined;
      case 'MustacheStatement': {
        const m = node as hbs.AST.MustacheStatement;
        return this.call(m, m.path, m.params, m.hash);
      }
      case 'BlockStatement':
      case 'DecoratorBlock':
        return this.fail(node, 'block helpers (`{{#…}}`) are not supported: a template is `{{param}}` or `{{helper arg}}`');
      case 'PartialStatement':
      case 'PartialBlockStatement':
        return this.fail(node, 'partials (`{{> …}}`) are not supported: a template is `{{param}}` or `{{helper arg}}`');
      case 'CommentStatement':
        return this.fail(node, 'template comments (`{{! … }}`) are not supported; put comments in the prose');
      case 'Decorator':
        return this.fail(node, 'decorators (`{{* …}}`) are not supported: a template is `{{param}}` or `{{helper arg}}`');
      default:
        return this.fail(node, `unsupported template construct (${node.type})`);
    }
  }

  /** A mustache or sub-expression: a parameter, or a helper applied to arguments. */
  private call(node: Node, path: Expression, params: Expression[], hash: hbs.AST.Hash | undefined): ValueType | undefined {
    if (hash && hash.pairs.length > 0) {
      return this.fail(hash, `named arguments (\`${hash.pairs[0].key}=…\`) are not supported; pass arguments in order`);
    }
    if (isOutputPath(path)) {
      if (params.length > 0) return this.fail(node, `\`${(path as hbs.AST.PathExpression).original}\` is a step's output, not a helper: it takes no arguments`);
      return this.output(path as hbs.AST.PathExpression);
    }
    const name = this.name(path);
    if (name === undefined) return undefined;
    if (isHelperName(name)) return this.helper(node, name, helpers[name], params);
    if (params.length > 0) {
      return this.fail(node, `\`${name}\` is a parameter, not a helper: it takes no arguments (helpers: ${helperNames.join(', ')})`);
    }
    return paramValueType(this.params.get(name)!.type);
  }

  /** The plain name a path expression stands for, or a problem. */
  private name(path: Expression): string | undefined {
    if (path.type !== 'PathExpression') {
      return this.fail(path, 'a template must name a parameter or a helper, like `{{customerId}}` or `{{daysAgo days}}`');
    }
    const p = path as hbs.AST.PathExpression;
    if (p.data) return this.fail(path, `\`@${p.original.replace(/^@/, '')}\` is not available in templates: name a declared parameter`);
    if (p.depth > 0 || p.parts.length !== 1 || p.original !== p.parts[0]) {
      return this.fail(path, `\`${p.original}\` is not a plain name: write a declared parameter, like \`{{customerId}}\``);
    }
    const name = p.parts[0];
    if (isPrototypeName(name)) return this.fail(path, `\`${name}\` cannot be used in a template`);
    if (!isHelperName(name) && !this.params.has(name)) {
      const hint = didYouMean(name, [...this.params.keys(), ...helperNames]);
      return this.fail(
        path,
        hint
          ? `unknown parameter \`${name}\`${hint}`
          : `\`${name}\` is neither a declared parameter nor a helper: declare it under \`params:\` in the front matter, or use a helper (${helperNames.join(', ')})`,
      );
    }
    return name;
  }

  /**
   * An earlier step's output: `steps.<step>.first.<attribute>` or `steps.<step>.all.<attribute>`.
   * Its type is known only when it runs, so it is not checked against a helper's arguments.
   */
  private output(p: hbs.AST.PathExpression): undefined {
    const usage = `write \`{{steps.<step>.first.<attribute>}}\` (the first item's) or \`{{steps.<step>.all.<attribute>}}\` (the list over every item)`;
    if (p.depth > 0 || p.original !== p.parts.join('.') || p.parts.some((part) => part === '' || isPrototypeName(part))) {
      return this.fail(p, `\`${p.original}\` is not a step output path: ${usage}`);
    }
    const [, step, kind, ...path] = p.parts;
    if (!this.steps.earlier.has(step)) {
      if (this.steps.all.has(step)) return this.fail(p, `step \`${step}\` comes at or after this one: a step can use the output of the steps above it only`);
      const hint = didYouMean(step, [...this.steps.earlier]);
      return this.fail(p, `no step named \`${step}\` above this one${hint}`);
    }
    if (kind !== 'first' && kind !== 'all') return this.fail(p, `\`${p.original}\`: after the step's name comes \`first\` or \`all\`; ${usage}`);
    if (path.length === 0) return this.fail(p, `\`${p.original}\` names no attribute: ${usage}`);
    if (kind === 'all' && path.length > 1) return this.fail(p, `\`${p.original}\`: \`all\` takes one attribute, the list of its values over every item`);
    const redacted = redactedBy(path, this.steps.redacted ?? []);
    if (redacted !== undefined) return this.fail(p, redactedOutputMessage(p.original, redacted));
    return undefined;
  }

  private helper(node: Node, name: string, fact: HelperFact, params: Expression[]): ValueType | undefined {
    const min = fact.minArgs ?? fact.args.length;
    const max = fact.rest ? Infinity : fact.args.length;
    if (params.length < min || params.length > max) {
      const wanted = max === Infinity ? `at least ${min} arguments` : min === 0 ? 'no arguments' : `${min} argument${min === 1 ? '' : 's'}`;
      return this.fail(node, `\`${name}\` takes ${wanted}, got ${params.length}: ${fact.usage}`);
    }
    params.forEach((arg, i) => {
      const accepted = fact.args[i] ?? fact.rest ?? [];
      const actual = this.argument(arg);
      if (actual !== undefined && !accepted.includes(actual) && !(actual === 'integer' && accepted.includes('number'))) {
        this.fail(arg, `argument ${i + 1} of \`${name}\` must be ${accepted.map(article).join(' or ')}, not ${article(actual)}: ${fact.usage}`);
      }
    });
    return fact.returns;
  }

  private argument(arg: Expression): ValueType | undefined {
    switch (arg.type) {
      case 'StringLiteral':
        return 'string';
      case 'NumberLiteral':
        return Number.isSafeInteger((arg as hbs.AST.NumberLiteral).value) ? 'integer' : 'number';
      case 'BooleanLiteral':
        return 'boolean';
      case 'PathExpression': {
        if (isOutputPath(arg)) return this.output(arg as hbs.AST.PathExpression);
        const name = this.name(arg);
        if (name === undefined) return undefined;
        if (isHelperName(name)) {
          // A bare helper name as an argument is a lookup, not a call: Handlebars needs parentheses.
          return this.fail(arg, `write \`(${name} …)\` in parentheses to call a helper inside an argument`);
        }
        return paramValueType(this.params.get(name)!.type);
      }
      case 'SubExpression': {
        const s = arg as hbs.AST.SubExpression;
        return this.call(arg, s.path, s.params, s.hash);
      }
      default:
        return this.fail(arg, '`null` and `undefined` are not template values');
    }
  }
}

function article(type: ValueType): string {
  return { string: 'a string', number: 'a number', integer: 'a whole number', boolean: 'true or false' }[type];
}

function parseProblem(text: string): LocalProblem {
  // Handlebars reports "Parse error on line N: … Expecting …"; name the likely cause instead.
  for (let open = text.indexOf('{{'); open !== -1; open = text.indexOf('{{', open + 2)) {
    if (text.indexOf('}}', open + 2) === -1) {
      return { offset: open, message: 'template `{{` is not closed: write `{{param}}`, or `\\{{` for literal braces' };
    }
  }
  const open = Math.max(0, text.indexOf('{{'));
  const shown = text.slice(open, text.indexOf('}}', open) + 2);
  if (/^\{\{~?\s*[#^/]|^\{\{~?\s*else\b/.test(shown)) {
    return { offset: open, message: 'block helpers (`{{#…}}`) are not supported: a template is `{{param}}` or `{{helper arg}}`' };
  }
  return { offset: open, message: `invalid template \`${shown.length > 40 ? `${shown.slice(0, 40)}…` : shown}\`: write \`{{param}}\` or \`{{helper arg}}\`` };
}

/**
 * Checks the templates in one string: every name a declared parameter or a helper, helpers with
 * arguments of the right type, no blocks, partials, data variables or paths.
 */
export function checkTemplate(text: string, params: ReadonlyMap<string, ParamDecl>, steps: StepScope = NO_STEPS): TemplateInfo {
  if (!text.includes('{{')) return NO_TEMPLATE;
  const deep = tooDeep(text);
  if (deep !== undefined) {
    return { templated: true, problems: [{ offset: deep, message: `helpers are nested more than ${MAX_NESTING} deep; simplify the template` }] };
  }
  const ast = parse(text);
  if (ast instanceof Error) return { templated: true, problems: [parseProblem(text)] };
  const checker = new Checker(text, params, steps);
  const types = ast.body.map((node) => checker.statement(node));
  const templated = ast.body.some((node) => node.type !== 'ContentStatement');
  const lone = ast.body.length === 1 && ast.body[0].type === 'MustacheStatement' ? types[0] : undefined;
  return { templated, lone, problems: checker.problems };
}

// ---- rendering

const hb = Handlebars.create();
// Only our helpers exist: the built-ins (`lookup`, `with`, `each`, `log`, …) could walk objects.
for (const builtin of ['if', 'unless', 'each', 'with', 'log', 'lookup']) hb.unregisterHelper(builtin);
for (const [name, fact] of Object.entries(helpers)) {
  hb.registerHelper(name, function (this: unknown, ...args: unknown[]) {
    const options = args.pop() as Handlebars.HelperOptions;
    return fact.fn((options.data as { now: Date }).now, args);
  });
}

const knownHelpers: Record<string, boolean> = { if: false, unless: false, each: false, with: false, log: false, lookup: false };
for (const name of helperNames) knownHelpers[name] = true;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

function compile(text: string): Handlebars.TemplateDelegate {
  let template = compiled.get(text);
  if (!template) {
    template = hb.compile(text, { strict: true, noEscape: true, knownHelpersOnly: true, knownHelpers });
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(text, template);
  }
  return template;
}

function usedNames(node: unknown, into: Set<string>, outputs?: OutputRef[]): Set<string> {
  if (Array.isArray(node)) {
    for (const child of node) usedNames(child, into, outputs);
  } else if (node !== null && typeof node === 'object') {
    const n = node as { type?: string; parts?: string[]; original?: string; loc?: unknown };
    if (n.type === 'PathExpression' && n.parts?.length === 1 && !isHelperName(n.parts[0])) into.add(n.parts[0]);
    if (n.type === 'PathExpression' && isOutputPath(node as Expression) && n.parts!.length >= 4) {
      const [, step, kind, ...path] = n.parts!;
      outputs?.push({ step, kind: kind as OutputRef['kind'], path });
    }
    for (const [key, value] of Object.entries(node)) if (key !== 'loc') usedNames(value, into, outputs);
  }
  return into;
}

function isOutputPath(path: Expression): boolean {
  const p = path as hbs.AST.PathExpression;
  return p.type === 'PathExpression' && !p.data && p.parts.length > 1 && p.parts[0] === OUTPUTS;
}

/** The step outputs a text's templates use, in order (duplicates kept); none for text that does not parse. */
export function outputRefs(text: string): OutputRef[] {
  if (!text.includes('{{')) return [];
  const ast = parse(text);
  if (ast instanceof Error) return [];
  const refs: OutputRef[] = [];
  usedNames(ast.body, new Set(), refs);
  return refs;
}

/** Step outputs as templates receive them: by step, the first item and, by attribute, the list over every item. */
export type StepOutputs = Record<string, { first?: Record<string, unknown>; all?: Record<string, unknown[]> }>;

/** The value an output reference names, or an Error saying why there is none. */
export function outputValue(outputs: StepOutputs | undefined, ref: OutputRef): unknown {
  const output = outputs?.[ref.step];
  const [attribute, ...inner] = ref.path;
  const own = (record: Record<string, unknown> | undefined) => (record && Object.prototype.hasOwnProperty.call(record, attribute) ? record[attribute] : undefined);
  let value: unknown = own(ref.kind === 'first' ? output?.first : output?.all);
  for (const key of inner)
    value =
      value !== null && typeof value === 'object' && !Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, key)
        ? (value as Record<string, unknown>)[key]
        : undefined;
  if (value === undefined) {
    throw new Error(
      ref.kind === 'first'
        ? `the first item of step \`${ref.step}\` has no \`${ref.path.join('.')}\`; run \`${ref.step}\` again so that it finds the item this step needs`
        : `no item of step \`${ref.step}\` has \`${ref.path.join('.')}\``,
    );
  }
  return value;
}

/**
 * Renders one string. A string that is exactly one parameter expression yields the parameter's
 * typed value (an integer stays a number); anything else yields a string. Throws an Error naming
 * the problem (a missing value, a bad helper argument).
 */
export function renderTemplate(text: string, values: ParamValues, now: Date, outputs?: StepOutputs): unknown {
  if (!text.includes('{{')) return text;
  const ast = parse(text);
  if (ast instanceof Error) throw new Error(`invalid template ${JSON.stringify(text)}`);
  const refs: OutputRef[] = [];
  for (const name of usedNames(ast.body, new Set(), refs)) {
    if (name === OUTPUTS) continue;
    if (!Object.prototype.hasOwnProperty.call(values, name)) {
      throw new Error(`parameter \`${name}\` has no value; give it one or declare a default`);
    }
  }
  // Each output is looked up first, so that a missing one is named rather than left to strict mode.
  const looked = refs.map((ref) => outputValue(outputs, ref));
  const only = ast.body.length === 1 ? ast.body[0] : undefined;
  if (only?.type === 'MustacheStatement') {
    const m = only as hbs.AST.MustacheStatement;
    const path = m.path as hbs.AST.PathExpression;
    if (path.type === 'PathExpression' && m.params.length === 0 && path.parts.length === 1 && !isHelperName(path.parts[0])) {
      return values[path.parts[0]];
    }
    // A lone output keeps its type: a number stays a number, a list a list.
    if (m.params.length === 0 && isOutputPath(path)) return looked[0];
  }
  // A null-prototype context: strict mode then fails on any name that is not an own value.
  const context = Object.assign(Object.create(null) as object, values, outputs ? { [OUTPUTS]: outputs } : {});
  return compile(text)(context, { data: { now } });
}
