/**
 * A write's items, before and after: the items it would change as they are now ("Current item",
 * in a confirmation and on an approval card), and an executed write's attribute-level difference as
 * a table. Everything goes in as text.
 */
import type { ItemImage, WriteImages } from '../api-types.js';
import { h, jsonBlock } from '../dom.js';
import { formatTime, formatValue } from '../format.js';

type Heading = 'h3' | 'h4';

function keyLine(item: ItemImage): HTMLElement {
  return h(
    'p',
    { class: 'image-key' },
    h('span', { class: 'muted' }, 'Table '),
    h('code', {}, item.table),
    h('span', { class: 'muted' }, ' · key '),
    h('code', {}, JSON.stringify(item.key)),
  );
}

/** The items a write would change, as read before it runs; null when the server sent none. */
export function currentItems(images: WriteImages | undefined, heading: Heading, label: string): HTMLElement | null {
  if (!images) return null;
  if ('unavailable' in images) {
    return h('section', { class: 'write-images' }, h(heading, {}, 'Current items'), h('p', { class: 'muted' }, `Not shown: ${images.unavailable}`));
  }
  const many = images.items.length !== 1;
  return h(
    'section',
    { class: 'write-images' },
    h(heading, {}, many ? 'Current items' : 'Current item'),
    images.readAt ? h('p', { class: 'muted' }, `As read at ${formatTime(images.readAt)}.`) : null,
    images.items.length === 0 ? h('p', { class: 'muted' }, 'The write addresses no item.') : null,
    images.items.map((item, i) =>
      h(
        'div',
        { class: 'image-item' },
        keyLine(item),
        item.before === null ? h('p', { class: 'muted' }, 'No item: nothing has this key now.') : jsonBlock(item.before, `Current item ${many ? `${i + 1} ` : ''}${label}`),
      ),
    ),
  );
}

function value(v: unknown): HTMLElement {
  return v === undefined ? h('span', { class: 'v-absent', 'aria-label': 'absent' }) : h('span', {}, formatValue(v));
}

function itemChanges(item: ItemImage): HTMLElement {
  const fate = item.before === null ? 'The write created this item.' : item.after === null ? 'The write deleted this item.' : undefined;
  const diff = item.diff ?? [];
  return h(
    'div',
    { class: 'image-item' },
    keyLine(item),
    fate ? h('p', { class: 'muted' }, fate) : null,
    diff.length === 0
      ? h('p', { class: 'muted' }, item.after === undefined ? 'Its image after the write was not read.' : 'No attribute changed.')
      : h(
          'table',
          { class: 'data-table diff-table' },
          h('caption', { class: 'visually-hidden' }, `Changes to ${item.table} ${JSON.stringify(item.key)}`),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Attribute', 'Before', 'After'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            {},
            diff.map((d) =>
              h(
                'tr',
                { class: `change-${d.change}` },
                h('td', { class: 'mono' }, d.attribute),
                h('td', { class: 'mono' }, value(d.before)),
                h('td', { class: 'mono' }, value(d.after)),
              ),
            ),
          ),
        ),
  );
}

/** What an executed write changed, item by item; null when the server sent no images. */
export function writeChanges(images: WriteImages | undefined): HTMLElement | null {
  if (!images) return null;
  if ('unavailable' in images)
    return h('section', { class: 'write-images' }, h('h4', {}, 'Before and after'), h('p', { class: 'muted' }, `No before and after images: ${images.unavailable}`));
  return h('section', { class: 'write-images' }, h('h4', {}, 'Before and after'), images.items.map(itemChanges));
}
