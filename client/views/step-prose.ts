/**
 * A step's own prose: the heading it takes its title from and the text under that heading, from the
 * prose section just above it. The notebook moves that text into the cell; approval cards show it.
 */
import type { RunbookView } from '../api-types.js';
import { proseElement } from '../prose.js';

/**
 * A step's title is the nearest heading above it, so the cell shows that heading: it is taken out
 * of the prose, and what follows it (the step's own explanation) moves into the cell, under its title.
 * Undefined when the prose does not end with that heading (nothing is taken).
 */
export function takeIntro(prose: Node | undefined, title: string): Node[] | undefined {
  if (!(prose instanceof HTMLElement) || !prose.classList.contains('prose')) return undefined;
  const headings = prose.querySelectorAll(':scope > h1, :scope > h2, :scope > h3, :scope > h4, :scope > h5, :scope > h6');
  const heading = headings[headings.length - 1];
  if (!heading || heading.textContent?.trim() !== title) return undefined;
  const intro: Node[] = [];
  for (let next = heading.nextSibling; next; next = heading.nextSibling) {
    intro.push(next);
    next.remove();
  }
  heading.remove();
  return intro;
}

export interface StepText {
  title: string;
  /** fresh nodes, the caller's to place */
  prose: Node[];
}

/**
 * A step's title and prose in a runbook: the text under its heading, or the whole prose section
 * above it when that section does not hold the heading (a second step under one heading).
 */
export function stepText(rb: RunbookView, stepName: string): StepText | undefined {
  let previous: HTMLElement | undefined;
  for (const section of rb.sections) {
    if (section.kind === 'prose') {
      previous = proseElement(section.html);
      continue;
    }
    if (section.step.name === stepName) {
      const title = section.step.title;
      if (!previous) return { title, prose: [] };
      return { title, prose: takeIntro(previous, title) ?? [...previous.childNodes] };
    }
    previous = undefined;
  }
  return undefined;
}
