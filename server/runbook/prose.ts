/**
 * Prose: the Markdown around the steps, rendered to HTML the browser can insert as is. Raw HTML is
 * off (it is shown as text) and links and images may only point to http(s), mailto or a fragment
 * of the same page, so a runbook cannot carry script into the notebook.
 */
import MarkdownIt from 'markdown-it';

const SAFE_URL = /^(?:https?:|mailto:|#)/i;

const md = new MarkdownIt('default', { html: false, linkify: true });
md.validateLink = (url: string) => SAFE_URL.test(url.trim());

const renderLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  if (!/^#/.test(token.attrGet('href') ?? '')) {
    token.attrSet('rel', 'noopener noreferrer');
    token.attrSet('target', '_blank');
  }
  return renderLinkOpen(tokens, idx, options, env, self);
};

/** Renders a runbook's prose Markdown to safe HTML (no raw HTML, links limited to http(s) and mailto). */
export function renderProse(markdown: string): string {
  return md.render(markdown);
}

/** The plain text of an inline Markdown fragment (a heading): markup removed, code kept. */
export function plainText(inline: string): string {
  const children = md.parseInline(inline, {})[0]?.children ?? [];
  let out = '';
  for (const child of children) {
    if (child.type === 'text' || child.type === 'code_inline') out += child.content;
    else if (child.type === 'softbreak' || child.type === 'hardbreak') out += ' ';
  }
  return out.trim();
}
