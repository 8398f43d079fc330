/**
 * A tiny element builder. Text always goes in as text nodes, never as markup, so server data cannot
 * become HTML; the one exception (prose the server already sanitised) lives in prose.ts.
 */

export type Child = Node | string | number | null | undefined | false;
/** Children as builders produce them: nested lists are flattened. */
export type Children = Child | readonly Children[];
type Listener = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>;

/**
 * Creates an element. `class` sets the class list; `on<event>` keys add listeners; `true` sets an
 * empty attribute and `false`, `null` or `undefined` leave it out.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Children[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'style') throw new Error('inline style attributes break the content security policy; use a class');
    if (typeof value === 'function') {
      if (!key.startsWith('on')) throw new Error(`listener ${key} must be named on<event>`);
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = String(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (nested arrays flattened, empty ones skipped) as nodes or text. */
export function append(parent: Node, children: readonly Children[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child as readonly Children[]);
    else if (child instanceof Node) parent.appendChild(child);
    else if (child !== null && child !== undefined && child !== false) parent.appendChild(document.createTextNode(String(child as string | number | boolean)));
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Children[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let idCounter = 0;

/** A document-unique id for label/description links. */
export function uniqueId(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Pretty JSON in a `<pre>` (monospace, scrollable), as text. */
export function jsonBlock(value: unknown, label: string): HTMLPreElement {
  return h('pre', { class: 'json', tabindex: 0, 'aria-label': label }, JSON.stringify(value, null, 2) ?? 'undefined');
}
