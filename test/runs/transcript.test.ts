// Transcripts and CSV from plain run data: what each format must carry, and that hostile item values
// stay inert in every one of them (HTML checked by parsing it in real Chromium).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import MarkdownIt from 'markdown-it';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseRunbook } from '../../server/runbook/parse.js';
import { renderProse } from '../../server/runbook/prose.js';
import type { Runbook } from '../../server/runbook/types.js';
import { renderTranscript, resultColumns, stepCsvChunks } from '../../server/runs/transcript.js';
import type { Run, StepExecution } from '../../server/runs/types.js';

const HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';

/** The two steps both runbooks below run: read a customer, list their orders. */
const STEPS = `\`\`\`dynamodb {"name":"read-customer"}
operation: GetItem
TableName: Customers
Key:
  customerId: "{{customerId}}"
\`\`\`

## List orders

\`\`\`dynamodb {"name":"orders"}
operation: Query
TableName: Orders
KeyConditionExpression: "#pk = :pk AND begins_with(sk, :o)"
ExpressionAttributeNames:
  "#pk": pk
ExpressionAttributeValues:
  ":pk": "CUSTOMER#{{customerId}}"
  ":o": "ORDER#"
\`\`\`
`;

const RUNBOOK_TEXT = `---
title: Customer check
params:
  customerId:
    type: string
    pattern: "^C[0-9]{4}$"
---

# Customer check

Look the customer up, then list their orders.

## Read the customer

${STEPS}
Done.
`;

function runbook(text = RUNBOOK_TEXT): Runbook {
  const { runbook, problems } = parseRunbook(text, 'customer-check.md', { id: 'shop/customer-check' });
  expect(problems).toEqual([]);
  return runbook!;
}

// The links of the prose below, as written: the notebook keeps http(s), mailto and fragments.
const LINKS = ['https://example.com/doc', 'mailto:ops@example.com', '#read-the-customer', 'javascript:alert(1)', 'data:text/html,x', './other.md', '//evil.example/x'];

/** A runbook whose prose has Markdown of every kind, raw HTML, and links of every scheme. */
const PROSE_RUNBOOK = `---
title: Customer check
params:
  customerId: { type: string }
---

# Customer check

Intro with **bold**, \`code <kbd>\`, ${LINKS.map((href, i) => `[link ${i}](${href})`).join(', ')} and <https://example.com/auto>.

<script>alert(1)</script>

<img src=x onerror=alert(1)>

Inline <b onmouseover=alert(1)>bold</b> and \\<i>escaped</i>.

## Read the customer

Look them up by id.

${STEPS}
### Notes

\`\`\`html
<div>example markup</div>
\`\`\`

Done.
`;

const policy = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['dynamodb:Query'], Resource: ['arn:aws:dynamodb:us-east-1:000000000000:table/Orders'] }],
};

function execution(overrides: Partial<StepExecution>): StepExecution {
  return {
    n: 1,
    step: 'orders',
    user: 'alice',
    status: 'succeeded',
    startedAt: '2026-11-27T10:00:01.000Z',
    durationMs: 42,
    request: {
      operation: 'Query',
      input: {
        TableName: 'Orders',
        KeyConditionExpression: '#pk = :pk AND begins_with(sk, :o)',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': 'CUSTOMER#C1001', ':o': 'ORDER#' },
      },
    },
    policy,
    session: {
      assumedRoleId: 'AROAEXAMPLE123:rb-abc123-orders-2',
      sessionName: 'rb-abc123-orders-2',
      roleArn: 'arn:aws:iam::000000000000:role/runbook-runner',
      expiration: '2026-11-27T10:15:01.000Z',
      revoked: true,
    },
    items: [
      { status: 'SHIPPED', pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-01#A7', total: 42.5, note: HOSTILE, lines: [{ sku: 'BOOK-1', qty: 1 }] },
      { pk: 'CUSTOMER#C1001', sk: 'ORDER#2026-11-20#B2', total: -3, note: 'a | b `c` ```fence```\nsecond line', formula: '=HYPERLINK("http://x")' },
    ],
    count: 2,
    scannedCount: 2,
    hasMore: false,
    pages: 1,
    confirmed: false,
    ...overrides,
  };
}

function sampleRun(): Run {
  return {
    id: 'abc123',
    runbook: 'shop/customer-check',
    title: 'Customer check',
    user: 'alice',
    status: 'completed',
    params: { customerId: 'C1001', comment: HOSTILE },
    roleArn: 'arn:aws:iam::000000000000:role/runbook-runner',
    startedAt: '2026-11-27T10:00:00.000Z',
    lastActivityAt: '2026-11-27T10:00:03.000Z',
    endedAt: '2026-11-27T10:00:05.000Z',
    endReason: 'complete',
    executions: [
      execution({
        step: 'read-customer',
        request: { operation: 'GetItem', input: { TableName: 'Customers', Key: { customerId: 'C1001' } } },
        session: {
          assumedRoleId: 'AROAEXAMPLE123:rb-abc123-read-customer-1',
          sessionName: 'rb-abc123-read-customer-1',
          roleArn: 'arn:aws:iam::000000000000:role/runbook-runner',
          expiration: '2026-11-27T10:15:00.000Z',
          revoked: true,
        },
        items: [],
        count: 0,
        status: 'failed',
        error: { code: 'RB_ERR_DYNAMO_ACCESS_DENIED', message: `denied ${HOSTILE}`, awsCode: 'AccessDeniedException' },
      }),
      execution({}),
    ],
    approvals: {
      orders: {
        step: 'orders',
        status: 'used',
        requestedBy: 'alice',
        requestedAt: '2026-11-27T10:00:02.000Z',
        renderedAt: '2026-11-27T10:00:02.000Z',
        expiresAt: '2026-11-27T11:00:02.000Z',
        stepSource: 'operation: Query\nTableName: Orders\n',
        request: { operation: 'Query', input: { TableName: 'Orders' } },
        policy,
        decidedBy: 'bob',
        decidedAt: '2026-11-27T10:00:02.500Z',
        comment: `ok ${HOSTILE}`,
      },
    },
    revocation: { at: '2026-11-27T10:00:05.000Z', sessions: 2, iam: 'done' },
    auditHash: 'f'.repeat(64),
  };
}

/** RFC 4180 reader, to check what a spreadsheet program would see. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  expect(cell, 'the CSV ends with CRLF').toBe('');
  return rows;
}

/** The CSV the result.csv route streams, whole, for an execution's own items. */
async function stepCsv(e: StepExecution): Promise<string> {
  let out = '';
  for await (const chunk of stepCsvChunks(e, async function* () {
    yield* e.items;
  }))
    out += chunk;
  return out;
}

describe('stepCsv', () => {
  it('puts the key attributes the request names first, then the rest alphabetically (server/runs/columns.ts)', () => {
    expect(resultColumns(execution({}))).toEqual(['pk', 'sk', 'formula', 'lines', 'note', 'status', 'total']);
    const get = execution({ request: { operation: 'GetItem', input: { TableName: 'Customers', Key: { customerId: 'C1' } } }, items: [{ name: 'A', customerId: 'C1' }] });
    expect(resultColumns(get)).toEqual(['customerId', 'name']);
  });

  it('writes RFC 4180 with CRLF, quoting, JSON for nested values and empty cells for missing attributes', async () => {
    const csv = await stepCsv(execution({}));
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual(['pk', 'sk', 'formula', 'lines', 'note', 'status', 'total']);
    expect(rows[1]).toEqual(['CUSTOMER#C1001', 'ORDER#2026-11-01#A7', '', '[{"sku":"BOOK-1","qty":1}]', HOSTILE, 'SHIPPED', '42.5']);
    expect(rows[2][4]).toBe('a | b `c` ```fence```\nsecond line');
    expect(rows).toHaveLength(3);
  });

  it("guards text cells that a spreadsheet would evaluate with a leading ', but not numbers", async () => {
    const rows = parseCsv(await stepCsv(execution({})));
    expect(rows[2][2]).toBe('\'=HYPERLINK("http://x")');
    expect(rows[2][6]).toBe('-3');
    const more = execution({ items: [{ pk: 'p', a: '+1', b: '-1', c: '@SUM(A1)', d: '\tx', e: 'plain' }] });
    expect(parseCsv(await stepCsv(more))[1]).toEqual(['p', "'+1", "'-1", "'@SUM(A1)", "'\tx", 'plain']);
    const header = execution({ items: [{ pk: 'p', '=cmd': 1 }] });
    expect(parseCsv(await stepCsv(header))[0]).toEqual(['pk', "'=cmd"]);
  });

  it('is empty for an execution without items', async () => {
    expect(await stepCsv(execution({ items: [], count: 0 }))).toBe('');
  });
});

describe('renderTranscript: JSON', () => {
  it('holds the whole run, the runbook and the audit hash', () => {
    const run = sampleRun();
    const doc = JSON.parse(renderTranscript(run, runbook(), 'json'));
    expect(doc.run).toEqual(run);
    expect(doc.auditHash).toBe(run.auditHash);
    expect(doc.runbook.steps.map((s: { name: string }) => s.name)).toEqual(['read-customer', 'orders']);
    expect(doc.runbook.params[0].name).toBe('customerId');
  });

  it("lists each item's attributes in the column order of the other outputs, and says its times are UTC", () => {
    const doc = JSON.parse(renderTranscript(sampleRun(), runbook(), 'json'));
    expect(doc.transcript).toEqual({ format: 'dynamodb-runbooks', version: 1, timeZone: 'UTC' });
    const orders = doc.run.executions[1];
    expect(Object.keys(orders.items[0])).toEqual(['pk', 'sk', 'lines', 'note', 'status', 'total']);
    expect(Object.keys(orders.items[1])).toEqual(['pk', 'sk', 'formula', 'note', 'total']);
  });

  it('works without the runbook', () => {
    const doc = JSON.parse(renderTranscript(sampleRun(), undefined, 'json'));
    expect(doc.runbook).toBeNull();
    expect(doc.run.executions).toHaveLength(2);
  });
});

describe('renderTranscript: Markdown', () => {
  const text = renderTranscript(sampleRun(), runbook(), 'md');

  it('carries who, when, the parameters, each request, policy, session id and result', () => {
    expect(text).toMatch(/^# Customer check\n/);
    for (const expected of [
      '| User | alice |',
      '| Started | 2026-11-27T10:00:00.000Z |',
      '| customerId | C1001 |',
      '"KeyConditionExpression": "#pk = :pk AND begins_with(sk, :o)"',
      '"dynamodb:Query"',
      'AROAEXAMPLE123:rb-abc123-orders-2',
      'AROAEXAMPLE123:rb-abc123-read-customer-1',
      '| pk | sk | formula | lines | note | status | total |',
      'ORDER#2026-11-20#B2',
      `\`${'f'.repeat(64)}\``,
      '- error `RB_ERR_DYNAMO_ACCESS_DENIED` (AccessDeniedException): denied &lt;script&gt;',
    ]) {
      expect(text).toContain(expected);
    }
  });

  it('keeps the runbook: prose, then each step block with its outcome under it', () => {
    const prose = text.indexOf('Look the customer up');
    const block = text.indexOf('```dynamodb {"name":"read-customer"}');
    const outcome = text.indexOf('**Outcome of `read-customer`, execution 1: failed**');
    const nextBlock = text.indexOf('```dynamodb {"name":"orders"}');
    expect(prose).toBeGreaterThan(0);
    expect(block).toBeGreaterThan(prose);
    expect(outcome).toBeGreaterThan(block);
    expect(nextBlock).toBeGreaterThan(outcome);
    expect(text.indexOf('Done.')).toBeGreaterThan(nextBlock);
  });

  it('escapes values: no raw HTML, no broken table rows, no escaping fence', () => {
    expect(text).not.toContain('<script>');
    expect(text).not.toContain('<img');
    expect(text).toContain('&lt;script&gt;');
    // The result row of the second item has exactly the table's 7 cells despite the `|` inside.
    const row = text.split('\n').find((l) => l.includes('ORDER#2026-11-20#B2'))!;
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(7);
    // Every fence closes: an even number of fence lines of each length.
    const fences = text
      .split('\n')
      .filter((l) => /^`{3,}/.test(l))
      .map((l) => /^`+/.exec(l)![0].length);
    expect(fences.length % 2).toBe(0);
  });
});

describe('renderTranscript: Markdown prose and times', () => {
  const text = renderTranscript(sampleRun(), runbook(PROSE_RUNBOOK), 'md');

  it('neutralises raw HTML from the prose, and keeps code, links and Markdown as written', () => {
    for (const raw of ['<script>', '<img', '<b ']) expect(text).not.toContain(raw);
    for (const expected of [
      '&lt;script>alert(1)&lt;/script>',
      '&lt;img src=x onerror=alert(1)>',
      '\\<i>escaped&lt;/i>',
      // Code shows its text as it is; autolinks, links and emphasis stay Markdown.
      '`code <kbd>`',
      '```html\n<div>example markup</div>\n```',
      '<https://example.com/auto>',
      '**bold**',
      '[link 0](https://example.com/doc)',
    ]) {
      expect(text).toContain(expected);
    }
    // Rendered as GitHub would, with raw HTML allowed: no element, no handler from the prose.
    const html = new MarkdownIt({ html: true }).render(text);
    expect(html).not.toMatch(/<(script|img|b|i)[\s>]/i);
    expect(html).not.toMatch(/<[a-z][^>]*\son[a-z]+=/i);
    expect(html).toContain('<code>code &lt;kbd&gt;</code>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('gives every time in UTC with its zone, and says so', () => {
    expect(text).toContain('Times are UTC, in ISO 8601 (the Z suffix).');
    const times = [...text.matchAll(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\S*/g)].map((m) => m[0]);
    expect(times.length).toBeGreaterThan(5);
    for (const time of times) expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/);
    // A time recorded with another offset is given in UTC.
    const run = { ...sampleRun(), startedAt: '2026-11-27T11:00:00+01:00' };
    for (const format of ['md', 'html'] as const) expect(renderTranscript(run, runbook(), format)).toContain('2026-11-27T10:00:00.000Z');
  });
});

describe('renderTranscript: HTML', () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync('/usr/bin/chromium')) {
      throw new Error('The HTML transcript is checked by parsing it in Chromium: install it (Debian: apt-get install chromium).');
    }
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The transcript loaded in a page; the URLs the page asked for. */
  async function openPage(html: string): Promise<{ page: Page; requests: string[] }> {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(html, { waitUntil: 'load' });
    return { page, requests };
  }

  /** No script, image or event handler in the page, and nothing it loaded from anywhere. */
  async function expectInert(page: Page, requests: string[]): Promise<void> {
    const found = await page.evaluate(() => ({
      scripts: document.querySelectorAll('script').length,
      imgs: document.querySelectorAll('img').length,
      handlers: [...document.querySelectorAll('*')].flatMap((el) => [...el.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
    }));
    expect(found).toEqual({ scripts: 0, imgs: 0, handlers: [] });
    expect(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'))).toEqual([]);
  }

  it('is self-contained, escapes every value and carries what the run did (parsed by Chromium)', async () => {
    const { page, requests } = await openPage(renderTranscript(sampleRun(), runbook(), 'html'));
    const seen = await page.evaluate(() => ({
      pwned: (window as unknown as { pwned?: number }).pwned ?? null,
      text: document.body.textContent ?? '',
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '',
      style: document.querySelector('style')?.textContent ?? '',
      links: document.querySelectorAll('link, [src], [href]').length,
      cells: [...document.querySelectorAll('table.results td')].map((td) => td.textContent),
    }));
    await expectInert(page, requests);
    await page.close();
    expect(seen.pwned).toBeNull();
    expect(seen.links).toBe(0);
    // The hostile value is shown as text, exactly.
    expect(seen.cells).toContain(HOSTILE);
    expect(seen.text).toContain(`ok ${HOSTILE}`);
    // Who, when, parameters, request, policy, session ids, results, audit hash.
    for (const expected of [
      'alice',
      'bob',
      '2026-11-27T10:00:00.000Z',
      'C1001',
      '"KeyConditionExpression"',
      'dynamodb:Query',
      'AROAEXAMPLE123:rb-abc123-orders-2',
      'AROAEXAMPLE123:rb-abc123-read-customer-1',
      'ORDER#2026-11-20#B2',
      'f'.repeat(64),
      'AccessDeniedException',
    ]) {
      expect(seen.text + seen.cells.join(' ')).toContain(expected);
    }
    // A strict policy whose only allowance is the inline style sheet, by hash.
    const hash = createHash('sha256').update(seen.style).digest('base64');
    expect(seen.csp).toBe(`default-src 'none'; style-src 'sha256-${hash}'; img-src data:; base-uri 'none'; form-action 'none'`);
  });

  it('renders the prose as the notebook does: headings as headings, the title once, raw HTML as text, links as allowed (parsed by Chromium)', async () => {
    const { page, requests } = await openPage(renderTranscript(sampleRun(), runbook(PROSE_RUNBOOK), 'html'));
    const seen = await page.evaluate(() => {
      const texts: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node.textContent ?? '');
      return {
        headings: [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map((el) => `${el.tagName.toLowerCase()} ${el.textContent?.trim()}`),
        hashTexts: texts.filter((t) => /^\s*#/.test(t)),
        prose: [...document.querySelectorAll('.prose')].map((el) => el.textContent ?? '').join('\n'),
        strong: [...document.querySelectorAll('.prose strong')].map((el) => el.textContent),
        code: [...document.querySelectorAll('.prose code')].map((el) => el.textContent),
        hrefs: [...document.querySelectorAll('.prose a[href]')].map((a) => a.getAttribute('href')),
        intro: document.querySelector('section.step .prose')?.textContent?.trim(),
      };
    });
    // Raw HTML is text: no element, no handler, nothing run or loaded.
    await expectInert(page, requests);
    await page.close();
    // The run's title once, as the page's heading; the step's heading once, as its section's; the rest one level down.
    expect(seen.headings).toEqual(['h1 Customer check', 'h2 Parameters', 'h2 Runbook', 'h3 Read the customer read-customer', 'h3 List orders orders', 'h4 Notes', 'h2 Approvals']);
    expect(seen.hashTexts).toEqual([]);
    expect(seen.intro).toBe('Look them up by id.');
    for (const raw of ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<b onmouseover=alert(1)>bold</b>', '<div>example markup</div>'])
      expect(seen.prose).toContain(raw);
    expect(seen.strong).toEqual(['bold']);
    expect(seen.code).toContain('code <kbd>');
    // Links: exactly those the notebook's renderer (server/runbook/prose.ts) keeps.
    const notebook = await browser.newPage();
    await notebook.setContent(`<div>${renderProse(PROSE_RUNBOOK)}</div>`);
    const allowed = await notebook.evaluate(() => [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')));
    await notebook.close();
    expect(seen.hrefs).toEqual(allowed);
    expect(seen.hrefs).toEqual(['https://example.com/doc', 'mailto:ops@example.com', '#read-the-customer', 'https://example.com/auto']);
  });

  it('renders from the compiled program too (the template is found from dist/)', async () => {
    const compiled = new URL('../../dist/server/runs/transcript.js', import.meta.url);
    expect(existsSync(compiled), 'dist/ is missing: run `npm run build` first').toBe(true);
    const mod = (await import(compiled.href)) as typeof import('../../server/runs/transcript.js');
    const html = mod.renderTranscript(sampleRun(), runbook(), 'html');
    expect(html).toBe(renderTranscript(sampleRun(), runbook(), 'html'));
  });
});
