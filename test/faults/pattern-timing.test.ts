// A runbook's `pattern` cannot stall the server: `(a+)+` against `a`×n + `!` takes exponential time
// in a backtracking engine (seconds at n = 28), and linear time in RE2. Times are compared with an
// idle /api/health in the same process, never with absolute numbers.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_VALUE_LENGTH } from '../../server/runbook/params.js';
import { OWNER, startTestServer, type TestServer } from '../http/helpers.js';

const RUNBOOK = `---
params:
  word:
    type: string
    pattern: "(a+)+"
---
# Evil pattern

\`\`\`dynamodb {"name": "read"}
operation: GetItem
TableName: Customers
Key:
  customerId: "{{word}}"
\`\`\`
`;

// At most this many idle health requests' time; the floor keeps a very fast machine from failing on noise.
const RATIO = 20;
const FLOOR_MS = 50;

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

describe('a pathological parameter pattern', () => {
  let server: TestServer;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rb-pattern-'));
    await mkdir(join(dir, 'evil'));
    await writeFile(join(dir, 'evil', 'pattern.md'), RUNBOOK);
    server = await startTestServer({ runbooksDir: dir });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const health = () => fetch(`${base}/api/health`).then(async (r) => ({ status: r.status, body: await r.text() }));
  const start = (word: string) =>
    fetch(`${base}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OWNER.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ runbook: 'evil/pattern', params: { word } }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error: { code: string } } }));

  it.each([
    ['30 a and a !', 'a'.repeat(30) + '!'],
    ['the longest value accepted', 'a'.repeat(MAX_VALUE_LENGTH - 1) + '!'],
  ])('refuses %s at once while /api/health answers at once', async (_name, word) => {
    expect(word.length).toBeLessThanOrEqual(MAX_VALUE_LENGTH);
    // Warm up both routes (the runbook's first parse, the pattern's compilation), then time idle health.
    await start('aaa');
    await health();
    const idle: number[] = [];
    for (let i = 0; i < 15; i++) idle.push((await timed(health)).ms);
    const limit = Math.max(RATIO * median(idle), FLOOR_MS);

    const run = timed(() => start(word));
    // Sent once the POST is on its way, so that a blocked event loop would hold it up too.
    await new Promise((resolve) => setImmediate(resolve));
    const [refused, during] = await Promise.all([run, timed(health)]);

    expect(refused.value.status).toBe(400);
    expect(refused.value.body.error.code).toBe('RB_ERR_PARAM_INVALID');
    expect(JSON.stringify(refused.value.body)).toContain('does not match the pattern (a+)+');
    expect(during.value.status).toBe(200);
    expect(refused.ms, `POST took ${refused.ms.toFixed(1)} ms; idle health ${median(idle).toFixed(2)} ms`).toBeLessThan(limit);
    expect(during.ms, `health took ${during.ms.toFixed(1)} ms; idle health ${median(idle).toFixed(2)} ms`).toBeLessThan(limit);
  });

  it('starts the run when the whole value matches', async () => {
    const started = await start('a'.repeat(MAX_VALUE_LENGTH));
    expect(started.status).toBe(201);
  });
});
