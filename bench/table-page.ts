/**
 * The page bench/table-scroll.ts measures, bundled for the browser: the notebook's result table
 * (client/views/result-table.ts with client/item-source.ts and the real styles) showing an
 * execution of every item the bench serves, which came with its first 100, the rest fetched from
 * the bench's items route as the table scrolls. Two baselines: `?mode=plain`, a plain scroller of the same
 * size with nothing in it (what the browser does for a wheel scroll alone), and `?mode=frozen`, a
 * copy of the table's elements without its script (the same content scrolled, no row ever changing:
 * what painting these rows costs the browser).
 */
import { ItemSource } from '../client/item-source.js';
import { ResultTable } from '../client/views/result-table.js';

declare global {
  interface Window {
    benchReady?: boolean;
  }
}

const ROW_HEIGHT = 30;
const HEADER = 34;

async function main(): Promise<void> {
  const query = new URLSearchParams(location.search);
  const root = document.getElementById('root')!;
  const results = document.createElement('div');
  results.className = 'results';
  root.append(results);
  const first = (await (await fetch('/api/runs/bench/steps/orders/items?n=1&offset=0&limit=100')).json()) as { total: number; items: Record<string, unknown>[] };
  if (query.get('mode') === 'plain') {
    const scroller = document.createElement('div');
    scroller.className = 'table-scroll';
    scroller.tabIndex = 0;
    const inner = document.createElement('div');
    inner.style.height = `${first.total * ROW_HEIGHT + HEADER}px`;
    scroller.append(inner);
    results.append(scroller);
  } else {
    const source = new ItemSource({ run: 'bench', step: 'orders', n: 1, first: first.items, total: first.total });
    const table = new ResultTable({ label: 'Results of Orders', keys: ['pk', 'sk'], projection: [], onShowItem: () => undefined });
    results.append(table.element);
    table.show(source);
    // cloneNode copies elements and attributes, not listeners: the copy never updates its rows.
    if (query.get('mode') === 'frozen') table.element.replaceWith(table.element.cloneNode(true));
  }
  window.benchReady = true;
}

void main();
