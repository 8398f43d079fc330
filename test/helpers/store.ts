/** Runs, records and outcomes for the run store tests. */
import { randomUUID } from 'node:crypto';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { isRbError, type RbError } from '../../server/errors.js';
import type { JournalRecord, RunHeader } from '../../server/runs/store.js';

export const header = (id: string, extra: Partial<RunHeader> = {}): RunHeader => ({
  id,
  runbook: 'r',
  title: 'R',
  user: 'alice',
  params: {},
  roleArn: 'arn:aws:iam::000000000000:role/x',
  startedAt: '2026-11-30T08:00:00.000Z',
  source: { text: '# R\n', sha256: 'abc' },
  ...extra,
});

export const noted = (seq: number): Extract<JournalRecord, { type: 'session.noted' }> => ({
  seq,
  at: '2026-11-30T08:00:00.000Z',
  type: 'session.noted',
  roleId: 'AROA1',
  sessionsUntil: 'x',
  sessionsIssuedUntil: 'y',
});

/** 'ok', or the RB_ERR_* code the promise rejects with. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isRbError(err)) return err.code;
    throw err;
  }
}

/** The RbError the promise rejects with; any other outcome is an error. */
export async function failure(p: Promise<unknown>): Promise<RbError> {
  try {
    await p;
  } catch (err) {
    if (isRbError(err)) return err;
    throw err;
  }
  throw new Error('it did not fail');
}

/** A DynamoDB store prefix of its own (still under runbooks-, the tables the base principal may use). */
export const newPrefix = (): string => `runbooks-t${randomUUID().slice(0, 8)}-`;

/**
 * An HTTP handler for the SDK that lets the first `lost` PutItem calls reach DynamoDB and then loses
 * their answers (a timeout), so that the SDK retries a put that was in fact written; `stillToLose`
 * says how many answers it has yet to lose.
 */
export function losingPutAnswers(lost: number): { handler: NodeHttpHandler; stillToLose(): number } {
  const inner = new NodeHttpHandler();
  let lose = lost;
  const handler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(...[request, options]: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
      const out = await inner.handle(request, options);
      if (lose > 0 && String(request.headers['x-amz-target']).endsWith('.PutItem')) {
        lose -= 1;
        (out.response.body as NodeJS.ReadableStream).resume();
        throw Object.assign(new Error('the answer was lost'), { name: 'TimeoutError' });
      }
      return out;
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => inner.destroy(),
  } as Partial<NodeHttpHandler> as NodeHttpHandler;
  return { handler, stillToLose: () => lose };
}
