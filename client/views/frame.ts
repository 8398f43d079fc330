/**
 * One animation-frame callback for every result table on the page, reading all their scroll
 * positions before any of them writes: layout is still clean from the last frame then, and no read
 * follows a write, so a frame never forces a layout.
 */

/** What a table does in a frame: its one read, then its writes. */
export interface FrameWork {
  readScroll(): void;
  renderFrame(): void;
}

/** Tables waiting for the next animation frame. */
const waiting = new Set<FrameWork>();
let frameRequested = false;

/** Renders a table in the next animation frame. */
export function nextFrame(table: FrameWork): void {
  waiting.add(table);
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    const tables = [...waiting];
    waiting.clear();
    for (const t of tables) t.readScroll();
    for (const t of tables) t.renderFrame();
  });
}
