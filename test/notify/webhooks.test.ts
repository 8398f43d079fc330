// The webhook dispatcher on its own, fed events by hand: the bodies of both formats and what they
// leave out, the signature, no retry on a refusal, the bounded queue and closing with a grace.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookDispatcher, type NotifyLog, type WebhookDispatcher } from '../../server/notify/webhooks.js';
import type { WebhookDecl } from '../../server/notify/webhooks-file.js';
import type { Approval, Run, RunEvent, StepExecution } from '../../server/runs/types.js';
import { startReceiver, until, verifySignature, type Answer, type Receiver } from './receiver.js';

const SECRET = 'unit-secret-0123456789abcdef';
const AT = new Date('2026-03-01T12:00:00.000Z');

function fakeEngine(): { events: EventEmitter; getRun(id: string): Pick<Run, 'runbook' | 'title'> | undefined } {
  return { events: new EventEmitter(), getRun: (id) => (id.startsWith('run') ? { runbook: 'shop/fix-order', title: 'Fix an order <stuck> & paid' } : undefined) };
}

function decided(runId: string, status: 'approved' | 'denied' = 'approved'): RunEvent {
  const approval = {
    step: 'set-pending',
    status,
    requestedBy: 'alice',
    decidedBy: 'bob',
    comment: 'secret-ish comment',
    request: { operation: 'UpdateItem', input: { TableName: 'Orders' } },
    policy: { Statement: [] },
  } as unknown as Approval;
  return { type: 'approval.decided', runId, step: 'set-pending', approval };
}

function failed(runId: string): RunEvent {
  const execution = {
    n: 2,
    step: 'read',
    user: 'alice',
    status: 'failed',
    items: [{ card: '4111-1111' }],
    request: { operation: 'GetItem', input: {} },
    error: { code: 'RB_ERR_DYNAMO_ACCESS_DENIED', message: 'User arn:… item 4111-1111', awsCode: 'AccessDeniedException' },
  } as unknown as StepExecution;
  return { type: 'step.failed', runId, step: 'read', execution };
}

function capture(): NotifyLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (obj, msg) => lines.push(`${msg} ${JSON.stringify(obj)}`) };
}

describe('webhook dispatcher', () => {
  let receiver: Receiver | undefined;
  let dispatcher: WebhookDispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.close();
    await receiver?.close();
    dispatcher = undefined;
    receiver = undefined;
  });

  function start(
    answer: (r: Parameters<Parameters<typeof startReceiver>[0]>[0]) => Answer,
    hooks: (r: Receiver) => WebhookDecl[],
    extra: Partial<Parameters<typeof createWebhookDispatcher>[0]> = {},
  ) {
    return startReceiver(answer).then((r) => {
      receiver = r;
      const engine = fakeEngine();
      const log = capture();
      dispatcher = createWebhookDispatcher({ hooks: hooks(r), backoffMs: [10, 10, 10], clock: () => AT, log, ...extra });
      dispatcher.attach(engine);
      return { engine, log, receiver: r, dispatcher };
    });
  }

  /** A dispatcher with one JSON hook, for approval.decided, at `path` of a receiver that answers `answer`. */
  const startDecided = (answer: Parameters<typeof start>[0], path: string, extra: Parameters<typeof start>[2] = {}) =>
    start(answer, (r) => [{ url: r.url(path), events: ['approval.decided'], secret: SECRET, format: 'json' }], extra);

  it('builds small signed bodies of both formats, with the run link, never items, requests or messages', async () => {
    const {
      engine,
      receiver: r,
      dispatcher: d,
    } = await start(
      () => 200,
      (r) => [
        { url: r.url('/json'), events: ['approval.decided', 'step.failed'], secret: SECRET, format: 'json' },
        { url: r.url('/slack'), events: ['approval.decided', 'step.failed'], secret: SECRET, format: 'slack' },
      ],
      { publicUrl: 'https://runbooks.example.com/' },
    );
    engine.events.emit('event', decided('run1'));
    engine.events.emit('event', failed('run1'));
    engine.events.emit('event', { type: 'step.started', runId: 'run1', step: 'read', n: 1, user: 'alice' });
    // Emitting returned before anything was sent: delivery happens on later turns.
    expect(r.received).toHaveLength(0);
    await until(() => d.health().delivered === 4, 5000, 'four deliveries');
    const at = (path: string, event: string) => r.received.find((x) => x.path === path && x.headers['x-runbooks-event'] === event)!;

    const json = at('/json', 'approval.decided');
    expect(JSON.parse(json.body)).toEqual({
      event: 'approval.decided',
      at: AT.toISOString(),
      runId: 'run1',
      step: 'set-pending',
      runbook: 'shop/fix-order',
      title: 'Fix an order <stuck> & paid',
      url: 'https://runbooks.example.com/#/runs/run1',
      requestedBy: 'alice',
      decidedBy: 'bob',
      status: 'approved',
    });
    expect(json.headers['content-type']).toBe('application/json');
    expect(json.headers['x-runbooks-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(verifySignature(SECRET, json.body, json.headers['x-runbooks-signature-256'])).toBe(true);
    expect(JSON.parse(at('/json', 'step.failed').body)).toEqual({
      event: 'step.failed',
      at: AT.toISOString(),
      runId: 'run1',
      step: 'read',
      runbook: 'shop/fix-order',
      title: 'Fix an order <stuck> & paid',
      url: 'https://runbooks.example.com/#/runs/run1',
      user: 'alice',
      n: 2,
      error: { code: 'RB_ERR_DYNAMO_ACCESS_DENIED', awsCode: 'AccessDeniedException' },
    });

    const slack = at('/slack', 'approval.decided');
    expect(JSON.parse(slack.body)).toEqual({
      text: 'bob approved step set-pending of run <https://runbooks.example.com/#/runs/run1|run1> (Fix an order &lt;stuck&gt; &amp; paid)',
    });
    expect(verifySignature(SECRET, slack.body, slack.headers['x-runbooks-signature-256'])).toBe(true);
    expect(JSON.parse(at('/slack', 'step.failed').body).text).toBe(
      'Step read of run <https://runbooks.example.com/#/runs/run1|run1> (Fix an order &lt;stuck&gt; &amp; paid) failed for alice: RB_ERR_DYNAMO_ACCESS_DENIED (AccessDeniedException)',
    );
    const all = r.received.map((x) => x.body).join('\n');
    for (const never of ['4111', 'comment', 'UpdateItem', 'Statement', 'arn:', SECRET]) expect(all).not.toContain(never);
    // step.started is no webhook event.
    expect(r.received).toHaveLength(4);
  });

  it('gives up at once on a refusal (4xx), and names only the origin and status', async () => {
    const { engine, log, dispatcher: d } = await startDecided(() => 410, '/gone/p4thsecret?key=abc');
    engine.events.emit('event', decided('run2', 'denied'));
    await until(() => d.health().failed === 1, 5000, 'the failure');
    expect(receiver!.received).toHaveLength(1);
    expect(d.health()).toEqual({ configured: 1, delivered: 0, failed: 1, dropped: 0, pending: 0, lastFailure: { at: AT.toISOString(), url: receiver!.url(''), status: 410 } });
    expect(log.lines.join('\n')).toMatch(/giving up after 1 attempt/);
    for (const never of ['p4thsecret', 'key=abc', SECRET]) expect(log.lines.join('\n')).not.toContain(never);
  });

  it('drops the oldest deliveries beyond the bound, with a warning', async () => {
    let hold = true;
    const { engine, log, receiver: r, dispatcher: d } = await startDecided(() => (hold ? 'hold' : 200), '/q', { maxPending: 3, concurrency: 1 });
    for (let i = 1; i <= 5; i++) engine.events.emit('event', decided(`run${i}`));
    expect(d.health()).toMatchObject({ pending: 3, dropped: 2 });
    expect(log.lines.filter((l) => l.includes('dropped the oldest'))).toHaveLength(2);
    await until(() => r.held().length === 1, 5000, 'the first request');
    hold = false;
    r.release();
    await until(() => d.health().delivered === 3, 5000, 'the rest');
    expect(r.received.map((x) => JSON.parse(x.body).runId)).toEqual(['run3', 'run4', 'run5']);
    expect(d.health()).toMatchObject({ pending: 0, dropped: 2, failed: 0 });
  });

  it('abandons what is still pending after the grace when closed, and takes no more events', async () => {
    const { engine, log, receiver: r, dispatcher: d } = await startDecided(() => 'hold', '/slow', { closeGraceMs: 50, timeoutMs: 10_000 });
    engine.events.emit('event', decided('run1'));
    await until(() => r.held().length === 1, 5000, 'the held request');
    const started = Date.now();
    await d.close();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(log.lines.join('\n')).toMatch(/stopping; abandoned 1 pending delivery/);
    expect(d.health().pending).toBe(0);
    engine.events.emit('event', decided('run2'));
    expect(d.health().pending).toBe(0);
    expect(engine.events.listenerCount('event')).toBe(0);
  });
});
