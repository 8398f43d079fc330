/**
 * Runbook prose. The server renders it to HTML with raw HTML disabled and sanitises it; this is the
 * only place the client parses server text as markup, and it keeps to an allow-list again (defence
 * in depth): unknown elements become their text, unknown attributes and non-http(s) links go.
 */

const ELEMENTS = new Set([
  'p',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'ul',
  'ol',
  'li',
  'a',
  'code',
  'pre',
  'em',
  'strong',
  'blockquote',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'hr',
  'br',
  'del',
  's',
  'span',
  'img',
  'sup',
  'sub',
  'kbd',
  'dl',
  'dt',
  'dd',
]);
const ATTRIBUTES: Record<string, Set<string>> = {
  a: new Set(['href', 'title']),
  img: new Set(['src', 'alt', 'title']),
  code: new Set(['class']),
  ol: new Set(['start']),
  th: new Set(['scope']),
};
const SAFE_URL = /^(?:https?:|mailto:|#|\/(?!\/)|\.{1,2}\/|[^:/?#]+(?:[/?#]|$))/i;

function clean(node: Node): void {
  for (const child of [...node.childNodes]) {
    if (child.nodeType === Node.TEXT_NODE) continue;
    if (child.nodeType !== Node.ELEMENT_NODE) {
      child.remove();
      continue;
    }
    const el = child as Element;
    const tag = el.tagName.toLowerCase();
    if (!ELEMENTS.has(tag)) {
      // script/style/iframe and friends go entirely; other unknown elements keep their text.
      if (['script', 'style', 'iframe', 'object', 'embed', 'template', 'noscript', 'form', 'svg', 'math'].includes(tag)) el.remove();
      else el.replaceWith(document.createTextNode(el.textContent ?? ''));
      continue;
    }
    const allowed = ATTRIBUTES[tag];
    for (const attr of [...el.attributes]) {
      const keep = allowed?.has(attr.name) && (!['href', 'src'].includes(attr.name) || (SAFE_URL.test(attr.value.trim()) && !attr.value.includes('\\')));
      if (!keep) el.removeAttribute(attr.name);
    }
    if (tag === 'a' && /^https?:/i.test(el.getAttribute('href') ?? '')) {
      el.setAttribute('target', '_blank');
      el.setAttribute('rel', 'noopener noreferrer');
    }
    clean(el);
  }
}

/** A prose section's HTML as a detached element. A `<template>` parses without running or loading anything. */
export function proseElement(html: string): HTMLElement {
  const template = document.createElement('template');
  template.innerHTML = html;
  clean(template.content);
  const div = document.createElement('div');
  div.className = 'prose';
  div.appendChild(template.content);
  return div;
}
