/**
 * Redaction (docs/format.md, "Redaction"; docs/security.md): a runbook's `redact` list and the
 * server's together mask values where DynamoDB's answer enters the engine. The raw values, unique
 * to this test, are then searched for in everything that leaves the server or stays behind it:
 * every API response, every WebSocket frame, the three transcripts, the CSVs, the audit log, the
 * data folder's journals and item files, and the server's log; and in `runbooks run`'s stdout,
 * --json and --transcript. The attributes that are not redacted must be there all along.
 */
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { FastifyInstance } from 'fastify';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp } from '../../server/http/app.js';
import type { RunEngine } from '../../server/runs/engine.js';
import { testEngine } from '../helpers/engine.js';
import { createTestTable, localDynamo, roleArn } from '../helpers/sandbox.js';
import { requireBuild, runCli, sandboxAwsEnv } from '../helpers/cli.js';
import { bearer, OWNER, USERS } from './helpers.js';

const u = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const table = `RbRedact${u}`;
const idA = `cust-a-${u}`;
const idB = `cust-b-${u}`;
// The raw values: none may leave the server. Long and unique, so that no mask or id can contain one.
const RAW = {
  emailA: `ada.lovelace.${u}@example.org`,
  emailB: `grace.hopper.${u}@example.org`,
  cityA: `Zqxborough${u}`,
  cityB: `Vwyhampton${u}`,
  phoneA: `+44-7700-${u}-11`,
  phoneB1: `+1-202-${u}-21`,
  phoneB2: `+1-202-${u}-22`,
  cardA: String(4_000_000_000_000_000 + Math.floor(Math.random() * 900_000_000_000_000)),
};
// Attributes that are not redacted, which every output must still show.
const VISIBLE = { street: `Visible Street ${u}`, brand: `visa-${u}` };

const RUNBOOK = (approval: boolean) => `---
title: Check a customer
params:
  id: { type: string }
redact: [email, "address.city", "card.number"]
${approval ? 'access:\n  approval: writes\n' : ''}---
# Read the customer
\`\`\`dynamodb {"name":"read"}
operation: GetItem
TableName: ${table}
Key: { id: "{{id}}" }
\`\`\`
# Customers by e-mail, one at a time
\`\`\`dynamodb {"name":"scan","maxItems":1}
operation: Scan
TableName: ${table}
IndexName: ByEmail
\`\`\`
# The same customer in PartiQL
\`\`\`partiql {"name":"select"}
SELECT * FROM "${table}" WHERE id = {{id}}
\`\`\`
# Mark the customer checked
\`\`\`dynamodb {"name":"mark"}
operation: UpdateItem
TableName: ${table}
Key: { id: "{{steps.read.first.id}}" }
UpdateExpression: "SET #s = :s"
ExpressionAttributeNames: { "#s": status }
ExpressionAttributeValues: { ":s": "checked" }
ReturnValues: ALL_NEW
\`\`\`
${
  approval
    ? `# Passing on a redacted value
\`\`\`dynamodb {"name":"pass-phone"}
operation: GetItem
TableName: ${table}
Key: { id: "{{steps.read.first.phone}}" }
\`\`\`
`
    : ''
}`;

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rb-redact-'));
  const local = localDynamo();
  await createTestTable(table, ['id'], undefined, { ByEmail: 'email' });
  const doc = DynamoDBDocumentClient.from(local);
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        id: idA,
        name: `Ada ${u}`,
        email: RAW.emailA,
        phone: RAW.phoneA,
        address: { city: RAW.cityA, street: VISIBLE.street },
        card: { number: Number(RAW.cardA), brand: VISIBLE.brand },
        status: 'new',
      },
    }),
  );
  await doc.send(new PutCommand({ TableName: table, Item: { id: idB, name: `Grace ${u}`, email: RAW.emailB, phone: [RAW.phoneB1, RAW.phoneB2], address: { city: RAW.cityB } } }));
  local.destroy();
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The raw values found in `text`, by name. */
function leaks(text: string): string[] {
  return Object.entries(RAW)
    .filter(([, raw]) => text.includes(raw))
    .map(([name]) => name);
}

/** Every file under `dir`, as text. */
async function filesUnder(dir: string): Promise<Array<{ path: string; text: string }>> {
  const out: Array<{ path: string; text: string }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, text: await readFile(path, 'utf8') });
  }
  return out;
}

const MASKED_STRING = /^•••\[redacted: (?:\d+–\d+|over 1000) chars\]$/;

describe('redaction through the server', () => {
  let app: FastifyInstance;
  let engine: RunEngine;
  let dataDir: string;
  const log: string[] = [];
  const responses: Array<{ what: string; body: string }> = [];
  const frames: string[] = [];
  let socket: WebSocket;

  beforeAll(async () => {
    dataDir = join(work, 'server-data');
    const runbooksDir = join(work, 'runbooks');
    await mkdir(join(runbooksDir, 'customers'), { recursive: true });
    await writeFile(join(runbooksDir, 'customers', 'check.md'), RUNBOOK(true));
    engine = await testEngine({ dataDir, redact: ['phone'], onInternalError: (err) => log.push(String(err)) });
    const stream = new Writable({
      write(chunk, _encoding, done) {
        log.push(String(chunk));
        done();
      },
    });
    app = await buildApp({
      engine,
      runbooksDir,
      auth: { token: OWNER.token, tokenUser: OWNER.name, users: Object.values(USERS) },
      logger: { level: 'trace', stream },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    socket = new WebSocket(`ws://127.0.0.1:${port}/api/events`, { headers: bearer('owner') });
    socket.on('message', (data) => frames.push(String(data)));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  });

  afterAll(async () => {
    socket?.close();
    await app?.close();
    await engine?.close();
  });

  const call = async (who: 'alice' | 'bob', method: 'GET' | 'POST', url: string, payload?: object) => {
    const res = await app.inject({ method, url, headers: bearer(who), ...(payload ? { payload } : {}) });
    responses.push({ what: `${method} ${url}`, body: res.body });
    return res;
  };

  it('masks every redacted value in every output, and only those', async () => {
    const run = (await call('alice', 'POST', '/api/runs', { runbook: 'customers/check', params: { id: idA } })).json().run;
    expect(run.redact).toEqual(['email', 'address.city', 'card.number', 'phone']);
    const base = `/api/runs/${run.id}/steps`;

    const read = (await call('alice', 'POST', `${base}/read/execute`, {})).json().execution;
    expect(read.status).toBe('succeeded');
    const item = read.items[0];
    expect(item.id).toBe(idA);
    expect(item.email).toMatch(MASKED_STRING);
    expect(item.phone).toMatch(MASKED_STRING);
    expect(item.address).toEqual({ city: expect.stringMatching(MASKED_STRING), street: VISIBLE.street });
    expect(item.card).toEqual({ number: '•••[redacted number]', brand: VISIBLE.brand });

    // An index keyed by e-mail, a page at a time: its cursor holds an e-mail and is never recorded.
    const scan = (await call('alice', 'POST', `${base}/scan/execute`, {})).json().execution;
    expect(scan).toMatchObject({ status: 'succeeded', hasMore: true, itemCount: 1 });
    const more = (await call('alice', 'POST', `${base}/scan/more`, {})).json().execution;
    expect(more.itemCount).toBe(2);
    const scanned = (await call('alice', 'GET', `${base}/scan/items?offset=0&limit=10`)).json().items as Array<Record<string, unknown>>;
    const grace = scanned.find((i) => i.id === idB)!;
    // A list of a redacted attribute masks each element.
    expect(grace.phone).toEqual([expect.stringMatching(MASKED_STRING), expect.stringMatching(MASKED_STRING)]);

    const select = (await call('alice', 'POST', `${base}/select/execute`, {})).json().execution;
    expect(select.items[0]).toMatchObject({ id: idA, email: expect.stringMatching(MASKED_STRING) });

    // The server's list is not the runbook's, so check let it pass; the run refuses it.
    const passed = await call('alice', 'POST', `${base}/pass-phone/execute`, {});
    expect(passed.statusCode).toBe(422);
    expect(passed.json().error.code).toBe('RB_ERR_STEP_INPUT_REDACTED');
    expect(passed.json().error.message).toMatch(/steps\.read\.first\.phone.*redacted/);

    // The write: approval (its before-image and inputs), confirmation, then the run.
    const asked = await call('alice', 'POST', `${base}/mark/execute`, { confirm: true });
    expect(asked.json().error.code).toBe('RB_ERR_RUN_APPROVAL_REQUIRED');
    const approval = asked.json().error.details.approval;
    expect(approval.inputs).toEqual([{ ref: 'steps.read.first.id', step: 'read', n: 1, value: idA }]);
    expect(approval.before.items[0].before.email).toMatch(MASKED_STRING);
    expect(approval.before.items[0].redacted).toEqual(['address.city', 'card.number', 'email', 'phone']);
    expect((await call('bob', 'POST', `${base}/mark/approve`, { comment: 'ok' })).statusCode).toBe(200);
    const unconfirmed = await call('alice', 'POST', `${base}/mark/execute`, {});
    expect(unconfirmed.json().error.code).toBe('RB_ERR_RUN_CONFIRM_REQUIRED');
    expect(unconfirmed.json().error.details.before.items[0].before.address.street).toBe(VISIBLE.street);
    const mark = (await call('alice', 'POST', `${base}/mark/execute`, { confirm: true })).json().execution;
    expect(mark.status).toBe('succeeded');
    expect(mark.attributes).toMatchObject({ status: 'checked', email: expect.stringMatching(MASKED_STRING), address: { street: VISIBLE.street } });
    const image = mark.images.items[0];
    expect(image.after).toMatchObject({ status: 'checked', phone: expect.stringMatching(MASKED_STRING) });
    expect(image.diff).toEqual([{ attribute: 'status', change: 'changed', before: 'new', after: 'checked' }]);
    expect(mark.inputs).toEqual([{ ref: 'steps.read.first.id', step: 'read', n: 1, value: idA }]);

    // The revert would need the real values of the images: refused, saying why.
    const revert = await call('alice', 'POST', `${base}/mark/revert`, { n: 1, confirm: true });
    expect(revert.statusCode).toBe(409);
    expect(revert.json().error.code).toBe('RB_ERR_REVERT_UNAVAILABLE');
    expect(revert.json().error.message).toMatch(/redacted \(address\.city, card\.number, email, phone\).*real values/);

    // Everything a user can read back.
    await call('alice', 'GET', '/api/runs');
    await call('alice', 'GET', `/api/runs/${run.id}`);
    await call('alice', 'GET', `/api/runs/${run.id}/runbook`);
    for (const step of ['read', 'scan', 'select']) await call('alice', 'GET', `${base}/${step}/items?offset=0&limit=100`);
    const transcripts: Record<string, string> = {};
    for (const format of ['md', 'json', 'html']) transcripts[format] = (await call('alice', 'GET', `/api/runs/${run.id}/transcript?format=${format}`)).body;
    const csv: string[] = [];
    for (const step of ['read', 'scan', 'select']) csv.push((await call('alice', 'GET', `${base}/${step}/result.csv`)).body);
    expect((await call('alice', 'POST', `/api/runs/${run.id}/complete`, {})).statusCode).toBe(200);
    const end = Date.now() + 10_000;
    while (!frames.some((f) => f.includes('"run.completed"') && f.includes(run.id)) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));

    // Nothing holds a raw value...
    for (const { what, body } of responses) expect(leaks(body), what).toEqual([]);
    expect(frames.length).toBeGreaterThan(10);
    for (const frame of frames) expect(leaks(frame), frame.slice(0, 80)).toEqual([]);
    for (const [format, text] of Object.entries(transcripts)) expect(leaks(text), `${format} transcript`).toEqual([]);
    for (const text of csv) expect(leaks(text), 'CSV').toEqual([]);
    const files = await filesUnder(dataDir);
    expect(files.some((f) => f.path.endsWith('audit.jsonl'))).toBe(true);
    expect(files.some((f) => f.path.endsWith('.jsonl') && f.path.includes(`${run.id}`) && !f.path.endsWith('journal.jsonl'))).toBe(true);
    for (const { path, text } of files) expect(leaks(text), path).toEqual([]);
    expect(log.length).toBeGreaterThan(0);
    expect(leaks(log.join('\n')), 'server log').toEqual([]);

    // ...while what is not redacted is everywhere it was.
    expect(transcripts.md).toContain(VISIBLE.street);
    expect(transcripts.md).toContain('Redacted');
    expect(transcripts.html).toContain(VISIBLE.brand);
    expect(transcripts.json).toContain(VISIBLE.street);
    expect(csv[0]).toContain(VISIBLE.street);
    expect(csv[0]).toContain('•••[redacted');
    expect(frames.some((f) => f.includes(VISIBLE.street))).toBe(true);
    const audit = files.find((f) => f.path.endsWith('audit.jsonl'))!.text;
    expect(audit).toContain(VISIBLE.street);
    expect(files.filter((f) => f.text.includes(VISIBLE.brand)).length).toBeGreaterThan(2);
  });
});

describe('redaction in `runbooks run`', () => {
  beforeAll(() => requireBuild());

  it('masks stdout tables, --json and every --transcript with --redact (or RUNBOOKS_REDACT)', async () => {
    const file = join(work, 'cli-check.md');
    await writeFile(file, RUNBOOK(false));
    const dataDir = join(work, 'cli-data');
    const common = [file, '--aws', '--role', roleArn('runbook-tester'), '--data', dataDir, '-p', `id=${idA}`, '--yes'];
    const outputs: Array<{ what: string; text: string }> = [];

    const table = await runCli(['run', ...common, '--redact', 'phone', '--transcript', join(work, 't.md')], sandboxAwsEnv());
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('•••[redacted');
    expect(table.stdout).toContain(`Ada ${u}`);
    outputs.push({ what: 'stdout', text: table.stdout }, { what: 'stderr', text: table.stderr });

    const json = await runCli(['run', ...common, '--json', '--transcript', join(work, 't.json')], { ...sandboxAwsEnv(), RUNBOOKS_REDACT: 'phone' });
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as { run: { redact: string[] } };
    expect(doc.run.redact).toEqual(['email', 'address.city', 'card.number', 'phone']);
    outputs.push({ what: '--json', text: json.stdout }, { what: 'stderr', text: json.stderr });

    const html = await runCli(['run', ...common, '--redact', 'phone,email', '--transcript', join(work, 't.html')], sandboxAwsEnv());
    expect(html.code, html.stderr).toBe(0);
    for (const name of ['t.md', 't.json', 't.html']) {
      const text = await readFile(join(work, name), 'utf8');
      expect(text).toContain(VISIBLE.street);
      outputs.push({ what: name, text });
    }
    for (const { path, text } of await filesUnder(dataDir)) outputs.push({ what: path, text });
    for (const { what, text } of outputs) expect(leaks(text), what).toEqual([]);

    const bad = await runCli(['run', ...common, '--redact', 'card..number'], sandboxAwsEnv());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--redact: `card\.\.number` has an empty segment/);
  });

  it('`serve` refuses a bad --redact before it starts anything', async () => {
    const bad = await runCli(['serve', work, '--port', '0', '--redact', 'phone', '--redact', 'email,.city'], sandboxAwsEnv());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--redact: `\.city` has an empty segment/);
  });
});
