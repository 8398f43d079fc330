/**
 * Redaction's masks and lists (docs/format.md, "Redaction"): what each kind of value becomes, which
 * paths reach what, what `check` reports about a `redact` list and about a step output it masks,
 * and that a server list is checked before an engine opens.
 */
import { describe, expect, it } from 'vitest';
import { isRbError } from '../../server/errors.js';
import { parseRunbook } from '../../server/runbook/parse.js';
import { checkRedactList, createRedactor, holdsMask, maskValue, redactedBy, splitRedactFlags } from '../../server/runbook/redact.js';
import { RunEngine } from '../../server/runs/engine.js';
import { cursorHoldsRedacted, redactImages } from '../../server/runs/redaction.js';
import { lookupSteps } from '../helpers/runbooks.js';

describe('masks', () => {
  it('keep the type and length class of a value, never its content', () => {
    expect(maskValue('')).toBe('•••[redacted: empty]');
    expect(maskValue('a')).toBe('•••[redacted: 1–10 chars]');
    expect(maskValue('x'.repeat(11))).toBe('•••[redacted: 11–20 chars]');
    expect(maskValue('ada@example.org')).toBe('•••[redacted: 11–20 chars]');
    expect(maskValue('é'.repeat(20))).toBe('•••[redacted: 11–20 chars]');
    expect(maskValue('x'.repeat(50))).toBe('•••[redacted: 21–50 chars]');
    expect(maskValue('x'.repeat(100))).toBe('•••[redacted: 51–100 chars]');
    expect(maskValue('x'.repeat(1000))).toBe('•••[redacted: 101–1000 chars]');
    expect(maskValue('x'.repeat(1001))).toBe('•••[redacted: over 1000 chars]');
    expect(maskValue(4111111111111111)).toBe('•••[redacted number]');
    expect(maskValue(0)).toBe('•••[redacted number]');
    expect(maskValue(false)).toBe('•••[redacted boolean]');
    expect(maskValue(null)).toBe('•••[redacted null]');
    expect(maskValue({ a: 1, b: 'secret' })).toBe('•••[redacted map: 2 keys]');
    expect(maskValue({ a: 1 })).toBe('•••[redacted map: 1 key]');
    expect(maskValue(['+1 202', 7, ['x']])).toEqual(['•••[redacted: 1–10 chars]', '•••[redacted number]', ['•••[redacted: 1–10 chars]']]);
  });

  it('are recognised wherever they are nested', () => {
    expect(holdsMask(maskValue('x'))).toBe(true);
    expect(holdsMask({ a: [1, { b: maskValue(2) }] })).toBe(true);
    expect(holdsMask({ a: [1, { b: 'redacted' }] })).toBe(false);
  });
});

describe('a redactor', () => {
  const redactor = createRedactor(['email', 'address.city', 'addresses.city', 'card.number', 'tags'])!;
  const item = {
    id: 'c1',
    email: 'ada@example.org',
    address: { city: 'London', street: 'Baker Street' },
    addresses: [{ city: 'Paris', zip: '75001' }, { zip: 'none' }, 'not a map'],
    card: { number: 4111111111111111, brand: 'visa' },
    tags: ['vip', 'late payer'],
  };

  it('masks a name whole, a path only at its key, through lists element by element', () => {
    const { item: out, masked } = redactor.item(item);
    expect(out).toEqual({
      id: 'c1',
      email: '•••[redacted: 11–20 chars]',
      address: { city: '•••[redacted: 1–10 chars]', street: 'Baker Street' },
      addresses: [{ city: '•••[redacted: 1–10 chars]', zip: '75001' }, { zip: 'none' }, 'not a map'],
      card: { number: '•••[redacted number]', brand: 'visa' },
      tags: ['•••[redacted: 1–10 chars]', '•••[redacted: 1–10 chars]'],
    });
    expect(masked).toEqual(['email', 'address.city', 'addresses.city', 'card.number', 'tags']);
    // The item it was given is left as it was.
    expect(item.email).toBe('ada@example.org');
  });

  it('leaves items without the attributes unchanged, and takes a dotted name literally too', () => {
    expect(redactor.item({ id: 'c2', address: 'a string' })).toEqual({ item: { id: 'c2', address: 'a string' }, masked: [] });
    expect(redactor.item({ 'card.number': '4111' }).item).toEqual({ 'card.number': '•••[redacted: 1–10 chars]' });
  });

  it('masks write images, their keys and their difference, and says which entries did', () => {
    const images = redactImages(createRedactor(['email', 'address.city']), {
      readAt: '2026-01-01T00:00:00Z',
      items: [
        {
          table: 'T',
          key: { email: 'ada@example.org' },
          before: { email: 'ada@example.org', address: { city: 'London', street: 'Baker Street' } },
          after: { email: 'ada@example.org', address: { city: 'Leeds', street: 'Baker Street' } },
          diff: [{ attribute: 'address', change: 'changed', before: { city: 'London', street: 'Baker Street' }, after: { city: 'Leeds', street: 'Baker Street' } }],
        },
        { table: 'T', key: { email: 'x' }, before: null, after: null, diff: [] },
      ],
    });
    expect(images).toEqual({
      readAt: '2026-01-01T00:00:00Z',
      items: [
        {
          table: 'T',
          key: { email: '•••[redacted: 11–20 chars]' },
          before: { email: '•••[redacted: 11–20 chars]', address: { city: '•••[redacted: 1–10 chars]', street: 'Baker Street' } },
          after: { email: '•••[redacted: 11–20 chars]', address: { city: '•••[redacted: 1–10 chars]', street: 'Baker Street' } },
          diff: [
            {
              attribute: 'address',
              change: 'changed',
              before: { city: '•••[redacted: 1–10 chars]', street: 'Baker Street' },
              after: { city: '•••[redacted: 1–10 chars]', street: 'Baker Street' },
            },
          ],
          redacted: ['address.city', 'email'],
        },
        { table: 'T', key: { email: '•••[redacted: 1–10 chars]' }, before: null, after: null, diff: [], redacted: ['email'] },
      ],
    });
    expect(redactImages(undefined, { unavailable: 'why' })).toEqual({ unavailable: 'why' });
  });

  it('holds back cursors that may carry a redacted key: an index key, any PartiQL token', () => {
    const r = createRedactor(['email']);
    expect(cursorHoldsRedacted(r, { exclusiveStartKey: { id: { S: 'c1' }, email: { S: 'a@b' } }, delivered: 1 })).toBe(true);
    expect(cursorHoldsRedacted(r, { exclusiveStartKey: { id: { S: 'c1' } }, delivered: 1 })).toBe(false);
    expect(cursorHoldsRedacted(r, { nextToken: 'opaque', delivered: 1 })).toBe(true);
    expect(cursorHoldsRedacted(undefined, { nextToken: 'opaque', delivered: 1 })).toBe(false);
  });

  it('is none for an empty list', () => {
    expect(createRedactor([])).toBeUndefined();
  });
});

describe('redaction lists', () => {
  it('reach the outputs they mask, and the maps and lists that hold them', () => {
    expect(redactedBy(['email'], ['email'])).toBe('email');
    expect(redactedBy(['card'], ['card.number'])).toBe('card.number');
    expect(redactedBy(['card', 'number', 'last4'], ['card.number'])).toBe('card.number');
    expect(redactedBy(['card', 'brand'], ['card.number'])).toBeUndefined();
    expect(redactedBy(['id'], ['email', 'card.number'])).toBeUndefined();
  });

  it('come from repeated and comma-separated flags, each entry checked', () => {
    expect(splitRedactFlags(['phone', 'email, card.number', ''])).toEqual(['phone', 'email', 'card.number']);
    expect(checkRedactList(['a', 'b.c'])).toEqual({ paths: ['a', 'b.c'], problems: [] });
    expect(checkRedactList(['a', 'a', 'b..c', '.d', 'x'.repeat(256)]).problems.map((p) => p.index)).toEqual([1, 2, 3, 4]);
    expect(checkRedactList(Array.from({ length: 101 }, (_, i) => `a${i}`)).problems[0].message).toMatch(/at most 100 entries/);
  });

  it('refuse a bad server list before an engine opens', async () => {
    const err = await RunEngine.create({
      dataDir: '/nonexistent/never-created',
      region: 'eu-west-1',
      defaultRoleArn: 'arn:aws:iam::123456789012:role/r',
      iamRevocation: false,
      redact: ['card..number'],
    }).catch((e: unknown) => e);
    expect(isRbError(err) && err.code).toBe('RB_ERR_CONFIG_INVALID');
    expect((err as Error).message).toMatch(/--redact: `card\.\.number` has an empty segment/);
  });
});

describe('redact in check', () => {
  // The redact line is line 3; the second step's key, line 15.
  const runbook = (redact: string, ref = 'id') => lookupSteps(`{{steps.one.first.${ref}}}`, { front: [`redact: ${redact}`] });
  const problems = (text: string) => parseRunbook(text, 'r.md').problems.map((p) => `${p.line}:${p.column} ${p.message}`);

  it('keeps a good list on the runbook', () => {
    const { runbook: parsed, problems: found } = parseRunbook(runbook('[email, "address.city", 2024]'), 'r.md');
    expect(found).toEqual([]);
    expect(parsed!.redact).toEqual(['email', 'address.city', '2024']);
  });

  it('places each bad entry at its line and column', () => {
    expect(problems(runbook('email'))).toEqual(['3:9 redact must be a list of attribute names or dotted paths, like `redact: [email, "card.number"]`, not the string "email"']);
    expect(problems(runbook('[email, "card..number", email, {a: 1}]'))).toEqual([
      '3:17 redact: `card..number` has an empty segment: write names joined by single dots, like `card.number`',
      '3:33 redact: `email` is listed twice',
      '3:40 each entry of redact must be an attribute name or a dotted path, not a map',
    ]);
  });

  it('reports a step output the list masks, at the reference', () => {
    expect(problems(runbook('[email]', 'email'))).toEqual([
      "15:15 `steps.one.first.email` is redacted (`email`): its value is never kept, so no step can use it; take an attribute that is not redacted, such as the item's key",
    ]);
    expect(problems(runbook('["card.number"]', 'card'))[0]).toMatch(/^15:15 `steps.one.first.card` is redacted \(`card.number`\)/);
    expect(problems(runbook('["card.number"]', 'card.brand'))).toEqual([]);
  });
});
