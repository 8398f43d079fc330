/** ConsumedCapacity over several DynamoDB calls: one entry per table, numbers summed. */

type Capacity = Record<string, unknown>;

/** Adds the ConsumedCapacity of one response (an object, a list, or nothing) to a running total. */
export function addCapacity(total: Capacity[], consumed: unknown): Capacity[] {
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  const out = [...total];
  for (const c of list as Capacity[]) {
    const at = out.findIndex((t) => t.TableName === c.TableName);
    if (at < 0) out.push(structuredClone(c));
    else out[at] = sum(out[at], c) as Capacity;
  }
  return out;
}

function sum(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = k in out ? sum(out[k], v) : v;
    return out;
  }
  return a;
}
