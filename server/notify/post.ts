/**
 * One attempt to deliver a webhook: a POST with a deadline over the whole exchange. A fresh
 * connection each time (no agent): deliveries are rare, and nothing lingers when the server stops.
 * Redirects are not followed: the body was signed for the URL in the webhooks file.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PostResult {
  /** the HTTP status, when an answer came */
  status?: number;
  /** the network error code (`ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT` for the deadline, …) otherwise */
  error?: string;
}

export function post(url: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; signal?: AbortSignal }): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const status = res.statusCode ?? 0;
      // The answer's body means nothing to us; read it to the end so the exchange completes.
      res.on('data', () => undefined);
      res.on('end', () => done({ status }));
      res.on('error', () => done({ status }));
      res.on('aborted', () => done({ status }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? 'ERROR' }));
    const timer = setTimeout(() => {
      done({ error: 'ETIMEDOUT' });
      req.destroy();
    }, options.timeoutMs);
    const onAbort = () => {
      done({ error: 'ABORTED' });
      req.destroy();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}
