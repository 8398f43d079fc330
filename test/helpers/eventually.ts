/**
 * Waiting for something that happens a moment later (a process exiting, an event arriving, another
 * replica catching up), bounded: polls `check` until it neither throws nor returns `false`, and
 * returns what it returned; after `timeoutMs` rethrows its last failure, or says what never came.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'the condition'): Promise<Exclude<T, false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      const value = await check();
      if (value !== false) return value as Exclude<T, false>;
    } catch (err) {
      failure = err;
    }
    if (Date.now() > deadline) throw failure !== undefined ? (failure as Error) : new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
