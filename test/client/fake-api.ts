/**
 * What the unit tests of the client's logic run against instead of the server: an object of the
 * shape of client/api.ts whose methods the test writes (any other call fails the test), recording
 * every call, and builders of the plain data the API answers with. The server's own behaviour is
 * tested by the e2e tests against the real one.
 */
import { ApiError, type Api } from '../../client/api.js';
import type { Approval, Execution, Me, Run, RunbookView, StepView } from '../../client/api-types.js';

export type FakeApi = Api & { calls: string[] };

/** An API whose methods are `methods`; every call is recorded in `calls` as `method arg…`. */
export function fakeApi(methods: Partial<Api>): FakeApi {
  const calls: string[] = [];
  const handler: ProxyHandler<object> = {
    get(_, name: string) {
      if (name === 'calls') return calls;
      return (...args: unknown[]) => {
        calls.push([name, ...args.map((a) => (typeof a === 'object' ? JSON.stringify(a) : String(a)))].join(' '));
        const method = (methods as Record<string, ((...a: unknown[]) => unknown) | undefined>)[name];
        if (!method) throw new Error(`unexpected call: api.${name}`);
        return method(...args);
      };
    },
  };
  return new Proxy({}, handler) as FakeApi;
}

/** An error as the server answers it. */
export function apiError(code: string, details?: unknown, status = 409): ApiError {
  return new ApiError(status, code, `${code} (from the test)`, details);
}

export const alice: Me = { user: 'alice', roles: ['runner'] };
export const bob: Me = { user: 'bob', roles: ['approver'] };

export function step(name: string, more: Partial<StepView> = {}): StepView {
  return {
    name,
    title: `Title of ${name}`,
    language: 'dynamodb',
    source: '',
    line: 1,
    operation: more.write ? 'UpdateItem' : 'Query',
    write: false,
    needsApproval: false,
    maxItems: 100,
    ...more,
  };
}

export function runbook(steps: StepView[], more: Partial<RunbookView> = {}): RunbookView {
  return {
    id: 'shop/orders',
    title: 'Orders',
    tags: [],
    params: [{ name: 'customerId', type: 'string', required: true, line: 2 }],
    access: { role: 'arn:aws:iam::000000000000:role/reader', duration: 900, approval: 'none' },
    sections: steps.map((s) => ({ kind: 'step' as const, step: s })),
    problems: [],
    ...more,
  };
}

export function run(more: Partial<Run> = {}): Run {
  return {
    id: 'r1',
    runbook: 'shop/orders',
    title: 'Orders',
    user: 'alice',
    status: 'active',
    params: { customerId: 'C1' },
    roleArn: '',
    startedAt: '2026-12-01T10:00:00Z',
    lastActivityAt: '',
    executions: [],
    approvals: {},
    ...more,
  };
}

export function execution(stepName: string, n: number, more: Partial<Execution> = {}): Execution {
  return {
    n,
    step: stepName,
    user: 'alice',
    status: 'succeeded',
    startedAt: '2026-12-01T10:00:00Z',
    request: { operation: 'Query', input: { TableName: 'T' } },
    items: [{ pk: 'a' }],
    itemCount: 1,
    count: 1,
    hasMore: false,
    pages: 1,
    confirmed: false,
    ...more,
  };
}

export function approval(stepName: string, status: Approval['status'], more: Partial<Approval> = {}): Approval {
  return {
    step: stepName,
    status,
    requestedBy: 'alice',
    requestedAt: '2026-12-01T10:00:00Z',
    renderedAt: '2026-12-01T10:00:00Z',
    expiresAt: '2026-12-01T11:00:00Z',
    stepSource: '',
    request: { operation: 'PutItem', input: { TableName: 'T', Item: {} } },
    policy: {},
    ...more,
  };
}
