/**
 * The table (and index) a PartiQL statement targets: `SELECT … FROM "T"` or `FROM "T"."I"`,
 * `INSERT INTO "T"`, `UPDATE "T"`, `DELETE FROM "T"`. A small tokenizer, not a PartiQL parser: it
 * only has to find the target without being fooled by string literals or quoted identifiers. If it
 * ever found the wrong table the derived policy would name that table and DynamoDB would refuse the
 * statement: a mistake here narrows access, it never widens it.
 */
import { RbError } from '../errors.js';
import type { PartiqlKind } from '../runbook/operations.js';
import { checkName } from '../aws/arn.js';

export interface PartiqlTarget {
  kind: PartiqlKind;
  table: string;
  index?: string;
}

type Token = { type: 'word' | 'ident' | 'string' | 'punct'; text: string };

/** Splits a statement into words, quoted identifiers (unquoted), string literals and punctuation. */
function tokenize(statement: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < statement.length) {
    const c = statement[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      // Both quote styles escape their quote by doubling it ("" and '').
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= statement.length) throw underivable(`an unterminated ${c === '"' ? 'quoted identifier' : 'string'}`);
        if (statement[j] === c) {
          if (statement[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += statement[j++];
      }
      tokens.push({ type: c === '"' ? 'ident' : 'string', text });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(statement.slice(i))!;
      tokens.push({ type: 'word', text: m[0] });
      i += m[0].length;
    } else {
      tokens.push({ type: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

function underivable(what: string): RbError {
  return new RbError('RB_ERR_ACCESS_POLICY_DERIVE', `The PartiQL statement has ${what}; its target table cannot be determined, so no session policy can be derived.`);
}

const isWord = (t: Token | undefined, w: string): boolean => t?.type === 'word' && t.text.toUpperCase() === w;
const isName = (t: Token | undefined): t is Token => t?.type === 'ident' || t?.type === 'word';

/** Finds the kind and the target of a PartiQL statement; throws RB_ERR_ACCESS_POLICY_DERIVE when it cannot. */
export function partiqlTarget(statement: string): PartiqlTarget {
  const tokens = tokenize(statement);
  const first = tokens[0]?.type === 'word' ? tokens[0].text.toLowerCase() : '';
  let at: number;
  switch (first) {
    case 'select': {
      // The first FROM outside brackets; DynamoDB's PartiQL has no subqueries.
      let depth = 0;
      at = -1;
      for (let k = 1; k < tokens.length; k++) {
        const t = tokens[k];
        if (t.type === 'punct' && '([{'.includes(t.text)) depth++;
        else if (t.type === 'punct' && ')]}'.includes(t.text)) depth--;
        else if (depth === 0 && isWord(t, 'FROM')) {
          at = k + 1;
          break;
        }
      }
      if (at < 0) throw underivable('no FROM clause');
      break;
    }
    case 'insert':
      if (!isWord(tokens[1], 'INTO')) throw underivable('no INTO after INSERT');
      at = 2;
      break;
    case 'update':
      at = 1;
      break;
    case 'delete':
      if (!isWord(tokens[1], 'FROM')) throw underivable('no FROM after DELETE');
      at = 2;
      break;
    default:
      throw underivable('no SELECT, INSERT, UPDATE or DELETE at its start');
  }
  const table = tokens[at];
  if (!isName(table)) throw underivable('no table name where one is expected');
  const target: PartiqlTarget = { kind: first, table: checkName(table.text, 'table') };
  if (first === 'select' && tokens[at + 1]?.type === 'punct' && tokens[at + 1].text === '.') {
    const index = tokens[at + 2];
    if (!isName(index)) throw underivable('no index name after "table".');
    target.index = checkName(index.text, 'index');
  }
  return target;
}
