/** Prose renders to HTML that is safe to insert into the notebook. */
import { describe, expect, it } from 'vitest';
import { renderProse } from '../../server/runbook/prose.js';

describe('renderProse', () => {
  it('renders Markdown, tables and code', () => {
    const html = renderProse('## Check\n\n| a | b |\n| - | - |\n| `x` | **y** |\n\n```sh\naws dynamodb list-tables\n```\n');
    expect(html).toContain('<h2>Check</h2>');
    expect(html).toContain('<td><code>x</code></td>');
    expect(html).toContain('<td><strong>y</strong></td>');
    expect(html).toContain('<pre><code class="language-sh">aws dynamodb list-tables\n</code></pre>');
  });

  it('shows raw HTML as text', () => {
    const html = renderProse('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('keeps http(s), mailto and fragment links, opening other pages in a new tab', () => {
    const html = renderProse('[docs](https://docs.aws.amazon.com/) [mail](mailto:oncall@example.com) [up](#check)');
    expect(html).toContain('<a href="https://docs.aws.amazon.com/" rel="noopener noreferrer" target="_blank">docs</a>');
    expect(html).toContain('<a href="mailto:oncall@example.com" rel="noopener noreferrer" target="_blank">mail</a>');
    expect(html).toContain('<a href="#check">up</a>');
  });

  it.each([
    '[x](javascript:alert(1))',
    '[x](JAVASCRIPT:alert(1))',
    '[x](data:text/html;base64,PHNjcmlwdD4=)',
    '[x](vbscript:msgbox)',
    '[x](file:///etc/passwd)',
    '[x](//evil.example.com/)',
    '![x](javascript:alert(1))',
    '<javascript:alert(1)>',
  ])('drops the link of %s', (markdown) => {
    const html = renderProse(markdown);
    expect(html).not.toMatch(/<a |<img /);
  });
});
