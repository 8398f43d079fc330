/**
 * The shapes the API gives of runbooks (docs/api.md), shared as types with the browser client: plain
 * types only, no runtime import, so the client's bundle takes nothing from here.
 */
import type { Runbook, RunbookProblem, StepLanguage } from '../runbook/types.js';

export interface RunbookSummary {
  id: string;
  title: string;
  description?: string;
  tags: string[];
  steps: number;
  problems: RunbookProblem[];
}

export interface StepView {
  name: string;
  title: string;
  language: StepLanguage;
  source: string;
  line: number;
  operation: string;
  write: boolean;
  needsApproval: boolean;
  maxItems: number;
  /** the earlier steps whose outputs it uses (`{{steps.<step>.…}}`): they must have run first */
  uses?: string[];
}

export type SectionView = { kind: 'prose'; html: string } | { kind: 'step'; step: StepView };

/**
 * The notebook view: the runbook's front matter as parsed (its `redact` is the runbook's own list; a
 * run's `redact` adds the server's), its sections as the page shows them, and its problems.
 */
export interface RunbookView extends Pick<Runbook, 'title' | 'description' | 'tags' | 'params' | 'access' | 'redact'> {
  id: string;
  sections: SectionView[];
  problems: RunbookProblem[];
}
