/**
 * The webhooks file (`runbooks serve --webhooks FILE`): where to announce approvals, failed steps
 * and completed runs. Read like the users file: YAML, unknown keys refused, every mistake reported
 * as `file:line:col: error: …`. Neither a secret nor a URL is ever echoed in a message: a URL may
 * carry its own secret (Slack's incoming-webhook URLs do, in their path).
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { RbError } from '../errors.js';

/** The events a webhook may subscribe to (`approval.updated`: expired, stale, cancelled or used). */
export const WEBHOOK_EVENTS = ['approval.requested', 'approval.decided', 'approval.updated', 'step.failed', 'run.completed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface WebhookDecl {
  url: string;
  events: WebhookEvent[];
  /** signs each body (HMAC-SHA256); never logged, echoed or sent */
  secret: string;
  format: WebhookFormat;
}

// Long enough that the signature cannot be forged by guessing the key.
export const MIN_SECRET_LENGTH = 16;
const MAX_SECRET_LENGTH = 1024;
const KEYS = ['url', 'events', 'secret', 'format'];

/** Reads a webhooks file; throws RbError RB_ERR_CONFIG_INVALID naming file, line and column. */
export async function loadWebhooksFile(path: string): Promise<WebhookDecl[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RbError('RB_ERR_CONFIG_INVALID', `${path}: cannot read the webhooks file (${code ?? 'unreadable'}).`);
  }
  return parseWebhooksFile(text, path);
}

/** Parses the text of a webhooks file: `webhooks: [{ url, events, secret, format }]`. */
export function parseWebhooksFile(text: string, path: string): WebhookDecl[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, version: '1.2', schema: 'core' });
  const fail = (message: string, node?: unknown): never => {
    const range = (node as Node | null | undefined)?.range;
    const pos = range ? lineCounter.linePos(range[0]) : undefined;
    throw new RbError('RB_ERR_CONFIG_INVALID', `${pos ? `${path}:${pos.line}:${pos.col}` : path}: error: ${message}`);
  };
  if (doc.errors.length > 0) {
    // The parser's message may quote the line, and so a secret: name the position only.
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    throw new RbError('RB_ERR_CONFIG_INVALID', `${path}${pos ? `:${pos.line}:${pos.col}` : ''}: error: invalid YAML (${e.code})`);
  }
  const root = doc.contents;
  const shape = 'the webhooks file must hold `webhooks:`, a list of { url, events, secret, format }';
  if (!isMap(root)) return fail(shape, root);
  let list: unknown;
  for (const pair of root.items as Pair[]) {
    const key = keyOf(pair);
    if (key !== 'webhooks') fail(`unknown key ${JSON.stringify(key ?? '?')}: the webhooks file holds only \`webhooks:\``, pair.key);
    list = pair.value;
  }
  if (!isSeq(list)) return fail(shape, list ?? root);

  return list.items.map((item, i) => {
    const label = `webhooks[${i}]`;
    if (!isMap(item)) return fail(`${label} must be a map with url, events, secret and format`, item);
    const fields = new Map<string, Pair>();
    for (const pair of item.items) {
      const key = keyOf(pair);
      if (key === undefined || !KEYS.includes(key)) fail(`${label}: unknown key ${JSON.stringify(key ?? '?')} (allowed: ${KEYS.join(', ')})`, pair.key);
      fields.set(key!, pair);
    }
    const value = (key: string) => fields.get(key)?.value;
    const at = (key: string) => value(key) ?? fields.get(key)?.key ?? item;

    const url = value('url');
    if (!isScalar(url) || typeof url.value !== 'string') return fail(`${label}.url: required, an http:// or https:// URL`, at('url'));
    const urlProblem = checkUrl(url.value);
    if (urlProblem) fail(`${label}.url: ${urlProblem}`, url);

    const secret = value('secret');
    if (!isScalar(secret) || typeof secret.value !== 'string' || secret.value.length < MIN_SECRET_LENGTH || secret.value.length > MAX_SECRET_LENGTH) {
      fail(`${label}.secret: required, a string of ${MIN_SECRET_LENGTH}-${MAX_SECRET_LENGTH} characters (\`openssl rand -hex 32\` makes a good one)`, at('secret'));
    }

    const events = value('events');
    const eventsHint = `a non-empty list of ${WEBHOOK_EVENTS.join(', ')}`;
    if (!isSeq(events) || events.items.length === 0) return fail(`${label}.events: required, ${eventsHint}`, at('events'));
    const names: WebhookEvent[] = [];
    for (const e of events.items) {
      const name = isScalar(e) ? e.value : undefined;
      if (typeof name !== 'string' || !(WEBHOOK_EVENTS as readonly string[]).includes(name)) {
        fail(`${label}.events: unknown event ${typeof name === 'string' ? JSON.stringify(name) : 'value'}; ${eventsHint}`, e);
      }
      if (!names.includes(name as WebhookEvent)) names.push(name as WebhookEvent);
    }

    const format = value('format');
    let fmt: WebhookFormat = 'json';
    if (format !== undefined && format !== null) {
      const f = isScalar(format) ? format.value : undefined;
      if (typeof f !== 'string' || !(WEBHOOK_FORMATS as readonly string[]).includes(f)) fail(`${label}.format: json or slack`, format);
      fmt = f as WebhookFormat;
    }
    return { url: url.value, events: names, secret: (secret as { value: string }).value, format: fmt };
  });
}

/** What is wrong with a webhook URL, in words that do not repeat it; undefined when it is usable. */
export function checkUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'not a valid URL; write it in full, as http://host/path or https://host/path';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL, not ${url.protocol}`;
  return undefined;
}

function keyOf(pair: Pair): string | undefined {
  return isScalar(pair.key) && typeof pair.key.value === 'string' ? pair.key.value : undefined;
}
