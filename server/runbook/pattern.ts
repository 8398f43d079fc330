/**
 * Parameter patterns in RE2 syntax, matched by re2js (a JavaScript port of RE2) in time linear in
 * the value's length. JavaScript's own RegExp backtracks: `(a+)+` against 30 `a`s and a `!` takes
 * seconds, and a runbook's pattern runs on the server's only thread. RE2 refuses the syntax it
 * cannot match in linear time (backreferences, lookaround), so such a pattern is a runbook error
 * that `runbooks check` reports, not a slow request. The notebook bundles this module too, so the
 * form and the server agree on every value.
 */
import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';

const compiled = new Map<string, RE2JS>();

// Every runbook version adds its patterns: past this many, the cache starts again (compiling is cheap).
const MAX_CACHED = 1000;

function compile(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

/** What is wrong with a pattern and what to do about it, or undefined when RE2 accepts it. */
export function patternProblem(pattern: string): string | undefined {
  try {
    compile(pattern);
    return undefined;
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    if (!(err instanceof RE2JSSyntaxException)) return `pattern cannot be compiled by RE2: ${err.message}`;
    return describeSyntaxError(err.error, err.input ?? pattern);
  }
}

const LINEAR = 'patterns are RE2 syntax, matched in linear time';

/** RE2's message, with advice for the JavaScript syntax RE2 lacks. */
function describeSyntaxError(error: string, input: string): string {
  if (/^\\(?:[1-9]|k)/.test(input)) {
    return `pattern uses a backreference (\`${input}\`), which RE2 lacks (${LINEAR}): match the repeated part by its shape instead, like \`[a-z]+-[a-z]+\``;
  }
  if (/^\(\?<?[=!]/.test(input)) {
    return `pattern uses lookahead or lookbehind (\`${input.slice(0, input.startsWith('(?<') ? 4 : 3)}\`), which RE2 lacks (${LINEAR}): write the allowed forms as alternatives instead`;
  }
  if (input === '\\u') return `pattern uses \`\\u\`, which RE2 lacks: write a code point as \`\\x{00E9}\``;
  const message = `pattern is not a valid RE2 regular expression: ${error}: \`${input}\``;
  const range = /^\{(\d+)(?:,(\d*))?\}$/.exec(input);
  if (error === 'invalid repeat count' && range && !(range[2] && Number(range[2]) < Number(range[1]))) {
    return `${message}; RE2 repeats at most 1000 times, nested repeats multiplied: bound a length with \`min\` and \`max\` instead`;
  }
  return message;
}

/**
 * Whether the whole value matches (as if the pattern were written `^(?:pattern)$`). The pattern
 * must have passed {@link patternProblem}; values reach here at most MAX_VALUE_LENGTH characters long.
 */
export function patternMatches(pattern: string, value: string): boolean {
  return compile(pattern).matches(value);
}
