/** What every view gets from the shell: who is signed in, the live events, and the page-wide announcer. */
import type { Me } from '../api-types.js';
import type { LiveEvents } from '../live.js';

export interface ViewContext {
  me: Me;
  live: LiveEvents;
  /** says something to screen readers (a polite live region) */
  announce(text: string): void;
  /** sets the document title (`<title> · DynamoDB Runbooks`) */
  setTitle(title: string): void;
}

/** A page: its element, and what to stop when another page replaces it. */
export interface View {
  readonly element: HTMLElement;
  destroy(): void;
}
