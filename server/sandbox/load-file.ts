/** Reads sandbox.yaml: YAML errors and shape problems become `file:line:col: error: message`. */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { RbError } from '../errors.js';
import { checkSandboxData, type ConfigProblem } from './config.js';
import type { SandboxConfig } from './types.js';

export interface SandboxFileProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Loads and checks a sandbox file; throws RB_ERR_SANDBOX_FILE_INVALID listing every problem. */
export function loadSandboxFile(path: string): SandboxConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw invalid([{ file: path, line: 1, column: 1, message: `cannot read the sandbox file: ${reason}` }]);
  }
  return parseSandboxFile(text, path);
}

/** Parses the text of a sandbox file (`file` names it in errors). */
export function parseSandboxFile(text: string, file: string): SandboxConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): { line: number; column: number } => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  if (doc.errors.length) {
    throw invalid(doc.errors.map((e) => ({ file, ...at(e.pos[0]), message: e.message.split('\n')[0] })));
  }
  const { config, problems } = checkSandboxData(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (!config) {
    throw invalid(problems.map((p) => ({ file, ...at(offsetOf(doc, p)), message: p.message })).sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return { ...config, file };
}

/** Offset of the node a problem names: its key for an unknown key, else its value (or the nearest parent). */
function offsetOf(doc: Document, problem: ConfigProblem): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < problem.path.length; i++) {
    const step = problem.path[i];
    const last = i === problem.path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === step);
      if (!pair) break;
      if (last && problem.atKey) return rangeStart(pair.key) ?? offset;
      node = pair.value;
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof step === 'number') {
      node = node.items[step];
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
}

function invalid(problems: SandboxFileProblem[]): RbError {
  const text = problems.map((p) => `${p.file}:${p.line}:${p.column}: error: ${p.message}`).join('\n');
  return new RbError('RB_ERR_SANDBOX_FILE_INVALID', text, { problems });
}
