/**
 * Just enough PartiQL reading to authorise a statement as DynamoDB does: its kind (the IAM action
 * is dynamodb:PartiQLSelect|Insert|Update|Delete), its target table or `"Table"."Index"`, and the
 * partition key values it names, for dynamodb:LeadingKeys.
 */
import type { StatementKind } from './actions.js';

type Token = { t: 'id'; v: string } | { t: 'qid'; v: string } | { t: 'str'; v: string } | { t: 'num'; v: string } | { t: 'param'; i: number } | { t: 'op'; v: string };

export interface PartiqlStatement {
  kind: StatementKind;
  table: string;
  index?: string;
  tokens: Token[];
}

/** A value in a statement: a literal, or the index of a `?` bound from Parameters. */
type ValueRef = { literal: string } | { param: number };

const KINDS: Record<string, StatementKind> = { select: 'select', insert: 'insert', update: 'update', delete: 'delete' };

/** Kind and target of a statement; undefined when the sandbox cannot tell (it then authorises against `*`). */
export function readStatement(statement: string): PartiqlStatement | undefined {
  const tokens = tokenize(statement);
  if (!tokens || tokens.length === 0 || tokens[0].t !== 'id') return undefined;
  const kind = KINDS[tokens[0].v.toLowerCase()];
  if (!kind) return undefined;
  const after = kind === 'insert' ? 'into' : kind === 'update' ? undefined : 'from';
  let at = after === undefined ? 1 : findKeyword(tokens, after, 1);
  if (at === -1) return undefined;
  if (after !== undefined) at += 1;
  const table = nameAt(tokens, at);
  if (table === undefined) return undefined;
  let index: string | undefined;
  const next = tokens[at + 1];
  if (next?.t === 'op' && next.v === '.') {
    index = nameAt(tokens, at + 2);
    if (index === undefined) return undefined;
  }
  return { kind, table, index, tokens };
}

/**
 * The partition key values a statement touches, or undefined when the sandbox cannot read them
 * from the text (a WHERE with OR or NOT, no equality on the key, an INSERT without the key).
 */
export function partitionKeyValues(
  stmt: PartiqlStatement,
  hashKey: string,
  parameters: readonly unknown[] | undefined,
  format: (v: unknown) => string | undefined,
): string[] | undefined {
  const resolve = (ref: ValueRef): string | undefined => ('literal' in ref ? ref.literal : parameters && ref.param < parameters.length ? format(parameters[ref.param]) : undefined);
  const refs = stmt.kind === 'insert' ? insertKey(stmt.tokens, hashKey) : whereKey(stmt.tokens, hashKey);
  if (!refs || refs.length === 0) return undefined;
  const values: string[] = [];
  for (const ref of refs) {
    const v = resolve(ref);
    if (v === undefined) return undefined;
    values.push(v);
  }
  return [...new Set(values)];
}

function insertKey(tokens: Token[], hashKey: string): ValueRef[] | undefined {
  const at = findKeyword(tokens, 'value', 1);
  if (at === -1 || !isOp(tokens[at + 1], '{')) return undefined;
  let depth = 0;
  for (let i = at + 1; i < tokens.length; i++) {
    const tok = tokens[i];
    if (isOp(tok, '{') || isOp(tok, '[') || isOp(tok, '(')) depth++;
    else if (isOp(tok, '}') || isOp(tok, ']') || isOp(tok, ')')) depth--;
    else if (depth === 1 && tok.t === 'str' && tok.v === hashKey && isOp(tokens[i + 1], ':')) {
      const ref = valueRef(tokens[i + 2]);
      return ref ? [ref] : undefined;
    }
  }
  return undefined;
}

function whereKey(tokens: Token[], hashKey: string): ValueRef[] | undefined {
  const where = findKeyword(tokens, 'where', 1);
  if (where === -1) return undefined;
  const clause = tokens.slice(where + 1);
  // Only a pure conjunction pins the key: with OR or NOT other partitions may be touched.
  if (clause.some((tok) => tok.t === 'id' && /^(or|not)$/i.test(tok.v))) return undefined;
  for (let i = 0; i < clause.length; i++) {
    const tok = clause[i];
    if (!isName(tok, hashKey)) continue;
    const op = clause[i + 1];
    if (isOp(op, '=')) {
      const ref = valueRef(clause[i + 2]);
      if (ref) return [ref];
    } else if (op?.t === 'id' && op.v.toLowerCase() === 'in' && (isOp(clause[i + 2], '[') || isOp(clause[i + 2], '('))) {
      const refs: ValueRef[] = [];
      for (let j = i + 3; j < clause.length && !isOp(clause[j], ']') && !isOp(clause[j], ')'); j++) {
        if (isOp(clause[j], ',')) continue;
        const ref = valueRef(clause[j]);
        if (!ref) return undefined;
        refs.push(ref);
      }
      return refs;
    }
    if (i >= 2 && isOp(clause[i - 1], '=')) {
      const ref = valueRef(clause[i - 2]);
      if (ref) return [ref];
    }
  }
  return undefined;
}

function isName(tok: Token | undefined, name: string): boolean {
  return tok !== undefined && (tok.t === 'qid' || tok.t === 'id') && tok.v === name;
}

function isOp(tok: Token | undefined, v: string): boolean {
  return tok !== undefined && tok.t === 'op' && tok.v === v;
}

function valueRef(tok: Token | undefined): ValueRef | undefined {
  if (!tok) return undefined;
  if (tok.t === 'str' || tok.t === 'num') return { literal: tok.v };
  if (tok.t === 'param') return { param: tok.i };
  return undefined;
}

function nameAt(tokens: Token[], at: number): string | undefined {
  const tok = tokens[at];
  return tok && (tok.t === 'qid' || tok.t === 'id') ? tok.v : undefined;
}

function findKeyword(tokens: Token[], keyword: string, from: number): number {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const tok = tokens[i];
    if (tok.t === 'op' && '([{'.includes(tok.v)) depth++;
    else if (tok.t === 'op' && ')]}'.includes(tok.v)) depth--;
    else if (depth === 0 && tok.t === 'id' && tok.v.toLowerCase() === keyword) return i;
  }
  return -1;
}

function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  let params = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith('--', i)) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) return undefined;
      i = end + 2;
    } else if (c === "'" || c === '"') {
      // Both quote styles escape their quote by doubling it.
      let v = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) return undefined;
        if (text[j] === c) {
          if (text[j + 1] === c) {
            v += c;
            j += 2;
            continue;
          }
          break;
        }
        v += text[j++];
      }
      tokens.push(c === "'" ? { t: 'str', v } : { t: 'qid', v });
      i = j + 1;
    } else if (c === '?') {
      tokens.push({ t: 'param', i: params++ });
      i++;
    } else {
      const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
      const id = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(text.slice(i, i + 300));
      if (num && !/[A-Za-z_]/.test(c)) {
        tokens.push({ t: 'num', v: num[0] });
        i += num[0].length;
      } else if (id) {
        tokens.push({ t: 'id', v: id[0] });
        i += id[0].length;
      } else {
        const two = text.slice(i, i + 2);
        const op = ['<=', '>=', '<>', '!=', '<<', '>>'].includes(two) ? two : c;
        tokens.push({ t: 'op', v: op });
        i += op.length;
      }
    }
  }
  return tokens;
}
