/**
 * Redaction applied to what a step brings back (../runbook/redact.ts has the masks): its items,
 * its ReturnValues, the before and after images of a write and their difference. The engine calls
 * these where DynamoDB's answer enters it, so that no record, stored item, event, view or export
 * ever holds a redacted value (docs/security.md, "Redaction").
 */
import type { Cursor, ExecutionResult } from '../dynamo/execute.js';
import type { Redactor } from '../runbook/redact.js';
import type { ItemImage, WriteImages } from './types.js';

/** Items with their redacted values masked. */
export function redactItems(redactor: Redactor | undefined, items: Record<string, unknown>[]): Record<string, unknown>[] {
  return redactor ? items.map((item) => redactor.item(item).item) : items;
}

/** A result whose items and ReturnValues are masked (counts, capacity and cursor as they were). */
export function redactResult(redactor: Redactor | undefined, result: ExecutionResult): ExecutionResult {
  if (!redactor) return result;
  return {
    ...result,
    items: redactItems(redactor, result.items),
    ...(result.attributes ? { attributes: redactor.item(result.attributes).item } : {}),
  };
}

/**
 * Images whose items, keys and differences are masked. Each item that lost a value to a mask says
 * which entries in `redacted`: a revert would need those real values (see the engine's `revert`).
 */
export function redactImages(redactor: Redactor | undefined, images: WriteImages): WriteImages {
  if (!redactor || 'unavailable' in images) return images;
  return { ...images, items: images.items.map((image) => redactImage(redactor, image)) };
}

function redactImage(redactor: Redactor, image: ItemImage): ItemImage {
  const masked = new Set<string>();
  const mask = (item: Record<string, unknown>) => {
    const out = redactor.item(item);
    for (const m of out.masked) masked.add(m);
    return out.item;
  };
  const out: ItemImage = { ...image, key: mask(image.key), before: image.before && mask(image.before) };
  if (image.after !== undefined) out.after = image.after && mask(image.after);
  if (image.diff) {
    // A change is masked as the attribute would be in the item, so that a path into a map masks only its key.
    out.diff = image.diff.map((change) => {
      const c = { ...change };
      if ('before' in change) c.before = mask({ [change.attribute]: change.before })[change.attribute];
      if ('after' in change) c.after = mask({ [change.attribute]: change.after })[change.attribute];
      return c;
    });
  }
  if (masked.size > 0) out.redacted = [...masked].sort();
  return out;
}

/**
 * True when a cursor may hold a redacted value: a LastEvaluatedKey with a redacted attribute (an
 * index keyed by e-mail, say), or any PartiQL NextToken of a redacted run (opaque, and DynamoDB
 * Local's is the next key in plain base64 JSON). Such a cursor is kept in memory only, never recorded.
 */
export function cursorHoldsRedacted(redactor: Redactor | undefined, cursor: Cursor | undefined): boolean {
  if (!redactor || !cursor) return false;
  if (cursor.nextToken !== undefined) return true;
  if (!cursor.exclusiveStartKey) return false;
  const key = Object.fromEntries(Object.entries(cursor.exclusiveStartKey).map(([k, v]) => [k, Object.values(v)[0]]));
  return redactor.item(key).masked.length > 0;
}
