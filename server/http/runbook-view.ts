/**
 * What the API shows of a runbook: a summary for the list, and the notebook view with prose as safe
 * HTML and each step's facts (never its unrendered request object: the source says it all).
 */
import { isAbsolute, relative } from 'node:path';
import { defaultAccess } from '../runbook/front-matter.js';
import { renderProse } from '../runbook/prose.js';
import type { Runbook, RunbookProblem } from '../runbook/types.js';
import type { RunbookSummary, RunbookView, SectionView } from './view-types.js';

export type { RunbookSummary, RunbookView, SectionView, StepView } from './view-types.js';

// What a runbook whose structure could not be read at all is shown as: its problems say why.

/** The list entry of a runbook (listed even when it has problems, with them). */
export function runbookSummary(id: string, runbook: Runbook | undefined, problems: RunbookProblem[]): RunbookSummary {
  return {
    id,
    title: runbook?.title ?? id,
    ...(runbook?.description !== undefined ? { description: runbook.description } : {}),
    tags: runbook?.tags ?? [],
    steps: runbook?.steps.length ?? 0,
    problems,
  };
}

/** The notebook view of a runbook. */
export function runbookView(id: string, runbook: Runbook | undefined, problems: RunbookProblem[]): RunbookView {
  const steps = new Map((runbook?.steps ?? []).map((s) => [s.name, s]));
  const sections: SectionView[] = [];
  for (const section of runbook?.sections ?? []) {
    if (section.kind === 'prose') {
      sections.push({ kind: 'prose', html: renderProse(section.markdown) });
      continue;
    }
    const s = steps.get(section.step);
    if (!s) continue;
    sections.push({
      kind: 'step',
      step: {
        name: s.name,
        title: s.title,
        language: s.language,
        source: s.source,
        line: s.line,
        operation: s.operation,
        write: s.write,
        needsApproval: s.needsApproval,
        maxItems: s.maxItems,
        ...(s.inputs ? { uses: [...new Set(s.inputs.map((ref) => ref.step))] } : {}),
      },
    });
  }
  return {
    id,
    title: runbook?.title ?? id,
    ...(runbook?.description !== undefined ? { description: runbook.description } : {}),
    tags: runbook?.tags ?? [],
    params: runbook?.params ?? [],
    access: runbook?.access ?? defaultAccess(),
    ...(runbook?.redact ? { redact: runbook.redact } : {}),
    sections,
    problems,
  };
}

/** Problems with their file named relative to the runbooks folder: the server's own paths stay private. */
export function relativeProblems(root: string, problems: RunbookProblem[]): RunbookProblem[] {
  return problems.map((p) => {
    const rel = relative(root, p.file);
    return { ...p, file: rel === '' || rel.startsWith('..') || isAbsolute(rel) ? p.file : rel.split('\\').join('/') };
  });
}
